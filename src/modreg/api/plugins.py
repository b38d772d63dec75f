"""Plugins: list, verify, lock, health checks and discovery."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from modreg.registry.store.layout import RegistryPaths
from modreg.api.registry import open_registry
from modreg.registry.store.lock import DEFAULT_TIMEOUT as LOCK_TIMEOUT

if TYPE_CHECKING:
    import datetime as dt

    from modreg.plugins.base import PluginInfo
    from modreg.plugins.plugin_lock import LockResult
    from modreg.plugins.discover import DiscoverResult
    from modreg.plugins.health import HealthReport

__all__ = ['discover', 'plugin_health', 'plugin_list', 'plugin_lock', 'plugin_verify']


def _plugin_registry(registry: str | Path | None) -> RegistryPaths | None:
    """The registry, or None when none was named and none is found (installed plugins only)."""
    from modreg.errors import NotFound

    if registry is not None:
        return open_registry(registry)
    try:
        return open_registry(None)
    except NotFound:
        return None


def plugin_list(*, registry: str | Path | None = None) -> list[PluginInfo]:
    """Every plugin: the registry's plugin folders, then installed ones (`modreg plugin list`).

    Each is verified without running its code; its `status` and `error` say what was found.
    """
    from modreg.plugins.inventory import inspect_plugins

    return inspect_plugins(_plugin_registry(registry))


def plugin_verify(name: str | None = None, *, registry: str | Path | None = None) -> list[PluginInfo]:
    """Verify every plugin, or the one named, without running plugin code (`modreg plugin verify`).

    Batch semantics: every plugin is checked and reported; failures are in the results, not raised.
    """
    from modreg.plugins.inventory import inspect_plugins

    return inspect_plugins(_plugin_registry(registry), name)


def plugin_lock(name: str, *, registry: str | Path | None = None, dry_run: bool = False,
                lock_timeout: float = LOCK_TIMEOUT, schemas: bool = False) -> LockResult:
    """Write the sha256 of every file of the registry plugin `name` into its plugin.toml (`modreg plugin lock`);
    with `schemas`, also record its models' parameter schemas (params.schema.json) for validation."""
    from modreg.plugins.plugin_lock import lock_plugin
    from modreg.plugins.inventory import plugin_targets

    paths = open_registry(registry)
    folders = [t.folder for t in plugin_targets(paths, name) if t.folder is not None]
    if not folders:
        from modreg.plugins.base import PluginNotFound

        raise PluginNotFound(name, "it is an installed package, not a plugin folder of the registry, so it has no checksums to lock.")
    return lock_plugin(paths, folders[0], dry_run=dry_run, lock_timeout=lock_timeout, schemas=schemas)


def plugin_health(name: str | None = None, *, registry: str | Path | None = None, timeout: float = 60.0) -> list[HealthReport]:
    """Try every plugin (or the one named) in a child process killed after `timeout` seconds (`modreg plugin health`)."""
    from modreg.plugins.health import check_health

    return check_health(_plugin_registry(registry), name, timeout=timeout)


def discover(target: str | None = None, *, registry: str | Path | None = None, register: bool = False,
             dry_run: bool = False, authors: Sequence[str] = (), tags: Sequence[str] = (), lock_timeout: float = LOCK_TIMEOUT,
             today: dt.date | None = None) -> DiscoverResult:
    """Find the models of a package, a plugin folder or the registry's plugins; register new ones (`modreg discover`).

    New entries take `authors` (default: the plugin's or the package's) and `tags` as well.
    """
    from modreg.plugins.discover import discover_models

    paths = open_registry(registry) if register or dry_run else _plugin_registry(registry)
    return discover_models(paths, target, register=register, dry_run=dry_run, authors=authors, tags=tags,
                           lock_timeout=lock_timeout, today=today)
