"""Finding a registry, creating one, validating it, reading its descriptors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from modreg.registry.store.layout import RegistryPaths, find_root

if TYPE_CHECKING:

    from modreg.errors import Problem
    from modreg.registry.store.descriptor import Descriptor
    from modreg.registry.checks.validate import ValidationReport

__all__ = ['get_entry', 'init', 'load_entries', 'open_registry', 'registry_roots', 'validate']


def open_registry(registry: str | Path | None = None) -> RegistryPaths:
    """The registry at `registry`, $MODREG_REGISTRY, or the nearest one upwards."""
    return find_root(registry)


def registry_roots(paths: Sequence[str | Path], *, registry: str | Path | None = None) -> dict[RegistryPaths, list[Path]]:
    """The registry of each path, the paths grouped by it (for hooks that get file names).

    `registry` or $MODREG_REGISTRY, when set, is the one registry of every path; otherwise each
    path belongs to the nearest folder above it holding modreg.toml (as git finds its root).
    """
    import os

    from modreg.registry.store.layout import ENV_VAR

    files = [Path(p) for p in paths]
    if registry is not None or os.environ.get(ENV_VAR):
        return {find_root(registry): files}
    groups: dict[RegistryPaths, list[Path]] = {}
    for path in files:
        start = path if path.is_dir() else path.parent
        groups.setdefault(find_root(None, cwd=start.resolve()), []).append(path)
    return groups


def init(path: str | Path = ".", *, git_hooks: bool = False) -> RegistryPaths:
    """Create an empty registry at `path` (`modreg init`).

    With `git_hooks`, also install the git merge driver and post-merge hook that keep the
    generated files fresh after merges (on an existing registry: only those).
    """
    from modreg.registry.store.git_setup import setup_git
    from modreg.registry.store.init import GITATTRIBUTES, add_missing_lines, init_registry
    from modreg.registry.store.layout import CONFIG_NAME

    root = Path(path)
    if git_hooks and (root / CONFIG_NAME).exists():
        paths = RegistryPaths(root.resolve())
        add_missing_lines(paths.root / ".gitattributes", GITATTRIBUTES, paths.root)
    else:
        paths = init_registry(root)
    if git_hooks:
        setup_git(paths)
    return paths


def validate(
    paths: Sequence[str | Path] = (),
    *,
    registry: str | Path | None = None,
    strict: bool = False,
) -> ValidationReport:
    """Every problem of the registry, or of `paths` in it (`modreg validate`).

    `paths` may be descriptor, template, plugin-manifest or config files, or folders; they
    are checked against the whole registry they belong to (without `registry` or
    $MODREG_REGISTRY: the nearest modreg.toml above each, so files of several registries can
    be given at once). With `strict`, warnings count as errors.
    """
    from modreg.registry.checks.validate import ValidationReport, check_registry

    if not paths:
        root = open_registry(registry)
        return with_plugin_integrity(root, check_registry(root, None, strict=strict))
    reports = [with_plugin_integrity(root, check_registry(root, files, strict=strict), files)
               for root, files in registry_roots(paths, registry=registry).items()]
    if len(reports) == 1:
        return reports[0]
    problems = [problem for report in reports for problem in report.problems]
    return ValidationReport(problems, sum(r.files for r in reports), sum(r.broken for r in reports),
                            sum(r.tampered for r in reports))


def with_plugin_integrity(paths: RegistryPaths, report: ValidationReport, files: Sequence[Path] | None = None) -> ValidationReport:
    """`report` plus a problem for every registry plugin whose files do not match their manifest's
    sha256 (no plugin code runs), when the whole registry or a plugin's folder was checked."""
    import dataclasses

    from modreg.plugins.integrity import integrity_problems
    from modreg.registry.checks.validate import sort_problems

    problems = integrity_problems(paths, files)
    if not problems:
        return report
    return dataclasses.replace(report, problems=sort_problems([*report.problems, *problems]), tampered=len(problems))


def load_entries(registry: str | Path | None = None) -> tuple[list[Descriptor], list[Problem]]:
    """Every descriptor of the registry, and a Problem per file that cannot be read."""
    from modreg.registry.store.descriptor import load_all

    return load_all(open_registry(registry))


def get_entry(name: str, *, registry: str | Path | None = None) -> Descriptor:
    """The descriptor of the entry `name`; NotFound suggests the closest name."""
    from modreg.registry.store.descriptor import load_descriptor
    from modreg.registry.search.entries import find_entry

    return load_descriptor(find_entry(open_registry(registry), name))
