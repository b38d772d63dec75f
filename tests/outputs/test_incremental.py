"""Outputs built incrementally (through the cache, after each change) are the bytes of a cold build."""

from __future__ import annotations

import shutil
from pathlib import Path

from modreg import api
from modreg.outputs.build import KINDS, generate
from modreg.outputs.indexes import INDEX_FILES
from modreg.outputs.reports import REPORT_FILES
from modreg.registry.store.layout import RegistryPaths

OUTPUTS = (*INDEX_FILES, *REPORT_FILES)


def _cold(root: Path, scratch: Path) -> dict[str, bytes]:
    """The outputs of a copy of `root` built with no cache and no earlier outputs."""
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(root, scratch, ignore=shutil.ignore_patterns(".modreg", "index", "reports"))
    generate(RegistryPaths(scratch), KINDS, command="build")
    return {relative: (scratch / relative).read_bytes() for relative in OUTPUTS}


def _incremental(root: Path) -> dict[str, bytes]:
    generate(RegistryPaths(root), KINDS, command="build")
    return {relative: (root / relative).read_bytes() for relative in OUTPUTS}


def test_incremental_outputs_equal_a_cold_build_after_every_kind_of_change(example_registry: Path, tmp_path: Path) -> None:
    root = tmp_path / "registry"
    shutil.copytree(example_registry, root, ignore=shutil.ignore_patterns(".modreg"))
    models = root / "models"
    toml = next(path for path in sorted(models.glob("*.toml")) if path.stem != "NHITS")
    yaml = next(iter(sorted(models.glob("*.yaml"))), None)
    changes = [
        lambda: api.update("NHITS", registry=root, summary="An edited summary", add_tags=["edited"]),
        lambda: toml.write_text(toml.read_text(encoding="utf-8").replace("summary = ", "summary = \"By hand\"\n# was: ", 1), encoding="utf-8"),
        lambda: api.register("Brand-New", registry=root, category="custom", summary="New", description="A new entry.",
                             authors=["A <a@example.org>"], tags=["new"], capabilities=["univariate"]),
        lambda: api.version("NHITS", registry=root, bump="minor", message="a new version"),
        lambda: api.delete("Brand-New", registry=root),
        lambda: (models / "NHITS.toml").rename(models / "NHITS.tmp") or (models / "NHITS.tmp").rename(models / "NHITS.toml"),
    ]
    if yaml is not None:
        changes.append(lambda: yaml.write_text(yaml.read_text(encoding="utf-8") + "\n# a comment added by hand\n", encoding="utf-8"))
    _incremental(root)  # the cache and the outputs exist before the first change
    for number, change in enumerate(changes):
        change()
        incremental = _incremental(root)
        cold = _cold(root, tmp_path / f"cold-{number}")
        assert incremental == cold, f"change {number}: incremental outputs differ from a cold build"
