"""Loading registry plugins: every check first, then the checked bytes, run from memory.

`verify_plugin` does everything that runs no plugin code, in this order:

1. read `plugin.toml` once (no symlink) and, with `security = "signature"`, verify
   `plugin.toml.sig` over those bytes (`signature`);
2. parse and check the manifest (`manifest`);
3. refuse a plugin that needs a newer modreg (`min_runtime_version`), an untrusted author
   (`trusted_authors`) or a capability the registry does not allow (`allowed_capabilities`)
   (`policy`);
4. list the folder (refusing symlinks, special files, `__pycache__`, bytecode) and, unless
   `security = "none"`, check that every file is listed with the sha256 of the bytes read,
   and that none is missing (`checksums`).

`load_plugin` then hands the verified sources to the in-memory importer (`finder`), imports
each module the manifest names as `modreg_plugins.<plugin>.<module>`, and checks that the
plugin registered exactly the models it declares; on any failure its modules and models are
removed again. A plugin is loaded once per process; its failure is remembered.
`registry_provider` tells which plugin folder declares a model; `modreg.forecast.resolve` uses it.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from modreg._fs import refuse_links
from modreg.plugins.base import MANIFEST_NAME, PluginError, PluginLoadError, PluginManifestError, PluginRefused
from modreg.plugins.manifest import Manifest, read_manifest

if TYPE_CHECKING:
    from modreg.plugins._registration import Snapshot
    from modreg.plugins.manifest import ManifestModel
    from modreg.runtime.factory import ModelInfo
    from modreg.registry.checks.config import RegistryConfig
    from modreg.registry.store.layout import RegistryPaths

__all__ = ["LoadedPlugin", "VerifiedPlugin", "load_plugin", "load_result", "plugin_folders", 
           "registry_provider", "verify_plugin"]

_LOCK = threading.RLock()
_LOADED: dict[Path, LoadedPlugin | PluginError] = {}


@dataclass(frozen=True)
class VerifiedPlugin:
    """A plugin that passed every check: its manifest and its Python sources, read once."""

    manifest: Manifest
    sources: dict[str, bytes]
    signer: str | None = None


@dataclass(frozen=True)
class LoadedPlugin:
    """A plugin whose code ran: the package it runs as and the models it registered."""

    manifest: Manifest
    package: str
    models: tuple[str, ...]


# ----- Checks that run no plugin code -----


def verify_plugin(folder: Path, config: RegistryConfig) -> VerifiedPlugin:
    """Every check of the module docstring's steps 1-4; no plugin code runs.

    Raises:
        PluginIntegrityError, PluginRefused, PluginManifestError (see `modreg.plugins.base`).
    """
    from modreg.plugins.checksums import verify_files
    from modreg.plugins.policy import allowed_signers, check_policy, check_runtime_version

    manifest, raw = read_manifest(folder)
    signer = None
    if config.plugin_security == "signature":
        from modreg.plugins.signature import verify_signature

        signer = verify_signature(raw, folder, manifest.authors, allowed_signers(config))
    check_runtime_version(manifest)
    check_policy(manifest, config)
    sources = verify_files(manifest, strict=config.plugin_security != "none")
    _check_modules(manifest, sources)
    return VerifiedPlugin(manifest, sources, signer)


def _check_modules(manifest: Manifest, sources: dict[str, bytes]) -> None:
    for index, model in enumerate(manifest.models):
        if not any(candidate in sources for candidate in model.module_files()):
            raise PluginManifestError(manifest.name, f"the module `{model.module}` of `{model.name}` has no file "
                                      f"{model.module_files()[0]} in the plugin.", path=manifest.path,
                                      line=manifest.line_of("models", index, "module"),
                                      hint="set module to the file's name without .py (dotted for subfolders).")


# ----- Loading -----


def load_plugin(folder: Path, config: RegistryConfig) -> LoadedPlugin:
    """Verify, then run the plugin's verified code (once per process); see the module docstring."""
    key = folder.resolve()
    with _LOCK:
        if key not in _LOADED:
            try:
                _LOADED[key] = _load(folder, config)
            except PluginError as error:
                _LOADED[key] = error
        result = _LOADED[key]
    if isinstance(result, PluginError):
        raise result
    return result


def load_result(folder: Path) -> LoadedPlugin | PluginError | None:
    """What loading the plugin gave in this process (None: not tried)."""
    return _LOADED.get(folder.resolve())


