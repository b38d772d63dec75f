"""Shape ops: reshape, transpose, indexing, broadcasting, flip, concat, stack, pad."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from modreg.runtime.autograd.tensor import Tensor, as_tensor, register_op, result, unbroadcast

__all__ = ["concat", "expand", "flip", "getitem", "pad", "reshape", "stack", "transpose"]


# ----- Views -----
@register_op("reshape")
def reshape(a: Tensor, shape: tuple[int, ...]) -> Tensor:
    """The same values in a new shape (-1 allowed once)."""
    return result(a.data.reshape(shape), (a,), lambda g: a.accumulate(g.reshape(a.shape)))


@register_op("transpose")
def transpose(a: Tensor, axes: tuple[int, ...] | None = None) -> Tensor:
    """Permute axes (reverse them when `axes` is None)."""
    inverse = None if axes is None else tuple(np.argsort(axes))
    return result(a.data.transpose(axes), (a,), lambda g: a.accumulate(g.transpose(inverse)))


@register_op("expand")
def expand(a: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Broadcast to `shape` (a read-only view); the gradient is summed back."""
    return result(np.broadcast_to(a.data, shape), (a,), lambda g: a.accumulate(unbroadcast(g, a.shape)))


@register_op("flip")
def flip(a: Tensor, axis: int | Sequence[int] | None = None) -> Tensor:
    """Reverse the order of elements along `axis` (all axes when None)."""
    axis = axis if axis is None or isinstance(axis, int) else tuple(axis)
    return result(np.flip(a.data, axis), (a,), lambda g: a.accumulate(np.flip(g, axis)))


# ----- Indexing -----
def _is_advanced(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (np.ndarray, list)) for p in parts)


def _plain_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_plain_index(p) for p in index)
    if isinstance(index, Tensor):
        return index.data.astype(np.intp) if index.dtype.kind == "f" else index.data
    return np.asarray(index) if isinstance(index, list) else index


@register_op("getitem")
def getitem(a: Tensor, index: Any) -> Tensor:
    """numpy indexing: basic slices and integer/boolean arrays (repeats accumulate)."""
    index = _plain_index(index)
    advanced = _is_advanced(index)

    def backward(g: np.ndarray) -> None:
        ga = np.zeros(a.shape, dtype=a.dtype)
        if advanced:
            np.add.at(ga, index, g)
        else:
            ga[index] = g
        a.accumulate(ga, fresh=True)

    return result(a.data[index], (a,), backward)


# ----- Joining -----
@register_op("concat")
def concat(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    parts = [as_tensor(t) for t in tensors]
    out = np.concatenate([p.data for p in parts], axis=axis)
    bounds = np.cumsum([p.shape[axis] for p in parts])[:-1]

    def backward(g: np.ndarray) -> None:
        for p, gp in zip(parts, np.split(g, bounds, axis=axis), strict=True):
            if p.requires_grad:
                p.accumulate(gp)

    return result(out, tuple(parts), backward)


@register_op("stack")
def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    parts = [as_tensor(t) for t in tensors]
    out = np.stack([p.data for p in parts], axis=axis)

    def backward(g: np.ndarray) -> None:
        for i, p in enumerate(parts):
            if p.requires_grad:
                p.accumulate(np.take(g, i, axis=axis))

    return result(out, tuple(parts), backward)


# ----- Padding -----
def _pad_pairs(pad_width: Any, ndim: int) -> list[tuple[int, int]]:
    pairs = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (ndim, 2))
    return [(int(lo), int(hi)) for lo, hi in pairs]


def _fold_edges(g: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    """Adjoint of edge padding: each padded strip is summed into its edge element."""
    for axis, (lo, hi) in enumerate(pairs):
        if lo == 0 and hi == 0:
            continue
        moved = np.moveaxis(g, axis, 0)
        n = moved.shape[0] - lo - hi
        core = moved[lo : lo + n].copy()
        core[0] += moved[:lo].sum(axis=0)
        core[-1] += moved[lo + n :].sum(axis=0)
        g = np.moveaxis(core, 0, axis)
    return g


@register_op("pad")
def pad(a: Tensor, pad_width: Any, mode: str = "constant", value: float = 0.0) -> Tensor:
    """numpy-style pad: `pad_width` int, (before, after) or one pair per axis.

    `mode` is "constant" (filled with `value`) or "edge" (the border value repeated).
    """
    pairs = _pad_pairs(pad_width, a.ndim)
    if mode == "constant":
        out = np.pad(a.data, pairs, mode="constant", constant_values=value)
    elif mode == "edge":
        out = np.pad(a.data, pairs, mode="edge")
    else:
        raise ValueError(f"pad mode must be 'constant' or 'edge', not {mode!r}")
    core = tuple(slice(lo, lo + n) for (lo, _), n in zip(pairs, a.shape, strict=True))

    def backward(g: np.ndarray) -> None:
        a.accumulate(g[core] if mode == "constant" else _fold_edges(g, pairs))

    return result(out, (a,), backward)
