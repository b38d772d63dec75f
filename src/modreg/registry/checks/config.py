"""The registry's policy, read from `modreg.toml` and checked against config.schema.json.

Keys missing from the file take the defaults below (the values `modreg init` writes), so an
old or minimal `modreg.toml` keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg.errors import ModregError, Problem, UsageError
from modreg.registry.store.files import SourceDoc, problem_from_error, read_document

if TYPE_CHECKING:
    from modreg.registry.store.layout import RegistryPaths

__all__ = ["RegistryConfig", "load_config", "check_config"]


@dataclass(frozen=True)
class RegistryConfig:
    """Policy of one registry (defaults: what `modreg init` writes)."""

    root: Path | None = None
    required_fields: tuple[str, ...] = ("summary", "authors")
    summary_max_length: int = 120
    description_max_length: int = 5000
    max_tags: int = 20
    allowed_tags: tuple[str, ...] | None = None
    max_history: int = 50
    plugin_security: str = "checksum"
    plugin_directories: tuple[str, ...] = ("plugins",)
    trusted_authors: tuple[str, ...] = ()
    allowed_capabilities: tuple[str, ...] = ()
    allowed_signers: str | None = None  # SSH allowed-signers file, relative to the root

    @classmethod
    def from_data(cls, data: dict[str, Any], root: Path | None = None) -> RegistryConfig:
        """Build from parsed (and schema-valid) `modreg.toml` data; absent keys take defaults."""
        validation = data.get("validation", {})
        plugins = data.get("plugins", {})
        defaults = cls()
        allowed = validation.get("allowed_tags")
        return cls(
            root=root,
            required_fields=tuple(validation.get("required_fields", defaults.required_fields)),
            summary_max_length=validation.get("summary_max_length", defaults.summary_max_length),
            description_max_length=validation.get("description_max_length", defaults.description_max_length),
            max_tags=validation.get("max_tags", defaults.max_tags),
            allowed_tags=tuple(allowed) if allowed is not None else None,
            max_history=data.get("history", {}).get("max_history", defaults.max_history),
            plugin_security=plugins.get("security", defaults.plugin_security),
            plugin_directories=tuple(plugins.get("directories", defaults.plugin_directories)),
            trusted_authors=tuple(plugins.get("trusted_authors", defaults.trusted_authors)),
            allowed_capabilities=tuple(plugins.get("allowed_capabilities", defaults.allowed_capabilities)),
            allowed_signers=plugins.get("allowed_signers", defaults.allowed_signers),
        )


def check_config(paths: RegistryPaths) -> tuple[RegistryConfig, list[Problem]]:
    """The registry's config and its problems; defaults stand in for an unusable file."""
    from modreg.registry.checks._schemacheck import schema_problems

    try:
        doc = read_document(paths.config)
    except ModregError as error:
        return RegistryConfig(root=paths.root), [problem_from_error(error, paths.config)]
    problems = schema_problems("config", doc.data, doc) or _escaping_directories(doc)
    if problems:
        return RegistryConfig(root=paths.root), problems
    return RegistryConfig.from_data(doc.data, paths.root), []


def _escaping_directories(doc: SourceDoc) -> list[Problem]:
    """A plugin directory must be a folder inside the registry: a cloned modreg.toml naming
    `/home` or `../..` would have modreg read plugin manifests and code outside it."""
    import os

    from modreg.registry.store.files import display_path, locate

    problems = []
    for index, directory in enumerate(doc.data.get("plugins", {}).get("directories", [])):
        normal = os.path.normpath(directory)
        if os.path.isabs(directory) or normal == ".." or normal.startswith(".." + os.sep):
            line, col = locate(doc, ("plugins", "directories", index))
            problems.append(Problem(display_path(doc.path), line, col, f"plugin directory `{directory}` leads outside the registry",
                                    hint="name a folder inside the registry, relative to its root (e.g. plugins)."))
    return problems


def load_config(paths: RegistryPaths) -> RegistryConfig:
    """The registry's config; UsageError (file, line, hint) when modreg.toml is invalid."""
    config, problems = check_config(paths)
    if problems:
        first = problems[0]
        more = f" ({len(problems) - 1} more problems; run `modreg validate`)" if len(problems) > 1 else ""
        raise UsageError(
            f"{first.message}{more}",
            hint=first.hint or "fix modreg.toml; `modreg schema config` prints what it may hold.",
            path=first.path,
            line=first.line,
            col=first.col,
        )
    return config

