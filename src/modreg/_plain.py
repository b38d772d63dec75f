"""The JSON shape of a value, all the way down: mappings as dicts with text keys, tuples and
lists as lists, and a component (anything with a `to_config()`: a loss, a scaler) as its config.

Model defaults, ensemble members, plugin defaults and recorded bench params all pass through it
before they are compared, saved or written, so the same value always has the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["plain"]


def plain(value: Any) -> Any:
    """`value` as JSON would give it back (a component becomes its `to_config()`)."""
    to_config = getattr(value, "to_config", None)
    if callable(to_config) and not isinstance(value, type):
        return plain(to_config())
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return value
