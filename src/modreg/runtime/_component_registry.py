"""The component registries (losses, optimizers, scalers) and how a spec names a component.

The public face is `modreg.runtime.components`, which adds `build`. This module sits below
`params` (which validates component specs) and imports no other runtime module: the built-in
components are imported by name on first lookup, the way `factory` loads the built-in models.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar, Union

from modreg._plain import plain
from modreg.errors import UsageError

__all__ = [
    "ComponentKind",
    "Configurable",
    "LossSpec",
    "OptimizerSpec",
    "ScalerSpec",
    "resolve",
    "entries",
    "kinds",
    "register_component",
]


@dataclass(frozen=True)
class ComponentKind:
    """The marker in `Annotated[..., ComponentKind("loss")]`: which registry a parameter uses."""

    kind: str


_REGISTRIES: dict[str, dict[str, type[Configurable]]] = {"loss": {}, "optimizer": {}, "scaler": {}}

C = TypeVar("C", bound="type[Configurable]")


class Configurable:
    """Base of every component class: remembers its name and gives its spec back.

    Each `__init__` parameter must be stored as an attribute of the same name (as for models),
    with JSON-able immutable defaults, so that `to_config()` can rebuild the spec.
    """

    component_kind: ClassVar[str] = ""
    component_name: ClassVar[str] = ""
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self) -> None:
        """A component without parameters; subclasses list theirs explicitly."""

    def config_params(self) -> dict[str, Any]:
        """The `__init__` parameters and their current values."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: plain(getattr(self, name)) for name in names}

    def to_config(self) -> str | dict[str, Any]:
        """The spec: the bare name when every parameter is at its default, else a table."""
        params = self.config_params()
        defaults = _defaults(type(self))
        if all(name in defaults and defaults[name] == value for name, value in params.items()):
            return self.component_name
        return {"type": self.component_name, **params}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_config()!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.to_config() == self.to_config()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(repr(self))


LossSpec = Annotated[Union[str, Mapping[str, Any], Configurable], ComponentKind("loss")]
OptimizerSpec = Annotated[Union[str, Mapping[str, Any], Configurable], ComponentKind("optimizer")]
ScalerSpec = Annotated[Union[str, Mapping[str, Any], Configurable], ComponentKind("scaler")]


def register_component(kind: str, name: str) -> Callable[[C], C]:
    """Class decorator adding a component class under `name` to the `kind` registry.

    Raises:
        ValueError: unknown kind, or the name is taken.
    """

    def decorate(cls: C) -> C:
        registry = _registry(kind)
        if name in registry:
            raise ValueError(f"{kind} component {name!r} is already registered ({registry[name].__qualname__}).")
        cls.component_kind = kind
        cls.component_name = name
        registry[name] = cls
        return cls

    return decorate


def kinds() -> tuple[str, ...]:
    """The component kinds, sorted."""
    _load_builtin_components()
    return tuple(sorted(_REGISTRIES))


def entries(kind: str) -> dict[str, type[Configurable]]:
    """Name -> class of every component of `kind`, sorted by name."""
    _load_builtin_components()
    return dict(sorted(_registry(kind).items()))


def resolve(kind: str, spec: str | Mapping[str, Any], where: str) -> tuple[type[Configurable], dict[str, Any]]:
    """The class a name or a `{type = ...}` table names, and the table's other keys.

    Raises:
        UsageError: unknown component name, missing `type`, or a spec of the wrong kind.
    """
    name, table = _split_spec(kind, spec, where)
    return _lookup(kind, name, where), table


def _split_spec(kind: str, spec: Any, where: str) -> tuple[str, dict[str, Any]]:
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, Mapping):
        table = dict(spec)
        name = table.pop("type", None)
        if isinstance(name, str):
            return name, table
        raise UsageError(
            f"Parameter `{where}` is a table without a string `type` naming the {kind}.",
            hint=f"write e.g. {where} = {{ type = \"{_first_name(kind)}\", ... }}; known: {', '.join(entries(kind))}.",
        )
    raise UsageError(
        f"Parameter `{where}` expects a {kind} name or a table, found {spec!r}.",
        hint=f"known {kind} names: {', '.join(entries(kind))}.",
    )


def _lookup(kind: str, name: str, where: str) -> type[Configurable]:
    known = entries(kind)
    if name in known:
        return known[name]
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UsageError(
        f"Parameter `{where}`: unknown {kind} {name!r}.",
        hint=f"{hint}known {kind} names: {', '.join(known)}.",
    )


def _registry(kind: str) -> dict[str, type[Configurable]]:
    if kind not in _REGISTRIES:
        raise ValueError(f"unknown component kind {kind!r}; kinds: {', '.join(sorted(_REGISTRIES))}")
    return _REGISTRIES[kind]


def _first_name(kind: str) -> str:
    names = list(entries(kind))
    return names[0] if names else kind


def _defaults(cls: type) -> dict[str, Any]:
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name: plain(p.default) for p in params if p.default is not inspect.Parameter.empty}


_BUILTIN_MODULES = (
    "modreg.runtime.training.losses",
    "modreg.runtime.training.scale_free",
    "modreg.runtime.training.distributions",
    "modreg.runtime.training.optim",
    "modreg.runtime.training.windows",
)
_loaded = False


def _load_builtin_components() -> None:
    """Import the modules whose `@register_component` decorators add the built-ins (once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)
