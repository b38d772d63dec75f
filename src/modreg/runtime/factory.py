"""The one runtime-model registry: `@register_model`, lookup by name, creation from configs.

Models register themselves with a decorator (catalogue / pluggy shape):

    @register_model("NHITS", category="advanced", capabilities=("multi_step", "exogenous"))
    class NHITS(WindowForecaster): ...

Duplicates raise unless `overwrite=True`; unknown names raise NotFound listing the available
ones with a "did you mean". Descriptors and saved models name a registered model, never an
import path, so a descriptor edited in a pull request cannot make modreg import arbitrary code.
The built-in models are imported on first use (`modreg.runtime.models`); plugins call
`register_model` when `modreg.forecast.resolve` loads them (the runtime never looks for them).
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from modreg.errors import Conflict, NotFound, UsageError

if TYPE_CHECKING:
    from modreg.runtime.models.base import Forecaster

__all__ = [
    "CATEGORIES",
    "ModelInfo",
    "Registry",
    "create",
    "create_from_config",
    "discover",
    "find",
    "get_model",
    "is_registered",
    "list_models",
    "merge_params",
    "validate_params",
    "register_model",
    "unregister_model",
]

CATEGORIES = ("basic", "recurrent", "advanced", "transformer", "specialized", "custom")
BUILTIN_PACKAGE = "modreg.runtime.models"

T = TypeVar("T", bound=type)


@dataclass(frozen=True)
class ModelInfo:
    """One registered runtime model."""

    name: str
    cls: type
    category: str
    capabilities: tuple[str, ...]

    @property
    def qualified_name(self) -> str:
        return f"{self.cls.__module__}.{self.cls.__qualname__}"

    @property
    def is_builtin(self) -> bool:
        return self.cls.__module__.startswith(BUILTIN_PACKAGE + ".")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "category": self.category, "capabilities": list(self.capabilities),
                "class": self.qualified_name}


class Registry:
    """Name -> ModelInfo, filled by the `register` decorator."""

    def __init__(self, kind: str = "runtime model") -> None:
        self.kind = kind
        self._entries: dict[str, ModelInfo] = {}

    def register(
        self, name: str, *, category: str, capabilities: Iterable[str] = (), overwrite: bool = False
    ) -> Callable[[T], T]:
        """Class decorator registering `cls` under `name`.

        Raises:
            Conflict: `name` is taken and `overwrite` is false.
            ValueError: the category is not one of CATEGORIES.
        """
        if category not in CATEGORIES:
            raise ValueError(f"category {category!r} of {name!r} is not one of {', '.join(CATEGORIES)}")

        def decorate(cls: T) -> T:
            if name in self._entries and not overwrite:
                raise Conflict(
                    f"A {self.kind} named {name!r} is already registered ({self._entries[name].qualified_name}).",
                    hint="choose another name, or pass overwrite=True to replace it.",
                )
            self._entries[name] = ModelInfo(name, cls, category, tuple(capabilities))
            if "model_name" not in vars(cls):
                cls.model_name = name  # type: ignore[attr-defined]
            return cls

        return decorate

    def unregister(self, name: str) -> None:
        self.get(name)
        del self._entries[name]

    def get(self, name: str) -> ModelInfo:
        if name in self._entries:
            return self._entries[name]
        raise NotFound(f"No {self.kind} named {name!r}.", hint=self.suggest(name))

    def suggest(self, name: str) -> str:
        """'did you mean X? available: ...' for an unknown name."""
        names = self.names()
        close = difflib.get_close_matches(name, names, n=1) or [n for n in names if n.lower() == name.lower()]
        mean = f"did you mean {close[0]!r}? " if close else ""
        return f"{mean}available: {', '.join(names) or '(none)'}."

    def names(self) -> list[str]:
        return sorted(self._entries)

    def infos(self) -> list[ModelInfo]:
        return [self._entries[name] for name in self.names()]

    def find(self, name: str) -> tuple[str, int]:
        """The source file and first line of the class registered as `name`."""
        cls = self.get(name).cls
        return inspect.getsourcefile(cls) or "<unknown>", inspect.getsourcelines(cls)[1]

    def __contains__(self, name: object) -> bool:
        return name in self._entries


MODELS = Registry()


def register_model(
    name: str, *, category: str, capabilities: Iterable[str] = (), overwrite: bool = False
) -> Callable[[T], T]:
    """Register a runtime model class under `name` (see `Registry.register`)."""
    return MODELS.register(name, category=category, capabilities=capabilities, overwrite=overwrite)


def unregister_model(name: str) -> None:
    """Remove `name` from the registry (NotFound if absent)."""
    _load_builtins()
    MODELS.unregister(name)


def is_registered(name: str) -> bool:
    _load_builtins()
    return name in MODELS


def get_model(name: str) -> ModelInfo:
    """The registered model `name` (NotFound with a did-you-mean otherwise).

    Models from plugins are registered when their plugin loads (`modreg.forecast.resolve`).
    """
    _load_builtins()
    return MODELS.get(name)


def find(name: str) -> tuple[str, int]:
    """File and line where the model `name` is defined."""
    _load_builtins()
    return MODELS.find(name)


def list_models() -> dict[str, ModelInfo]:
    """Every registered model, sorted by name: name -> (category, capabilities, qualified name)."""
    _load_builtins()
    return {info.name: info for info in MODELS.infos()}


def validate_params(name: str, params: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate `params` for the runtime model `name`; return them coerced to their types.

    Raises:
        NotFound: no runtime model `name`.
        UsageError: an unknown parameter, a missing required one, or a value of the wrong kind.
    """
    from modreg.runtime.params import validate_against

    return validate_against(get_model(name).cls, params, owner=name, partial=partial)


