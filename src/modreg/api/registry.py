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

__all__ = ['get_entry', 'init', 'load_entries', 'open_registry', 'validate']


def open_registry(registry: str | Path | None = None) -> RegistryPaths:
    """The registry at `registry`, $MODREG_REGISTRY, or the nearest one upwards."""
    return find_root(registry)


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
        add_missing_lines(paths.root / ".gitattributes", GITATTRIBUTES)
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
    are checked against the whole registry. With `strict`, warnings count as errors.
    """
    from modreg.registry.checks.validate import check_registry

    root = open_registry(registry)
    files = [Path(p) for p in paths] or None
    return with_plugin_integrity(root, check_registry(root, files, strict=strict), files)


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
