"""`modreg discover [PATH_OR_PACKAGE] [--register] [--dry-run]`: find models, register new ones.

What is searched:
- nothing given: every plugin folder of the registry, through the verified loader;
- a folder holding `plugin.toml` (or a folder of such folders): those plugins, verified the
  same way under the registry's policy;
- otherwise an importable package (or module) name: every module of it is imported, so that
  its `@register_model` decorators run (e.g. `modreg discover modreg.runtime.models`).

Every model registered from there is listed. With `--register`, each one without a registry
entry gets a new descriptor (canonical order, through the registry's one transaction): its
category and capabilities, the parameter defaults and the plugin's example parameters as
`runtime.params`, and the summary and description from the class docstring. Existing entries
are left as they are and reported. A model that `modreg run` could not find again (neither
built in, nor from a registry plugin, nor from an installed entry point) is not registered.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg._plain import plain
from modreg.errors import ModregError, NotFound, UsageError
from modreg.plugins.base import MANIFEST_NAME
from modreg.registry.store.lock import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from modreg.plugins.manifest import Manifest
    from modreg.registry.checks.config import RegistryConfig
    from modreg.registry.store.layout import RegistryPaths
    from modreg.registry.mutation.transaction import Mutation
    from modreg.runtime.factory import ModelInfo

__all__ = ["DiscoverResult", "DiscoveredModel", "discover_models"]

_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_SECTIONS = ("Args:", "Arguments:", "Returns:", "Raises:", "References:", "Example:", "Examples:")


@dataclass(frozen=True)
class DiscoveredModel:
    """A model found by discover, and what happened to it.

    `status`: "found" (listing only), "exists" (an entry of that name is kept as it is),
    "registered", "would register" (--dry-run), "skipped" (modreg run could not find it
    again, or it `missing` a required parameter no default gives; `error` says why) or "failed"
    (the new descriptor was refused; `error`).
    """

    name: str
    category: str
    capabilities: tuple[str, ...]
    qualified_name: str
    source: str
    summary: str | None = None
    status: str = "found"
    entry: str | None = None
    mutation: Mutation | None = field(default=None, compare=False)
    error: ModregError | None = field(default=None, compare=False)
    descriptor: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    missing: tuple[str, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "category": self.category, "capabilities": list(self.capabilities),
                "class": self.qualified_name, "source": self.source, "summary": self.summary, "status": self.status,
                "entry": self.entry, "diff": self.mutation.diff if self.mutation else None,
                "error": self.error.to_dict() if self.error else None}


@dataclass(frozen=True)
class DiscoverResult:
    """The models found, and the plugins that could not be loaded."""

    target: str
    models: list[DiscoveredModel]
    failures: list[ModregError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures and all(m.status != "failed" for m in self.models)

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "models": [m.to_dict() for m in self.models], "ok": self.ok,
                "failures": [f.to_dict() for f in self.failures]}


def discover_models(paths: RegistryPaths | None, target: str | None = None, *, register: bool = False,
                    dry_run: bool = False, authors: Sequence[str] = (), tags: Sequence[str] = (),
                    lock_timeout: float = DEFAULT_TIMEOUT, today: dt.date | None = None) -> DiscoverResult:
    """Find the models of `target` and, with `register` (or `dry_run`), add entries for new ones.

    New entries get `authors` (else the plugin's or the distribution's authors) and `tags` in
    addition to one naming where the model came from.
    """
    from modreg.registry.checks.config import RegistryConfig, load_config

    config = load_config(paths) if paths is not None else RegistryConfig()
    folders = _plugin_folders(paths, config, target)
    if folders is not None:
        found, failures = _from_plugins(folders, config)
    else:
        found, failures = _from_package(str(target)), []
    result = DiscoverResult(target or "plugins", found, failures)
    if not (register or dry_run):
        return result
    if paths is None:
        raise NotFound("discover --register needs a registry, and none was found.",
                       hint="pass --registry PATH or set $MODREG_REGISTRY.")
    day = today or dt.date.today()
    found = [_with_fields(model, authors, tags) for model in found]
    models = [_register(paths, config, model, dry_run, lock_timeout, day) for model in found]
    return replace(result, models=models)


# ----- Finding -----


def _plugin_folders(paths: RegistryPaths | None, config: RegistryConfig, target: str | None) -> list[Path] | None:
    """The plugin folders to search, or None when `target` is a package name."""
    from modreg.plugins.loader import plugin_folders

    if target is None:
        if paths is None:
            raise NotFound("discover without PATH_OR_PACKAGE searches the registry's plugins, and no registry was found.",
                           hint="pass --registry PATH, a plugin folder, or a package name.")
        return plugin_folders(paths, config)
    path = Path(target)
    if not path.exists():
        return None
    if (path / MANIFEST_NAME).is_file():
        return [path]
    folders = sorted(p.parent for p in path.glob(f"*/{MANIFEST_NAME}")) if path.is_dir() else []
    if not folders:
        raise UsageError(f"{target} is neither a plugin folder nor a folder of plugins.", path=path,
                         hint=f"a plugin folder holds {MANIFEST_NAME}; to import a package, pass its dotted name.")
    return folders


def _from_plugins(folders: list[Path], config: RegistryConfig) -> tuple[list[DiscoveredModel], list[ModregError]]:
    from modreg.plugins.loader import load_plugin
    from modreg.runtime.factory import list_models

    found: list[DiscoveredModel] = []
    failures: list[ModregError] = []
    for folder in folders:
        try:
            loaded = load_plugin(folder, config)
        except ModregError as error:
            failures.append(error)
            continue
        infos = list_models()
        found.extend(_describe(infos[name], loaded.manifest.name, loaded.manifest) for name in loaded.models)
    return found, failures


def _from_package(package: str) -> list[DiscoveredModel]:
    from modreg.plugins._registration import code_error
    from modreg.runtime.factory import discover, list_models

    try:
        discover(package)
    except ModuleNotFoundError as error:
        if error.name is not None and (package == error.name or package.startswith(error.name + ".")):
            raise NotFound(f"No package or module named `{package}`, and no such folder.",
                           hint="pass an importable package name, or a plugin folder.") from None
        raise code_error(package, f"importing {package}", error) from error
    except Exception as error:
        raise code_error(package, f"importing {package}", error) from error
    inside = [info for info in list_models().values()
              if info.cls.__module__ == package or info.cls.__module__.startswith(package + ".")]
    authors = _package_authors(package)
    return [_with_fields(_describe(info, package, None), authors, ()) for info in inside]


def _describe(info: ModelInfo, source: str, manifest: Manifest | None) -> DiscoveredModel:
    summary, description = _docstring(info.cls)
    declared = next((m for m in manifest.models if m.name == info.name), None) if manifest else None
    summary = summary or (declared.summary if declared else None)
    params = _params(info.cls, declared.params if declared else {})
    descriptor = {
        "summary": summary, "description": description, "params": params,
        "authors": list(manifest.authors) if manifest else [], "version": manifest.version if manifest else "0.1.0",
        "tags": [tag for tag in (source.split(".")[0],) if _TAG.match(tag)],
    }
    return DiscoveredModel(info.name, info.category, info.capabilities, info.qualified_name, source, summary,
                           descriptor=descriptor, missing=tuple(_missing_required(info.cls, params)))


def _with_fields(model: DiscoveredModel, authors: Sequence[str], tags: Sequence[str]) -> DiscoveredModel:
    """The model with `authors` (when given) replacing its own, and `tags` added."""
    descriptor = dict(model.descriptor)
    if authors:
        descriptor["authors"] = list(dict.fromkeys(authors))
    descriptor["tags"] = list(dict.fromkeys([*descriptor["tags"], *tags]))
    return replace(model, descriptor=descriptor)


def _package_authors(package: str) -> list[str]:
    """The authors in the metadata of the distribution that installs `package`, if any."""
    from importlib.metadata import PackageNotFoundError, metadata, packages_distributions

    for dist in packages_distributions().get(package.split(".")[0], []):
        try:
            meta = metadata(dist)
        except PackageNotFoundError:
            continue
        found = meta.get("Author-email") or meta.get("Author")
        if found:
            return [a.strip() for a in found.split(",") if a.strip()]
    return []


def _docstring(cls: type) -> tuple[str | None, str | None]:
    """(first line, the prose paragraphs before Args:/References:) of the class docstring."""
    text = inspect.cleandoc(cls.__doc__ or "")
    if not text:
        return None, None
    first, _, rest = text.partition("\n")
    prose = []
    for paragraph in rest.strip().split("\n\n"):
        if paragraph.strip().startswith(_SECTIONS):
            break
        prose.append(" ".join(line.strip() for line in paragraph.splitlines()))
    return first.strip(), "\n\n".join(p for p in prose if p) or None


def _params(cls: type, example: dict[str, Any]) -> dict[str, Any]:
    """In signature order: the example value, else the default (None left out, at any depth, since
    TOML has no null), else a fallback for `h`/`input_size`."""
    from modreg.plugins.health_child import FALLBACK_PARAMS
    from modreg.runtime.params import defaults_of, schema_for

    defaults = {key: _without_nulls(plain(value)) for key, value in defaults_of(cls).items() if value is not None}
    params: dict[str, Any] = {}
    for key in schema_for(cls)["properties"]:
        for layer in (example, defaults, FALLBACK_PARAMS):
            if key in layer and layer[key] is not _NULL:
                params[key] = layer[key]
                break
    return params


_NULL = object()


def _without_nulls(value: Any) -> Any:
    """`value` with its tables' null entries left out; `_NULL` when a list holds a null."""
    if isinstance(value, dict):
        kept = {key: _without_nulls(item) for key, item in value.items() if item is not None}
        return {key: item for key, item in kept.items() if item is not _NULL}
    if isinstance(value, list):
        items = [_without_nulls(item) for item in value]
        return _NULL if any(item is None or item is _NULL for item in items) else items
    return value


