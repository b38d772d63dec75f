"""Gradient checking by central differences along random directions (HIPS/autograd's check_vjp).

For every input `x_i`, a random direction `u_i` and a random output cotangent `v`:

    numeric  = <v, f(x + eps*u_i) - f(x - eps*u_i)> / (2*eps)
    analytic = <vjp_i(v), u_i>          (from Tensor.backward)

and the two must agree within `atol + rtol*|numeric|`. Everything runs in float64. Plugin
authors can check their own ops the same way:

    check_grads(lambda x, w: my_op(x, w), [np.random.randn(4, 3), np.random.randn(3)])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from modreg.runtime.autograd.tensor import Tensor

__all__ = ["check_grads"]

Outputs = Tensor | Sequence[Tensor]


def _as_list(out: Outputs) -> list[Tensor]:
    return [out] if isinstance(out, Tensor) else list(out)


def _project(outputs: Outputs, cotangents: list[np.ndarray]) -> float:
    pairs = zip(_as_list(outputs), cotangents, strict=True)
    return float(sum(np.vdot(o.data, v) for o, v in pairs))


def _analytic(
    fn: Callable[..., Outputs], xs: list[np.ndarray], cotangents: list[np.ndarray]
) -> list[np.ndarray]:
    tensors = [Tensor(x, requires_grad=True) for x in xs]
    outputs = _as_list(fn(*tensors))
    total = None
    for o, v in zip(outputs, cotangents, strict=True):
        term = (o * Tensor(v)).sum()
        total = term if total is None else total + term
    assert total is not None, "the function returned no outputs"
    total.backward()
    return [t.grad if t.grad is not None else np.zeros_like(t.data) for t in tensors]


def check_grads(
    fn: Callable[..., Outputs],
    inputs: list[np.ndarray],
    *,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-6,
    seed: int = 0,
) -> None:
    """Assert that `fn`'s analytic gradients match central differences for every input.

    Args:
        fn: takes one Tensor per input and returns a Tensor or a sequence of Tensors.
        inputs: the point to check at; converted to float64.
        eps: finite-difference step.
        rtol, atol: tolerance of |analytic - numeric| <= atol + rtol * |numeric|.
        seed: seeds the random directions.

    Raises:
        AssertionError: naming the input, with the analytic and numeric directional derivatives.
    """
    rand = np.random.default_rng(seed)
    xs = [np.asarray(x, dtype=np.float64) for x in inputs]
    with_outputs = _as_list(fn(*[Tensor(x) for x in xs]))
    cotangents = [rand.standard_normal(o.shape) for o in with_outputs]
    grads = _analytic(fn, xs, cotangents)
    for i, (x, grad) in enumerate(zip(xs, grads, strict=True)):
        direction = rand.standard_normal(x.shape)
        analytic = float(np.vdot(grad, direction))
        numeric = _directional(fn, xs, i, direction, eps, cotangents)
        if not abs(analytic - numeric) <= atol + rtol * abs(numeric):
            raise AssertionError(
                f"gradient of input {i} (shape {x.shape}) is wrong: "
                f"analytic {analytic:.10g} vs numeric {numeric:.10g}"
            )


def _directional(
    fn: Callable[..., Any], xs: list[np.ndarray], i: int, u: np.ndarray, eps: float,
    cotangents: list[np.ndarray],
) -> float:
    def at(sign: float) -> float:
        moved = [x + sign * eps * u if j == i else x for j, x in enumerate(xs)]
        return _project(fn(*[Tensor(m) for m in moved]), cotangents)

    return (at(1.0) - at(-1.0)) / (2.0 * eps)
