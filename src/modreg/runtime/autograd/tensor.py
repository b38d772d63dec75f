"""The Tensor core: data, gradient and the tape (grad mode and the op registry are in `core.py`).

micrograd's shape with HIPS/autograd's rigour: every op (in the `ops_*` modules) builds its
result with `result(data, parents, backward)`, where `backward(g)` *accumulates* into the
parents that require a gradient. `Tensor.backward` walks the graph in topological order,
iteratively, so graphs of many thousand nodes (unrolled recurrences) never hit Python's
recursion limit. Under `no_grad()` nothing is recorded.

Import the public names from `modreg.runtime.autograd`; this module is the core the op
modules build on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from modreg.runtime.autograd.core import GRAD_ENABLED, OPS, is_grad_enabled, no_grad, register_op, unbroadcast

__all__ = [
    "OPS",
    "Tensor",
    "as_tensor",
    "is_grad_enabled",
    "no_grad",
    "register_op",
    "result",
    "unbroadcast",
]

Backward = Callable[[np.ndarray], None]
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

def _to_array(data: Any, dtype: Any) -> np.ndarray:
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
        return arr if arr.dtype in _FLOATS else arr.astype(np.float32)
    return np.asarray(data, dtype=np.float32)


class Tensor:
    """An n-dimensional array with reverse-mode gradients.

    Args:
        data: array-like. With `dtype=None` an ndarray keeps float32/float64 (other dtypes and
            python scalars/lists become float32).
        requires_grad: whether `backward` computes `.grad` for this tensor.
        dtype: optional numpy dtype to convert to.
    """

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "_owned", "__weakref__")
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operators

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        self.data: np.ndarray = _to_array(data, dtype)
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None
        self._owned = False

    # ----- Properties -----
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        flag = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({self.data!r}{flag})"

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        return float(self.data.item())

    def detach(self) -> Tensor:
        """A tensor sharing the data, cut from the graph."""
        return Tensor(self.data)

    # ----- Gradients -----
    def accumulate(self, g: np.ndarray, fresh: bool = False) -> None:
        """Add `g` into `.grad`; `fresh` says `g` is a new array nobody else holds."""
        if g.dtype != self.data.dtype:
            g, fresh = g.astype(self.data.dtype), True
        if self.grad is None:
            self.grad, self._owned = g, fresh
        elif self._owned:
            self.grad += g
        else:
            self.grad, self._owned = self.grad + g, True

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (topological, iterative).

        As in PyTorch, gradients of intermediate tensors are not kept, and the graph is
        released (freeing the arrays it saved) unless `retain_graph=True`.
        """
        if grad is None:
            if self.data.size != 1:
                raise ValueError("backward() without a gradient needs a one-element tensor")
            grad = np.ones_like(self.data)
        self.accumulate(np.asarray(grad, dtype=self.data.dtype))
        for node in reversed(_topological_order(self)):
            if node._backward is None:
                node._own_grad()
                continue
            g, node.grad = node.grad, None
            if g is not None:
                node._backward(g)
            if not retain_graph:
                node._parents, node._backward = (), _released

    def _own_grad(self) -> None:
        """Give a leaf a private, writable gradient array (it may alias another's)."""
        if not self._owned and self.grad is not None:
            self.grad, self._owned = np.array(self.grad), True

    # ----- Operators (implemented in the ops modules) -----
    def __add__(self, other: Any) -> Tensor:
        return _ops.math.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.math.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.math.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.math.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.math.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.math.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.math.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.math.div(other, self)

    def __pow__(self, exponent: float) -> Tensor:
        return _ops.math.power(self, exponent)

    def __neg__(self) -> Tensor:
        return _ops.math.neg(self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.math.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.math.matmul(other, self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.shape.getitem(self, index)

    # Comparisons give boolean masks (no gradient), handy for `where`.
    def __gt__(self, other: Any) -> np.ndarray:
        return self.data > _raw(other)

    def __ge__(self, other: Any) -> np.ndarray:
        return self.data >= _raw(other)

    def __lt__(self, other: Any) -> np.ndarray:
        return self.data < _raw(other)

    def __le__(self, other: Any) -> np.ndarray:
        return self.data <= _raw(other)

    # ----- Elementwise methods -----
    def exp(self) -> Tensor:
        return _ops.math.exp(self)

    def log(self) -> Tensor:
        return _ops.math.log(self)

    def sqrt(self) -> Tensor:
        return _ops.math.sqrt(self)

    def tanh(self) -> Tensor:
        return _ops.math.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.math.sigmoid(self)

    def relu(self) -> Tensor:
        return _ops.math.relu(self)

    def gelu(self) -> Tensor:
        return _ops.activation.gelu(self)

    def abs(self) -> Tensor:
        return _ops.math.abs_(self)

    def softplus(self) -> Tensor:
        return _ops.math.softplus(self)

    def clip(self, lo: float | None, hi: float | None) -> Tensor:
        return _ops.math.clip(self, lo, hi)

    def astype(self, dtype: Any) -> Tensor:
        return _ops.math.astype(self, dtype)

    # ----- Reductions -----
    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.reduce.sum_(self, axis, keepdims)

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.reduce.mean(self, axis, keepdims)

    def max(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.reduce.max_(self, axis, keepdims)

    def min(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.reduce.min_(self, axis, keepdims)

    def var(
        self, axis: int | Sequence[int] | None = None, keepdims: bool = False, ddof: int = 0
    ) -> Tensor:
        return _ops.reduce.var(self, axis, keepdims, ddof)

    def logsumexp(self, axis: int | Sequence[int] | None = -1, keepdims: bool = False) -> Tensor:
        return _ops.reduce.logsumexp(self, axis, keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        return _ops.reduce.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _ops.reduce.log_softmax(self, axis)

    # ----- Shape -----
    def reshape(self, *shape: Any) -> Tensor:
        return _ops.shape.reshape(self, _shape_arg(shape))

    def transpose(self, *axes: Any) -> Tensor:
        return _ops.shape.transpose(self, _shape_arg(axes) or None)

    def swapaxes(self, a: int, b: int) -> Tensor:
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return _ops.shape.transpose(self, tuple(axes))

    def squeeze(self, axis: int | None = None) -> Tensor:
        return _ops.shape.reshape(self, np.squeeze(self.data, axis).shape)

    def unsqueeze(self, axis: int) -> Tensor:
        return _ops.shape.reshape(self, np.expand_dims(self.data, axis).shape)

    def expand(self, *shape: Any) -> Tensor:
        return _ops.shape.expand(self, _shape_arg(shape))

    def flip(self, axis: int | Sequence[int] | None = None) -> Tensor:
        return _ops.shape.flip(self, axis)


def _shape_arg(args: tuple[Any, ...]) -> tuple[int, ...]:
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """`x` itself if it is a Tensor, else a constant in `like`'s dtype (float32 without one)."""
    if isinstance(x, Tensor):
        return x
    if like is not None:
        return Tensor(np.asarray(x, dtype=like.data.dtype))
    return Tensor(x)


def result(data: np.ndarray, parents: tuple[Tensor, ...], backward: Backward) -> Tensor:
    """Wrap an op's output; record `backward` only when grad mode is on and a parent needs it."""
    out = Tensor.__new__(Tensor)
    out.data, out.grad, out._owned = data, None, False
    if GRAD_ENABLED[0] and any(p.requires_grad for p in parents):
        out.requires_grad, out._parents, out._backward = True, parents, backward
    else:
        out.requires_grad, out._parents, out._backward = False, (), None
    return out


def _released(g: np.ndarray) -> None:
    raise RuntimeError(
        "backward() went through a graph a second time; its saved arrays were released "
        "(pass retain_graph=True to the first backward)"
    )


def _topological_order(root: Tensor) -> list[Tensor]:
    """Nodes reachable from `root` that require grad, parents before children (no recursion)."""
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in node._parents if p.requires_grad and id(p) not in seen)
    return order


class _OpModules:
    """The op modules behind Tensor's operators, bound by `modreg.runtime.autograd` at import.

    The op modules import this one (for `Tensor` and `result`), so this module never imports
    them: the package binds them once both sides exist, and the arrows stay one-way.
    """

    math: Any = None
    activation: Any = None
    reduce: Any = None
    shape: Any = None


_ops = _OpModules()


def bind_ops(math: Any, activation: Any, reduce: Any, shape: Any) -> None:
    """Give Tensor's operators their implementations (called once by the autograd package)."""
    _ops.math, _ops.activation, _ops.reduce, _ops.shape = math, activation, reduce, shape
