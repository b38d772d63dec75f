"""Small registries for component parameters: losses, optimizers and scalers.

A model parameter that is a component takes a name or a table, never an import path:

    loss = "mae"
    loss = { type = "huber", delta = 0.5 }

`build(kind, spec)` turns such a spec into an object, validating the table's parameters against
the component's own schema (derived from its `__init__` signature like a model's, see
`modreg.runtime.params`). Every built component remembers how it was configured, so
`to_config()` gives the spec back ("mae" when every parameter is at its default) and a saved
model's parameters stay plain JSON.

A model's `__init__` marks a component parameter with one of the annotated aliases below
(`LossSpec`, `OptimizerSpec`, `ScalerSpec`); `modreg.runtime.params` turns the marker into the
component's JSON Schema.
"""


from __future__ import annotations

from typing import Any

from modreg.errors import UsageError
from modreg.runtime._component_registry import (
    ComponentKind, Configurable, LossSpec, OptimizerSpec, ScalerSpec, entries, kinds, register_component, resolve,
)
from modreg.runtime.params import validate_against

__all__ = [
    "ComponentKind",
    "Configurable",
    "LossSpec",
    "OptimizerSpec",
    "ScalerSpec",
    "build",
    "entries",
    "kinds",
    "register_component",
    "resolve",
]


def build(kind: str, spec: Any, *, owner: str = "") -> Configurable:
    """Build a component from a name, a table with `type`, or an already built instance.

    Raises:
        UsageError: unknown component name, missing `type`, or bad parameters in the table.
    """
    where = owner or kind
    if isinstance(spec, Configurable):
        if spec.component_kind != kind:
            raise UsageError(f"Parameter `{where}` expects a {kind}, found a {spec.component_kind or 'plain object'}.")
        return spec
    cls, table = resolve(kind, spec, where)
    return cls(**validate_against(cls, table, owner=where))