def _load(folder: Path, config: RegistryConfig) -> LoadedPlugin:
    from modreg.plugins._registration import snapshot
    from modreg.plugins.finder import FINDER, package_name

    verified = verify_plugin(folder, config)
    manifest = verified.manifest
    package = package_name(manifest.name)
    if FINDER.provides(package):
        raise PluginLoadError(manifest.name, f"another plugin folder is already loaded as {package}.", path=folder,
                              hint="plugin names must differ in letters, digits and underscores.")
    before = snapshot()
    FINDER.install()
    FINDER.add(package, folder, verified.sources)
    try:
        _run_modules(manifest, package, folder)
        models = _check_registered(manifest, before, config.allowed_capabilities)
    except PluginError:
        _undo(package, before)
        raise
    return LoadedPlugin(manifest, package, models)


def _run_modules(manifest: Manifest, package: str, folder: Path) -> None:
    from modreg.plugins._registration import code_error

    for module in dict.fromkeys(model.module for model in manifest.models):
        try:
            importlib.import_module(f"{package}.{module}")
        except (Exception, SystemExit) as error:
            raise code_error(manifest.name, f"running {module}", error, folder) from error


def _undo(package: str, before: Snapshot) -> None:
    from modreg.plugins.finder import FINDER

    FINDER.remove(package)
    before.restore()


def _check_registered(manifest: Manifest, before: Snapshot, allowed: tuple[str, ...]) -> tuple[str, ...]:
    replaced = before.replaced()
    if replaced:
        raise PluginLoadError(manifest.name, f"it replaced the runtime model `{replaced[0]}`, which was registered before.",
                              hint="a plugin may only add models; register it under a new name.")
    added = before.added()
    for index, model in enumerate(manifest.models):
        info = added.get(model.name)
        line = manifest.line_of("models", index)
        if info is None:
            raise PluginLoadError(manifest.name, f"{MANIFEST_NAME} declares `{model.name}`, but `{model.module}` did not "
                                  "register it.", path=manifest.path, line=line,
                                  hint=f"decorate the class with @register_model(\"{model.name}\", "
                                       f"category=\"{model.category}\", ...).")
        _check_model_info(manifest, model, info, line, allowed)
    extra = sorted(set(added) - {model.name for model in manifest.models})
    if extra:
        raise PluginLoadError(manifest.name, f"it registered `{extra[0]}`, which {MANIFEST_NAME} does not declare.",
                              path=manifest.path, hint="add a [[models]] entry for it, or remove the registration.")
    return tuple(model.name for model in manifest.models)


def _check_model_info(manifest: Manifest, model: ManifestModel, info: ModelInfo, line: int | None,
                      allowed: tuple[str, ...]) -> None:
    agree = "make the manifest and @register_model agree."
    refused = [c for c in info.capabilities if allowed and c not in allowed]
    if refused:
        raise PluginRefused(manifest.name, f"`{model.name}` registers the capability `{refused[0]}`, which modreg.toml "
                            "does not allow.", path=manifest.path, line=line,
                            hint=f"allowed: {', '.join(allowed)} ([plugins] allowed_capabilities).")
    if info.category != model.category:
        raise PluginLoadError(manifest.name, f"`{model.name}` is registered as category {info.category}, but "
                              f"{MANIFEST_NAME} says {model.category}.", path=manifest.path, line=line, hint=agree)
    if model.capabilities and set(model.capabilities) != set(info.capabilities):
        raise PluginLoadError(manifest.name, f"`{model.name}` is registered with the capabilities "
                              f"{', '.join(info.capabilities) or 'none'}, but {MANIFEST_NAME} lists "
                              f"{', '.join(model.capabilities)}.", path=manifest.path, line=line, hint=agree)


# ----- Finding plugins -----


def plugin_folders(paths: RegistryPaths, config: RegistryConfig) -> list[Path]:
    """Every folder with a plugin.toml in the registry's plugin directories, sorted by name."""
    folders: list[Path] = []
    for directory in config.plugin_directories:
        base = paths.root / directory
        refuse_links(paths.root, base)  # a linked plugin directory would load code from outside the registry
        if base.is_dir():
            folders.extend(p.parent for p in base.glob(f"*/{MANIFEST_NAME}"))
    return sorted(folders, key=lambda p: (p.name, str(p)))


def registry_provider(paths: RegistryPaths, config: RegistryConfig, model: str) -> Path | None:
    """The plugin folder whose manifest declares `model` (read without running any code)."""
    import tomllib

    from modreg.plugins.checksums import MANIFEST_LIMIT, read_regular

    for folder in plugin_folders(paths, config):
        try:  # a plain file only: a manifest linked out, a pipe or a huge file is never read
            data = tomllib.loads(read_regular(folder / MANIFEST_NAME, folder.name, MANIFEST_NAME, MANIFEST_LIMIT).decode("utf-8"))
        except (PluginError, OSError, ValueError):  # TOMLDecodeError, bad UTF-8, a >4300-digit integer
            continue  # an unreadable manifest is reported by `plugin verify`
        models = data.get("models") if isinstance(data.get("models"), list) else []
        if any(isinstance(m, dict) and m.get("name") == model for m in models):
            return folder
    return None
