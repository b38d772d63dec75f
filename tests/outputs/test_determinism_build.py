"""`build --check` agrees with a checkout that git converted to CRLF, and a build that cannot
write every output leaves all of them as they were."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg import api
from modreg.cli.app import app
from modreg.outputs.indexes import INDEX_FILES
from modreg.outputs.reports import REPORT_FILES

OUTPUTS = (*INDEX_FILES, *REPORT_FILES)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture
def built(example_registry: Path, tmp_path: Path) -> Path:
    """A copy of the example registry with its outputs freshly built."""
    root = tmp_path / "registry"
    shutil.copytree(example_registry, root, ignore=shutil.ignore_patterns(".modreg", "audit.jsonl"))
    api.build(registry=root)
    return root


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {relative: ((root / relative).read_bytes(), (root / relative).stat().st_mtime_ns) for relative in OUTPUTS}


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **GIT_ENV})


def test_outputs_checked_out_with_crlf_are_fresh_and_left_alone(built: Path) -> None:
    for relative in OUTPUTS:
        path = built / relative
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    before = _snapshot(built)
    assert api.build(registry=built, check=True).stale == []
    assert api.index(registry=built, check=True).ok and api.report(registry=built, check=True).ok
    assert api.build(registry=built).written == []
    assert _snapshot(built) == before


def test_a_crlf_output_whose_text_differs_is_still_stale(built: Path) -> None:
    path = built / "reports" / "registry_summary.md"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n").replace(b"Registry summary", b"Registry summery"))
    assert api.report(registry=built, check=True).stale == ["reports/registry_summary.md"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_clone_made_with_core_autocrlf_passes_the_check(built: Path, tmp_path: Path) -> None:
    _git(built, "init", "-q", "-b", "main")
    _git(built, "add", "-A")
    _git(built, "commit", "-q", "-m", "built")
    clone = tmp_path / "clone"
    _git(tmp_path, "-c", "core.autocrlf=true", "clone", "-q", str(built), str(clone))
    assert b"\r\n" in (clone / "index" / "registry.json").read_bytes()  # git did convert the checkout
    assert api.index(registry=clone, check=True).stale == []
    assert api.report(registry=clone, check=True).stale == []


def test_a_build_that_cannot_write_one_output_writes_none(built: Path) -> None:
    models = built / "models" / "NHITS.toml"
    models.write_text(models.read_text(encoding="utf-8").replace('summary = "', 'summary = "Edited: ', 1), encoding="utf-8")
    shutil.rmtree(built / "reports")
    (built / "reports").write_text("a file where the folder should be\n", encoding="utf-8")
    before = {relative: (built / relative).read_bytes() for relative in INDEX_FILES}
    result = CliRunner().invoke(app, ["-r", str(built), "build"])
    assert result.exit_code == 2, result.output
    assert "registry_report.md" in result.stderr and "Traceback" not in result.output
    assert {relative: (built / relative).read_bytes() for relative in INDEX_FILES} == before
    assert not [path.name for path in (built / "index").iterdir() if path.name.startswith(".modreg-tmp-")]
    (built / "reports").unlink()
    assert api.build(registry=built).written == ["index/registry.json", "index/model_index.json", *REPORT_FILES]
    assert api.build(registry=built, check=True).ok


def test_build_again_and_after_a_check_touches_nothing(built: Path) -> None:
    before = _snapshot(built)
    assert api.build(registry=built, check=True).stale == []
    assert api.build(registry=built).written == []
    assert api.build(registry=built).written == []
    assert _snapshot(built) == before
