"""Plugin integrity for `modreg validate`: every registry plugin's files against their sha256.

Validation belongs to the registry layer, which never imports the plugins; the api adds these
problems to its report. Only the checks that run no plugin code are made (the manifest and the
checksums of every file, and the signature under `security = "signature"`); a plugin refused
for its policy (an untrusted author, a capability not allowed) is `modreg plugin verify`'s to
report, since its files are intact.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from modreg.errors import ModregError, Problem
from modreg.plugins.base import PluginIntegrityError
from modreg.registry.store.layout import RegistryPaths

__all__ = ["integrity_problems"]


def integrity_problems(paths: RegistryPaths, files: Sequence[Path] | None = None) -> list[Problem]:
    """One error per plugin with a changed, missing, unlisted or linked file (all plugins, or
    those whose folder holds one of `files`)."""
    from modreg.plugins.loader import plugin_folders, verify_plugin
    from modreg.registry.checks.config import load_config
    from modreg.registry.store.files import problem_from_error

    try:
        config = load_config(paths)
    except ModregError:
        return []  # the config's own problems are validate's
    problems = []
    for folder in plugin_folders(paths, config):
        if files is not None and not any(_inside(file, folder) for file in files):
            continue
        try:
            verify_plugin(folder, config)
        except PluginIntegrityError as error:
            problems.append(problem_from_error(error, folder / "plugin.toml"))
        except ModregError:
            continue
    return problems


def _inside(file: Path, folder: Path) -> bool:
    resolved = file.resolve()
    return resolved == folder.resolve() or folder.resolve() in resolved.parents
