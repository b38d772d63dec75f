"""Index ops along one axis: gather and scatter of slices by per-row indices, and the cumulative sum.

`gather` and `scatter` address whole slices: with `axis=k`, `index` has the shape of the
leading axes `a.shape[:k]` plus one axis of K positions, and every trailing axis is carried
along. They run as one fancy-index over the array viewed as rows (P * N, R), which is what
makes the top-u query selection of Informer's ProbSparse attention cheap: no Python loop over
the batch, no dense one-hot products.
"""

from __future__ import annotations

import math

import numpy as np

from modreg.runtime.autograd.tensor import Tensor, register_op, result

__all__ = ["cumsum", "gather", "scatter"]


def _rows(shape: tuple[int, ...], index: np.ndarray, axis: int) -> tuple[np.ndarray, int]:
    """Flat row numbers of `index` in `shape` viewed as (P * N, R), and R."""
    lead, n = shape[:axis], shape[axis]
    if index.shape[:-1] != lead:
        raise ValueError(f"index of shape {index.shape} does not address axis {axis} of {shape}")
    if index.size and (index.min() < -n or index.max() >= n):
        raise IndexError(f"index out of range for axis {axis} of size {n}")
    base = np.arange(math.prod(lead), dtype=np.intp).reshape(lead + (1,)) * n
    return (base + index % n).reshape(-1), math.prod(shape[axis + 1:])


def _unique_per_row(index: np.ndarray) -> bool:
    ordered = np.sort(index.reshape(-1, index.shape[-1]), axis=-1)
    return not np.any(ordered[:, 1:] == ordered[:, :-1])


# ----- Gather and scatter -----
@register_op("gather")
def gather(a: Tensor, index: np.ndarray, axis: int) -> Tensor:
    """out[..., k, ...] = a[..., index[..., k], ...]: index (a.shape[:axis] + (K,)) of integers.

    Repeated positions accumulate their gradients.
    """
    axis = axis % a.ndim
    index = np.asarray(index, dtype=np.intp)
    rows, width = _rows(a.shape, index, axis)
    out_shape = index.shape + a.shape[axis + 1:]
    out = a.data.reshape(-1, width)[rows].reshape(out_shape)

    def backward(g: np.ndarray) -> None:
        ga = np.zeros((a.size // max(width, 1), width), dtype=a.dtype)
        if _unique_per_row(index):
            ga[rows] = g.reshape(-1, width)
        else:
            np.add.at(ga, rows, g.reshape(-1, width))
        a.accumulate(ga.reshape(a.shape), fresh=True)

    return result(out, (a,), backward)


@register_op("scatter")
def scatter(a: Tensor, index: np.ndarray, values: Tensor, axis: int) -> Tensor:
    """A copy of `a` whose slices at `index` along `axis` are replaced by `values`.

    index: (a.shape[:axis] + (K,)) integers, distinct within each row. values: index.shape +
    a.shape[axis + 1:]. The replaced slices of `a` get no gradient.
    """
    axis = axis % a.ndim
    index = np.asarray(index, dtype=np.intp)
    if not _unique_per_row(index):
        raise ValueError("scatter needs distinct positions in every row of the index")
    rows, width = _rows(a.shape, index, axis)
    out = a.data.reshape(-1, width).copy()
    out[rows] = values.data.reshape(-1, width)

    def backward(g: np.ndarray) -> None:
        g2 = g.reshape(-1, width)
        if values.requires_grad:
            values.accumulate(g2[rows].reshape(values.shape), fresh=True)
        if a.requires_grad:
            ga = g2.copy()
            ga[rows] = 0
            a.accumulate(ga.reshape(a.shape), fresh=True)

    return result(out.reshape(a.shape), (a, values), backward)


# ----- Running sums -----
@register_op("cumsum")
def cumsum(a: Tensor, axis: int) -> Tensor:
    """Running sum along `axis`; the gradient is the reversed running sum of the gradient."""

    def backward(g: np.ndarray) -> None:
        a.accumulate(np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis), fresh=True)

    return result(np.cumsum(a.data, axis=axis), (a,), backward)