def _missing_required(cls: type, params: dict[str, Any]) -> list[str]:
    """The parameters `cls` requires that have neither an example, a default nor a fallback."""
    from modreg.runtime.params import schema_for

    return [key for key in schema_for(cls).get("required", []) if key not in params]


# ----- Registering -----


def _register(paths: RegistryPaths, config: RegistryConfig, model: DiscoveredModel, dry_run: bool, lock_timeout: float,
              day: dt.date) -> DiscoveredModel:
    from modreg.registry.mutation.changes import new_entry
    from modreg.registry.mutation.transaction import create_entry

    existing = _existing_entry(paths, model.name)
    if existing is not None:
        return replace(model, status="exists", entry=existing.relative_to(paths.root).as_posix())
    if not _runnable(paths, config, model.name):
        error = UsageError(f"`{model.name}` comes from {model.source}, which modreg run cannot find by itself.",
                           hint="make it a registry plugin, or install it with a `modreg.models.v1` entry point.")
        return replace(model, status="skipped", error=error)
    if model.missing:
        error = UsageError(f"`{model.name}` needs {', '.join(f'`{key}`' for key in model.missing)}, which has no "
                           "default, so discover cannot describe it.",
                           hint=f"write its descriptor by hand (`modreg register {model.name} ...`, then "
                                f"`modreg update {model.name} --set runtime.params.KEY=VALUE`).")
        return replace(model, status="skipped", error=error)
    d = model.descriptor
    data = new_entry(model.name, category=model.category, today=day, version=d["version"],
                     summary=_cut(d["summary"], config.summary_max_length),
                     description=_cut(d["description"], config.description_max_length), authors=d["authors"],
                     tags=d["tags"], capabilities=model.capabilities, runtime_model=model.name,
                     params=d["params"] or None)
    try:
        mutation = create_entry(paths, data, "toml", command="discover", dry_run=dry_run, lock_timeout=lock_timeout)
    except ModregError as error:
        return replace(model, status="failed", error=error)
    return replace(model, status="would register" if dry_run else "registered", mutation=mutation,
                   entry=mutation.path.relative_to(paths.root).as_posix())


def _existing_entry(paths: RegistryPaths, name: str) -> Path | None:
    folded = name.casefold()
    return next((p for p in paths.descriptor_files() if p.stem.casefold() == folded), None)


def _runnable(paths: RegistryPaths, config: RegistryConfig, name: str) -> bool:
    from modreg.registry.checks.context import build_context

    return build_context(paths, config)[0].is_known_model(name)


def _cut(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"
