"""`plugin.toml`: read once, checked against plugin.schema.json, errors at their line.

    name = "seasonal_ets"                 # the folder's name
    version = "1.0.0"
    summary = "Holt-Winters exponential smoothing"
    authors = ["Forecasting Team <forecast@example.org>"]
    license = "MIT"
    min_runtime_version = "0.1.0"         # the oldest modreg it works with
    capabilities = ["univariate"]

    [[models]]
    name = "SeasonalETS"                  # what descriptors write as runtime.model
    category = "basic"
    module = "seasonal_ets"               # seasonal_ets.py (or seasonal_ets/__init__.py)
    capabilities = ["univariate", "multi_step"]
    params = { h = 12, season_length = 12 }   # example parameters (health check, discover)

    [files]                               # written by `modreg plugin lock`
    "seasonal_ets.py" = "<sha256>"

The manifest's bytes are read once (`read_manifest`); the signature check and the parser see
the same bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modreg.plugins.base import (
    MANIFEST_NAME,
    PluginIntegrityError,
    PluginManifestError,
    PluginNotFound,
)
from modreg.plugins.checksums import MANIFEST_LIMIT, read_regular

__all__ = ["MANIFEST_ORDER", "Manifest", "ManifestModel", "parse_manifest", "read_manifest"]

MANIFEST_ORDER = ("name", "version", "summary", "authors", "license", "min_runtime_version", "capabilities",
                  "models", "files")


@dataclass(frozen=True)
class ManifestModel:
    """One `[[models]]` entry: a runtime model the plugin registers."""

    name: str
    category: str
    module: str
    capabilities: tuple[str, ...] = ()
    summary: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def module_files(self) -> tuple[str, str]:
        """The two files the module may be: `a/b.py` or `a/b/__init__.py`."""
        base = self.module.replace(".", "/")
        return f"{base}.py", f"{base}/__init__.py"


@dataclass(frozen=True)
class Manifest:
    """A checked `plugin.toml`; `files` is None when it has no `[files]` table yet."""

    name: str
    version: str
    summary: str
    folder: Path
    models: tuple[ManifestModel, ...]
    authors: tuple[str, ...] = ()
    license: str | None = None
    min_runtime_version: str | None = None
    capabilities: tuple[str, ...] = ()
    files: dict[str, str] | None = None
    doc: Any = field(default=None, compare=False, repr=False)

    @property
    def path(self) -> Path:
        return self.folder / MANIFEST_NAME

    def line_of(self, *json_path: str | int) -> int | None:
        """The line of a key in plugin.toml (for errors that point at it)."""
        from modreg.registry.store.files import locate

        return locate(self.doc, json_path)[0] if self.doc is not None else None


def read_manifest(folder: Path) -> tuple[Manifest, bytes]:
    """The manifest of the plugin folder and the exact bytes it was parsed from.

    Raises:
        PluginNotFound: the folder has no plugin.toml.
        PluginIntegrityError: the folder or plugin.toml is a symlink, or plugin.toml is not a regular file.
        PluginManifestError: not valid TOML, or not a valid manifest (file, line, hint).
    """
    path = folder / MANIFEST_NAME
    if not path.exists() and not path.is_symlink():
        raise PluginNotFound(folder.name, f"{folder} has no {MANIFEST_NAME}.", path=folder,
                             hint="a plugin folder holds plugin.toml next to its Python files.")
    if folder.is_symlink():  # O_NOFOLLOW guards only the last step: never read a manifest through a linked folder
        raise PluginIntegrityError(folder.name, f"{folder.name} is a symlink (to {os.readlink(folder)}); plugins may not "
                                   "contain symlinks.", path=folder, hint="copy the plugin folder into the registry instead.")
    raw = read_regular(path, folder.name, MANIFEST_NAME, MANIFEST_LIMIT)
    return parse_manifest(raw, folder), raw


def parse_manifest(raw: bytes, folder: Path) -> Manifest:
    """Parse and check manifest bytes as `folder/plugin.toml`."""
    from modreg.errors import ModregError
    from modreg.registry.store.files import parse_text

    path = folder / MANIFEST_NAME
    try:
        doc = parse_text(raw.decode("utf-8"), path, "toml")
    except UnicodeDecodeError:
        raise PluginManifestError(folder.name, f"{MANIFEST_NAME} is not valid UTF-8.", path=path) from None
    except ModregError as error:
        raise PluginManifestError(folder.name, error.message, hint=error.hint, path=path, line=error.line,
                                  col=error.col) from None
    _check(doc, folder)
    return _manifest(doc.data, folder, doc)


def _check(doc: Any, folder: Path) -> None:
    from modreg.registry.checks._schemacheck import schema_problems

    problems = schema_problems("plugin", doc.data, doc, path=doc.path)
    if problems:
        first = problems[0]
        more = f" ({len(problems) - 1} more problems; run `modreg validate`)" if len(problems) > 1 else ""
        raise PluginManifestError(folder.name, f"{first.message}{more}", hint=first.hint, path=doc.path,
                                  line=first.line, col=first.col)
    data = doc.data
    if data["name"] != folder.name:
        raise PluginManifestError(folder.name, f"its manifest is named `{data['name']}`, but its folder `{folder.name}`.",
                                  hint=f"rename the folder, or set name = \"{folder.name}\".", path=doc.path,
                                  line=_line(doc, "name"))
    names = [model["name"] for model in data["models"]]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise PluginManifestError(folder.name, f"the model `{name}` is declared twice.", path=doc.path,
                                      line=_line(doc, "models", index, "name"), hint="keep one [[models]] entry per model.")


def _line(doc: Any, *json_path: str | int) -> int:
    from modreg.registry.store.files import locate

    return locate(doc, json_path)[0]


def _manifest(data: dict[str, Any], folder: Path, doc: Any) -> Manifest:
    models = tuple(
        ManifestModel(name=m["name"], category=m["category"], module=m["module"],
                      capabilities=tuple(m.get("capabilities", ())), summary=m.get("summary"),
                      params=dict(m.get("params", {})))
        for m in data["models"]
    )
    return Manifest(
        name=data["name"], version=data["version"], summary=data["summary"], folder=folder, models=models,
        authors=tuple(data.get("authors", ())), license=data.get("license"),
        min_runtime_version=data.get("min_runtime_version"), capabilities=tuple(data.get("capabilities", ())),
        files=dict(data["files"]) if "files" in data else None, doc=doc,
    )
