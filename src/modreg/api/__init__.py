"""The Python API: one function per CLI command, one module per area.

Functions return dataclasses or plain dicts and raise `modreg.errors.ModregError`; they never
print or exit. Heavy modules (numpy, jsonschema, the runtime) are imported inside the functions
that need them, so that `import modreg.api` stays cheap.

- `registry`: open_registry, registry_roots, init, validate, load_entries, get_entry
- `models`: register, show, list_entries, search, update, version, history, diff, diff_git
- `lifecycle`: deprecate, archive, restore, delete, audit
- `outputs`: index, report, build, stats, generated
- `runtime`: models, schema, templates, run, bench
- `plugins`: plugin_list, plugin_verify, plugin_lock, plugin_health, discover
"""

from __future__ import annotations

from modreg.api.lifecycle import archive, audit, delete, deprecate, restore
from modreg.api.models import diff, diff_git, history, list_entries, register, search, show, update, version
from modreg.api.outputs import build, generated, index, report, stats
from modreg.api.plugins import discover, plugin_health, plugin_list, plugin_lock, plugin_verify
from modreg.api.registry import get_entry, init, load_entries, open_registry, registry_roots, validate
from modreg.api.runtime import bench, models, run, schema, templates
from modreg.plugins.entrypoints import entry_point_models
from modreg.registry.checks.model_sources import add_model_source

__all__ = [
    "archive", "audit", "bench", "build", "delete", "deprecate", "diff", "diff_git", "discover", "generated", "get_entry",
    "history", "index", "init", "list_entries", "load_entries", "models", "open_registry", "plugin_health",
    "plugin_list", "plugin_lock", "plugin_verify", "register", "registry_roots", "report", "restore", "run", "schema", "search",
    "show", "stats", "templates", "update", "validate", "version",
]

# Validation asks for installed plugins' models (entry points) through this source; the
# registry layer itself never imports the plugins.
add_model_source(entry_point_models)