def create(name: str, **params: Any) -> Forecaster:
    """Build the model `name` with `params`, validated against its parameter schema."""
    return get_model(name).cls(**validate_params(name, params))


def create_from_config(config: Mapping[str, Any], *, templates: Mapping[str, Mapping[str, Any]] | None = None) -> Forecaster:
    """Build a model from `{"model": NAME, "params": {...}, "precision"?: ..., "template"?: NAME | table}`.

    Parameters merge as template params < config params; `precision` (if given) wins over both.

    Raises:
        UsageError: no `model`, an unknown template, or bad parameters.
    """
    name = config.get("model")
    if not isinstance(name, str):
        raise UsageError("The runtime configuration has no `model` naming a runtime model.",
                         hint="write e.g. {\"model\": \"NHITS\", \"params\": {\"h\": 12, \"input_size\": 24}}.")
    template = _resolve_template(config.get("template"), templates or {})
    params = merge_params(template.get("params", {}), config.get("params", {}))
    if "precision" in config:
        params["precision"] = config["precision"]
    return create(name, **params)


def merge_params(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Later layers win, key by key (template < descriptor < command line)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer)
    return merged


def _resolve_template(template: Any, templates: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any]:
    if template is None:
        return {}
    if isinstance(template, Mapping):
        return template
    if template in templates:
        return templates[template]
    close = difflib.get_close_matches(str(template), list(templates), n=1)
    mean = f"did you mean {close[0]!r}? " if close else ""
    raise NotFound(f"No template named {template!r}.", hint=f"{mean}available: {', '.join(sorted(templates)) or '(none)'}.")


def discover(package: str) -> list[str]:
    """Import every module of `package` so that their `@register_model` decorators run."""
    root = importlib.import_module(package)
    imported = [root.__name__]
    for module in pkgutil.walk_packages(getattr(root, "__path__", []), prefix=root.__name__ + "."):
        importlib.import_module(module.name)
        imported.append(module.name)
    return imported


_builtins_loaded = False


def _load_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        discover(BUILTIN_PACKAGE)
