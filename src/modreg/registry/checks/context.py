"""What per-file checks know about the rest of a registry: its policy, plugin models, templates.

`build_context` reads the plugin manifests and templates once; the context then travels to
the worker processes with each chunk of files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from modreg._fs import refuse_links
from modreg.errors import ModregError, Problem
from modreg.registry.checks import _schemacheck
from modreg.registry.checks.model_sources import external_models
from modreg.registry.checks.config import RegistryConfig
from modreg.registry.store.files import (
    problem_from_error,
    read_document,
)
from modreg.registry.store.layout import RegistryPaths

__all__ = ["PLUGIN_SCHEMA_NAME", "EntrySummary", "ValidationContext", "build_context", "context_for", "plugin_manifests"]

PLUGIN_SCHEMA_NAME = "params.schema.json"  # a plugin's models' parameter schemas, written by `plugin lock`


@dataclass(frozen=True)
class ValidationContext:
    """What per-file checks need to know about the rest of the registry."""

    config: RegistryConfig
    plugin_models: dict[str, str] = field(default_factory=dict)  # runtime model -> plugin
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> template data
    plugin_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)  # plugin model -> its params schema

    def is_known_model(self, model: str) -> bool:
        known = model in _schemacheck.runtime_models() or model in self.plugin_models
        return known or model in external_models()

    def known_models(self) -> list[str]:
        return sorted({*_schemacheck.runtime_models(), *self.plugin_models, *external_models()})


class EntrySummary(NamedTuple):
    """The facts about one descriptor that cross-file checks need (a tuple of strings: cheap
    to send back from worker processes)."""

    path: str
    stem: str
    selected: bool
    name: str | None = None
    version: str | None = None
    status: str | None = None
    replacement: str | None = None
    sunset: str | None = None
    dependencies: tuple[tuple[str, str], ...] = ()
    runtime_model: str | None = None  # None: no [runtime] table
    members: tuple[tuple[int, str], ...] = ()  # an Ensemble's member entries: (position, name)


def build_context(paths: RegistryPaths, config: RegistryConfig) -> tuple[ValidationContext, list[Problem]]:
    """Plugin-provided runtime models and the templates, and a Problem per unreadable file
    (which `validate_registry` reports when it checks that file itself)."""
    problems: list[Problem] = []
    plugin_models: dict[str, str] = {}
    for manifest in plugin_manifests(paths, config):
        data = _read_quietly(manifest, problems)
        for model in data.get("models", []) if isinstance(data.get("models"), list) else []:
            if isinstance(model, dict) and isinstance(model.get("name"), str):
                plugin_models.setdefault(model["name"], manifest.parent.name)
    templates: dict[str, dict[str, Any]] = {}
    for template in paths.template_files():
        templates[template.stem] = _read_quietly(template, problems)
    schemas = {name: schema for manifest in plugin_manifests(paths, config)
               for name, schema in _plugin_schemas(paths.root, manifest.parent / PLUGIN_SCHEMA_NAME).items()}
    return ValidationContext(config, plugin_models, templates, schemas), problems


def _plugin_schemas(root: Path, path: Path) -> dict[str, dict[str, Any]]:
    """model -> params schema from a plugin's `params.schema.json` (none when absent or bad:
    the plugin's checksums and `plugin verify` report a damaged file). Read only as a plain
    file inside the registry: a link, a pipe or a file over 1 MB is left unread."""
    import json

    from modreg._fs import read_inside

    try:
        raw = read_inside(root, path, 1_000_000)
        data = json.loads(raw) if raw is not None else None
    except (ModregError, OSError, ValueError):
        return {}
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        return {}
    return {name: entry["params"] for name, entry in models.items()
            if isinstance(entry, dict) and isinstance(entry.get("params"), dict)}


def _read_quietly(path: Path, problems: list[Problem]) -> dict[str, Any]:
    try:
        return read_document(path).data
    except ModregError as error:
        problems.append(problem_from_error(error, path))
        return {}


def context_for(config: RegistryConfig) -> ValidationContext:
    if config.root is None:
        return ValidationContext(config)
    return build_context(RegistryPaths(config.root), config)[0]


def plugin_manifests(paths: RegistryPaths, config: RegistryConfig) -> list[Path]:
    found: list[Path] = []
    for directory in config.plugin_directories:
        folder = paths.root / directory
        refuse_links(paths.root, folder)  # a linked plugin directory would read manifests outside the registry
        if folder.is_dir():
            found.extend(sorted(folder.glob("*/plugin.toml")))
    return found
