"""The Python API: one function per CLI command, one module per area.

Functions return dataclasses or plain dicts and raise `modreg.errors.ModregError`; they never
print or exit. Heavy modules (numpy, jsonschema, the runtime) are imported inside the functions
that need them, so that `import modreg.api` stays cheap.

- `registry`: open_registry, registry_roots, init, validate, load_entries, get_entry
- `entries`: register, show, list_entries, search, update, version, history, diff, diff_git
- `lifecycle`: deprecate, archive, restore, delete, audit
- `outputs`: index, report, build, stats, generated
- `runtime`: models, schema, templates, run, bench
- `plugins`: plugin_list, plugin_verify, plugin_lock, plugin_health, discover
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import modreg.plugins  # noqa: F401  it tells validation about installed plugins' models

if TYPE_CHECKING:
    from modreg.api.lifecycle import archive, audit, delete, deprecate, restore
    from modreg.api.entries import diff, diff_git, history, list_entries, register, search, show, update, version
    from modreg.api.outputs import build, generated, index, report, stats
    from modreg.api.plugins import discover, plugin_health, plugin_list, plugin_lock, plugin_verify
    from modreg.api.registry import get_entry, init, load_entries, open_registry, registry_roots, validate
    from modreg.api.runtime import bench, models, run, schema, templates

__all__ = [
    "archive", "audit", "bench", "build", "delete", "deprecate", "diff", "diff_git", "discover", "generated", "get_entry",
    "history", "index", "init", "list_entries", "load_entries", "models", "open_registry", "plugin_health",
    "plugin_list", "plugin_lock", "plugin_verify", "register", "registry_roots", "report", "restore", "run", "schema", "search",
    "show", "stats", "templates", "update", "validate", "version",
]

_AREAS = {
    "lifecycle": ("archive", "audit", "delete", "deprecate", "restore"),
    "entries": ("diff", "diff_git", "history", "list_entries", "register", "search", "show", "update", "version"),
    "outputs": ("build", "generated", "index", "report", "stats"),
    "plugins": ("discover", "plugin_health", "plugin_list", "plugin_lock", "plugin_verify"),
    "registry": ("get_entry", "init", "load_entries", "open_registry", "registry_roots", "validate"),
    "runtime": ("bench", "models", "run", "schema", "templates"),
}
_MODULE_OF = {name: area for area, names in _AREAS.items() for name in names}


def __getattr__(name: str) -> Any:
    """Each area's module is imported on first use, so `import modreg.api` stays cheap (PEP 562)."""
    area = _MODULE_OF.get(name)
    if area is None:
        raise AttributeError(f"module 'modreg.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"modreg.api.{area}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
