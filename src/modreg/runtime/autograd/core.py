"""What every op shares: the op registry (`OPS`, `register_op`), grad mode and `unbroadcast`.

`tensor.py` re-exports these names, so op modules import them with `Tensor` and `result`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["OPS", "is_grad_enabled", "no_grad", "register_op", "unbroadcast"]

GRAD_ENABLED = [True]

OPS: dict[str, Callable[..., Any]] = {}
"""Every differentiable primitive by name (complete once `modreg.runtime.autograd` is imported);
tests/runtime/test_gradcheck.py fails for any op here without a gradient check."""


def register_op(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator recording a primitive op in `OPS` (duplicates raise)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in OPS:
            raise ValueError(f"op {name!r} is registered twice")
        OPS[name] = fn
        return fn

    return decorate


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Context manager (and decorator) under which no op records a tape."""
    previous = GRAD_ENABLED[0]
    GRAD_ENABLED[0] = False
    try:
        yield
    finally:
        GRAD_ENABLED[0] = previous


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()`."""
    return GRAD_ENABLED[0]


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `g` over the axes numpy broadcasting added or stretched, back to `shape`."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g
