"""The plugin contract: what a plugin is, what modreg reports about one, and how it fails.

A registry plugin is a folder `plugins/<name>/` with `plugin.toml` and Python files. Each
module named by a `[[models]]` entry defines a `Forecaster` subclass and registers it:

    from modreg.runtime.factory import register_model
    from modreg.runtime.models.base import Forecast, Forecaster

    from ._smoothing import smooth        # intra-plugin imports are relative

    @register_model("SeasonalETS", category="basic", capabilities=("univariate", "multi_step"))
    class SeasonalETS(Forecaster):
        ...

The module runs as `modreg_plugins.<name>.<module>`, compiled from the bytes whose sha256
`plugin.toml` lists; it is never imported from disk, so a changed file, a stale `.pyc` or a
symlink cannot run. The models a plugin registers must be exactly those its manifest
declares, with the same category.

An installed plugin is a distribution with entry points in the group `modreg.models.v1`,
one per model: `SeasonalETS = "mypackage.ets:SeasonalETS"` (the entry point's name is the
runtime model's name, so modreg knows which distribution provides a model without importing
any). It is imported the first time one of its models is needed, once.

Every failure is a `PluginError` naming the plugin, the file and the mismatch; its exit code
says what kind: 5 integrity (checksum, unlisted or missing file, symlink, `__pycache__`,
signature), 1 refused by policy or broken code, 2 an invalid manifest, 3 no such plugin.
"""

from __future__ import annotations

from modreg.registry.checks.context import PLUGIN_SCHEMA_NAME

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modreg.errors import CheckFailed, IntegrityError, ModregError, NotFound, UsageError

__all__ = [
    "SCHEMA_NAME",
    "ENTRY_POINT_GROUP",
    "MANIFEST_NAME",
    "PACKAGE",
    "SIGNATURE_NAME",
    "SIGNATURE_NAMESPACE",
    "PluginError",
    "PluginInfo",
    "PluginIntegrityError",
    "PluginLoadError",
    "PluginManifestError",
    "PluginNotFound",
    "PluginRefused",
]

ENTRY_POINT_GROUP = "modreg.models.v1"
MANIFEST_NAME = "plugin.toml"
SIGNATURE_NAME = "plugin.toml.sig"
SCHEMA_NAME = PLUGIN_SCHEMA_NAME  # written by `plugin lock`, read by validate
SIGNATURE_NAMESPACE = "modreg-plugin"
PACKAGE = "modreg_plugins"


class PluginError(ModregError):
    """A plugin that cannot be used; the message starts with the plugin's name (pluggy)."""

    def __init__(
        self,
        plugin: str,
        message: str,
        *,
        hint: str | None = None,
        path: str | Path | None = None,
        line: int | None = None,
        col: int | None = None,
    ) -> None:
        super().__init__(f"plugin `{plugin}`: {message}", hint=hint, path=path, line=line, col=col)
        self.plugin = plugin


class PluginIntegrityError(PluginError, IntegrityError):
    """A file changed, missing, unlisted, a symlink, cached bytecode, or a bad signature (exit 5)."""


class PluginRefused(PluginError, CheckFailed):
    """The registry's policy or the running modreg refuses the plugin (exit 1)."""


class PluginLoadError(PluginError, CheckFailed):
    """The plugin's code raised, or registered other models than its manifest says (exit 1)."""


class PluginManifestError(PluginError, UsageError):
    """`plugin.toml` is not a valid manifest (exit 2, at its file and line)."""


class PluginNotFound(PluginError, NotFound):
    """No plugin of that name (exit 3)."""


@dataclass(frozen=True)
class PluginInfo:
    """What modreg knows about one plugin, as `plugin list` and `plugin verify` report it.

    Attributes:
        name: the folder's name (registry plugin) or the distribution's (installed plugin).
        source: "registry" or "entry_point".
        location: `plugins/<name>` relative to the registry root, or `<distribution> <version>`.
        version: the manifest's or the distribution's version (None when unreadable).
        models: the runtime models it provides (from the manifest or the entry points).
        summary: the manifest's summary, or the distribution's.
        authors: the manifest's authors (empty for installed plugins).
        status: "verified" (every check passed, no code ran), "loaded" (imported, models
            registered), "installed (not verified)" (an entry point not imported yet: installed code is
            trusted as installed, no checksum is checked), "refused" (a check
            failed before any code ran), "failed" (its code raised or broke the contract).
        error: why it is refused or failed.
    """

    name: str
    source: str
    location: str
    version: str | None = None
    models: tuple[str, ...] = ()
    summary: str | None = None
    authors: tuple[str, ...] = ()
    status: str = "verified"
    error: ModregError | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "source": self.source, "location": self.location, "version": self.version,
            "models": list(self.models), "summary": self.summary, "authors": list(self.authors),
            "status": self.status, "ok": self.ok, "error": self.error.to_dict() if self.error else None,
        }
