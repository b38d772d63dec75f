"""The one model resolver: a runtime model by name, from built-ins, registry plugins or entry points.

The runtime's factory knows only what is registered in this process. Finding a model that is
not built in means reading the registry's plugin manifests and installed entry points, which
is this layer's job (the runtime never reads the registry):

1. built-in models (and anything already registered);
2. the registry plugin whose `plugin.toml` declares the model (verified, then loaded);
3. an installed distribution's `modreg.models.v1` entry point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modreg.errors import NotFound

if TYPE_CHECKING:
    from modreg.registry.store.layout import RegistryPaths
    from modreg.runtime.factory import ModelInfo

__all__ = ["provide_model", "resolve_model"]


def provide_model(model: str, paths: RegistryPaths | None = None) -> bool:
    """Make the runtime model `model` available: built in, or load the plugin providing it.

    Registry plugins of `paths` (default: the registry found from $MODREG_REGISTRY or the
    working directory, if any) come first, then installed entry points. False when nothing
    provides it.

    Raises:
        PluginError: the providing plugin is refused or broken.
    """
    from modreg.runtime.factory import is_registered

    if is_registered(model):
        return True
    paths = paths if paths is not None else _ambient_registry()
    if paths is not None and _load_registry_plugin(model, paths):
        return True
    from modreg.plugins.entrypoints import installed_models, load_installed

    installed = installed_models().get(model)
    if installed is None:
        return False
    load_installed(installed)
    return True


def resolve_model(model: str, paths: RegistryPaths | None = None) -> ModelInfo:
    """The runtime model `model` wherever it comes from (NotFound with a did-you-mean otherwise).

    Raises:
        NotFound: nothing provides it.
        PluginError: the providing plugin is refused or broken.
    """
    from modreg.runtime.factory import get_model

    provide_model(model, paths)
    return get_model(model)


def _load_registry_plugin(model: str, paths: RegistryPaths) -> bool:
    from modreg.plugins.loader import load_plugin, registry_provider
    from modreg.registry.checks.config import load_config

    config = load_config(paths)
    folder = registry_provider(paths, config, model)
    if folder is None:
        return False
    load_plugin(folder, config)
    return True


def _ambient_registry() -> RegistryPaths | None:
    from modreg.registry.store.layout import find_root

    try:
        return find_root(None)
    except NotFound:
        return None
