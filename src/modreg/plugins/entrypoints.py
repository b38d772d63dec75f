"""Installed plugins: distributions declaring entry points in the group `modreg.models.v1`.

One entry point per runtime model; its name is the model's name, its value the module (and
optionally the class) that registers it:

    # pyproject.toml of the plugin's distribution
    [project.entry-points."modreg.models.v1"]
    SeasonalETS = "modreg_ets.model:SeasonalETS"

Reading the entry points costs no import, so modreg knows which distribution provides a model
(validation counts these models as known). A distribution's code is imported the first time
one of its models is needed, once per process; a failure is remembered and reported, and
never affects other plugins or commands that do not need that model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from modreg.plugins.base import ENTRY_POINT_GROUP, PluginError, PluginLoadError

__all__ = ["InstalledModel", "entry_point_models", "installed_models", "installed_plugins", "load_distribution",
           "load_installed", "load_result"]

_LOCK = threading.RLock()
_RESULTS: dict[tuple[str, str], PluginError | None] = {}


@dataclass(frozen=True)
class InstalledModel:
    """One entry point of the group: a runtime model an installed distribution provides."""

    name: str
    value: str
    distribution: str
    version: str | None
    entry_point: Any = field(default=None, compare=False, repr=False)

    @property
    def summary(self) -> str | None:
        """The distribution's one-line summary (read from its metadata when asked)."""
        dist = getattr(self.entry_point, "dist", None)
        return dist.metadata.get("Summary") if dist is not None else None

    @property
    def module(self) -> str:
        return self.value.partition(":")[0].strip()

    @property
    def attribute(self) -> str | None:
        return self.value.partition(":")[2].strip() or None


def installed_models() -> dict[str, InstalledModel]:
    """Model name -> the entry point providing it (the first distribution found wins)."""
    from importlib.metadata import entry_points

    found: dict[str, InstalledModel] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(point, "dist", None)
        name = dist.name if dist is not None else point.value.split(".")[0]
        version = dist.version if dist is not None else None
        found.setdefault(point.name, InstalledModel(point.name, point.value, name, version, point))
    return found


def entry_point_models() -> dict[str, str]:
    """Model name -> distribution name, read from metadata only (for validation)."""
    return {name: model.distribution for name, model in installed_models().items()}


def installed_plugins() -> dict[str, list[InstalledModel]]:
    """Distribution name -> its models, both sorted."""
    plugins: dict[str, list[InstalledModel]] = {}
    for model in sorted(installed_models().values(), key=lambda m: (m.distribution.lower(), m.name)):
        plugins.setdefault(model.distribution, []).append(model)
    return plugins


def load_result(model: InstalledModel) -> tuple[str, PluginError | None]:
    """("installed", None) before an import was tried, then ("loaded", None) or ("failed", error)."""
    key = (model.distribution, model.name)
    if key not in _RESULTS:
        return "installed", None
    error = _RESULTS[key]
    return ("loaded", None) if error is None else ("failed", error)


def load_installed(model: InstalledModel) -> None:
    """Import the entry point's code (once) and check that it registered the model.

    Raises:
        PluginLoadError: the import raised, or the model was not registered as the entry point says.
    """
    key = (model.distribution, model.name)
    with _LOCK:
        if key not in _RESULTS:
            try:
                _load(model)
                _RESULTS[key] = None
            except PluginError as error:
                _RESULTS[key] = error
        failed = _RESULTS[key]
    if failed is not None:
        raise failed


def load_distribution(distribution: str) -> list[str]:
    """Load every model of an installed distribution; their names (first failure raised)."""
    models = installed_plugins().get(distribution, [])
    for model in models:
        load_installed(model)
    return [model.name for model in models]


def _load(model: InstalledModel) -> None:
    from modreg.plugins._registration import code_error, snapshot

    before = snapshot()
    try:
        loaded = model.entry_point.load()
        _check(model, loaded, before)
    except PluginError:
        before.restore()
        raise
    except (Exception, SystemExit) as error:
        before.restore()
        raise code_error(model.distribution, f"importing the entry point {model.name} = {model.value}", error) from error


def _check(model: InstalledModel, loaded: Any, before: Any) -> None:
    from modreg.runtime.factory import list_models

    where = f"the entry point {model.name} = {model.value}"
    replaced = before.replaced()
    if replaced:
        raise PluginLoadError(model.distribution, f"{where} replaced the runtime model `{replaced[0]}`.",
                              hint="a plugin may only add models; register it under a new name.")
    registered = list_models()
    if model.name not in registered:
        raise PluginLoadError(model.distribution, f"{where} did not register a runtime model named `{model.name}`.",
                              hint=f"decorate the class with @register_model(\"{model.name}\", category=...), "
                                   "or rename the entry point.")
    if model.attribute is not None and registered[model.name].cls is not loaded:
        raise PluginLoadError(model.distribution, f"{where} names {model.attribute}, but `{model.name}` is registered "
                              f"as {registered[model.name].qualified_name}.",
                              hint="point the entry point at the registered class.")
