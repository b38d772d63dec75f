"""Every plugin modreg can see, and what verifying each one found (`plugin list`, `plugin verify`).

Registry plugins are verified completely (manifest, policy, signature, every checksum) without
running their code. Installed plugins are checked from their metadata only: the entry points parse,
no entry point shadows a built-in model, and the top-level module of each can be found (finding
it imports nothing). Their code is trusted as installed code, so they are listed as "installed
(not verified)" until loaded. A plugin that
fails is reported as one `PluginInfo` with its error; the others are unaffected.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from modreg.errors import ModregError
from modreg.plugins.base import PluginError, PluginInfo, PluginLoadError, PluginNotFound

INSTALLED = "installed (not verified)"  # an installed package is trusted as installed code: nothing is checked

if TYPE_CHECKING:
    from modreg.plugins.entrypoints import InstalledModel
    from modreg.plugins.manifest import Manifest
    from modreg.registry.checks.config import RegistryConfig
    from modreg.registry.store.layout import RegistryPaths

__all__ = ["PluginTarget", "inspect_plugins", "plugin_targets"]


@dataclass(frozen=True)
class PluginTarget:
    """A plugin to inspect: a registry folder or an installed distribution."""

    name: str
    source: str  # "registry" | "entry_point"
    folder: Path | None = None
    models: tuple[InstalledModel, ...] = ()


def plugin_targets(paths: RegistryPaths | None, name: str | None = None) -> list[PluginTarget]:
    """The registry's plugin folders, then the installed distributions; only `name`'s when given.

    Raises:
        PluginNotFound: no plugin is called `name` (the hint lists the close ones).
    """
    from modreg.plugins.entrypoints import installed_plugins

    targets = [PluginTarget(folder.name, "registry", folder=folder) for folder in _folders(paths)]
    targets += [PluginTarget(dist, "entry_point", models=tuple(models)) for dist, models in installed_plugins().items()]
    if name is None:
        return targets
    chosen = [target for target in targets if target.name == name]
    if not chosen:
        names = sorted({target.name for target in targets})
        close = difflib.get_close_matches(name, names, n=1)
        mean = f"did you mean `{close[0]}`? " if close else ""
        raise PluginNotFound(name, "there is no such plugin in the registry or among installed packages.",
                             hint=f"{mean}plugins: {', '.join(names) or '(none)'}.")
    return chosen


def inspect_plugins(paths: RegistryPaths | None, name: str | None = None) -> list[PluginInfo]:
    """A verified `PluginInfo` for each plugin (see the module docstring)."""
    config = _config(paths)
    infos = []
    for target in plugin_targets(paths, name):
        if target.source == "registry":
            assert paths is not None and config is not None and target.folder is not None
            infos.append(_inspect_folder(target.folder, config, paths.root))
        else:
            infos.append(_inspect_distribution(target))
    return infos


def _folders(paths: RegistryPaths | None) -> list[Path]:
    from modreg.plugins.loader import plugin_folders

    config = _config(paths)
    return [] if paths is None or config is None else plugin_folders(paths, config)


def _config(paths: RegistryPaths | None) -> RegistryConfig | None:
    from modreg.registry.checks.config import load_config

    return None if paths is None else load_config(paths)


def _inspect_folder(folder: Path, config: RegistryConfig, root: Path) -> PluginInfo:
    from modreg.plugins.loader import load_result, verify_plugin
    from modreg.plugins.manifest import read_manifest

    location = folder.relative_to(root).as_posix() if folder.is_relative_to(root) else str(folder)
    try:
        manifest = verify_plugin(folder, config).manifest
    except ModregError as error:
        try:
            manifest = read_manifest(folder)[0]
        except ModregError:
            return PluginInfo(folder.name, "registry", location, status="refused", error=error)
        return _folder_info(manifest, location, "refused", error)
    loaded = load_result(folder)
    if isinstance(loaded, PluginError):
        return _folder_info(manifest, location, "failed", loaded)
    return _folder_info(manifest, location, "verified" if loaded is None else "loaded", None)


def _folder_info(manifest: Manifest, location: str, status: str, error: PluginError | None) -> PluginInfo:
    return PluginInfo(manifest.name, "registry", location, manifest.version, tuple(m.name for m in manifest.models),
                      manifest.summary, manifest.authors, status, error)


def _inspect_distribution(target: PluginTarget) -> PluginInfo:
    from modreg.plugins.entrypoints import load_result

    first = target.models[0]
    info = PluginInfo(target.name, "entry_point", f"{target.name} {first.version or '?'}", first.version,
                      tuple(m.name for m in target.models), first.summary)
    states = []
    for model in target.models:
        state, error = load_result(model)
        problem = error or _shadowing(target.name, model.name) or _unfindable(model)
        if problem is not None:
            return replace(info, status="failed" if error else "refused", error=problem)
        states.append(state)
    return replace(info, status="loaded" if "loaded" in states else INSTALLED)


def _shadowing(distribution: str, model: str) -> PluginError | None:
    """A refusal for an entry point named like a built-in model (the built-in always wins)."""
    from modreg.registry.checks._schemacheck import runtime_models

    if model not in runtime_models():
        return None
    return PluginError(distribution, f"its entry point `{model}` has the name of a built-in runtime model, which always wins; "
                       "it would never be used.", hint="rename the model in the distribution's `modreg.models.v1` entry points.")


def _unfindable(model: InstalledModel) -> PluginError | None:
    """An error when the entry point's top-level module cannot be found (nothing is imported)."""
    import importlib.util

    top = model.module.split(".")[0]
    if top.isidentifier() and importlib.util.find_spec(top) is not None:
        return None
    return PluginLoadError(model.distribution, f"the entry point {model.name} = {model.value} names the module "
                           f"`{model.module}`, which is not installed.", hint="reinstall the package that provides it.")
