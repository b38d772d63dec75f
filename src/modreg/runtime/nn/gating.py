"""Gating layers of the Temporal Fusion Transformer: `GLU`, the gated residual network `GRN`, and
the `VariableSelectionNetwork` built from them.

A GRN is Linear -> activation (ELU) -> Linear -> dropout -> GLU, added to its (projected) input
and layer-normalised; an optional context vector enters the first Linear. The GLU lets the
network switch a whole block off (gate near 0) and fall back on the skip connection. A
variable selection network turns each input variable's embedding through its own GRN and
mixes them with softmax weights that one joint GRN computes from all of them (and a context).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from modreg.runtime.autograd.ops_activation import elu, gelu
from modreg.runtime.autograd.ops_math import linear, relu, sigmoid, softplus, tanh, where
from modreg.runtime.autograd.ops_nn import glu, glu_add_norm, masked_softmax
from modreg.runtime.autograd.tensor import Tensor
from modreg.runtime.nn.dropout import Dropout
from modreg.runtime.nn.linear import Identity, Linear
from modreg.runtime.nn.module import Module, ModuleList
from modreg.runtime.nn.norm import LayerNorm

__all__ = ["GLU", "GRN", "GRN_ACTIVATIONS", "VariableSelectionNetwork"]

_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805

GRN_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "ReLU": relu,
    "Softplus": softplus,
    "Tanh": tanh,
    "SELU": lambda x: elu(x, _SELU_ALPHA) * _SELU_SCALE,
    "LeakyReLU": lambda x: where(x.data > 0, x, x * 0.01),
    "Sigmoid": sigmoid,
    "ELU": elu,
    "GELU": gelu,
}
"""neuralforecast's GRN activations by name (its "GLU" halves the width and cannot run there)."""


class GLU(Module):
    """Linear(hidden_size -> 2 * output_size), then value * sigmoid(gate) over the two halves.

    Shapes: (..., hidden_size) -> (..., output_size).
    """

    def __init__(self, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.lin = Linear(hidden_size, output_size * 2)

    def forward(self, x: Tensor) -> Tensor:
        return glu(self.lin(x))

    def add_norm(self, x: Tensor, skip: Tensor, norm: Module) -> Tensor:
        """norm(self(x) + skip), one fused op when `norm` is an affine LayerNorm."""
        if isinstance(norm, LayerNorm) and norm.weight is not None and norm.bias is not None:
            return glu_add_norm(self.lin(x), skip, norm.weight, norm.bias, norm.eps)
        return norm(self(x) + skip)


class GRN(Module):
    """Gated residual network: LayerNorm(skip(a) + GLU(dropout(lin_i(act(lin_a(a) + lin_c(c)))))).

    Args:
        input_size: width of `a`.
        hidden_size: width of the inner layers (and of the output when `output_size` is None).
        output_size: width of the output; when set, the skip connection is Linear(input_size ->
            output_size) (`out_proj`), and an output of width 1 is not normalised.
        context_hidden_size: width of the optional context `c` (a bias-free `lin_c`), or None.
        dropout: dropout before the GLU while training.
        activation: a name of `GRN_ACTIVATIONS` (ELU by default).

    forward(a (B, ..., input_size), c (B, context_hidden_size) | None) -> (B, ..., output_size);
    the context is broadcast over the axes between the first and the last.
    `forward_embedded` computes the same function of embedded scalar variables without the
    matmuls over the embedding.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int | None = None,
                 context_hidden_size: int | None = None, dropout: float = 0.0, activation: str = "ELU") -> None:
        super().__init__()
        if activation not in GRN_ACTIVATIONS:
            raise ValueError(f"GRN activation must be one of {sorted(GRN_ACTIVATIONS)}, not {activation!r}")
        self.layer_norm = Identity() if output_size == 1 else LayerNorm(output_size or hidden_size, eps=1e-3)
        self.lin_a = Linear(input_size, hidden_size)
        self.lin_c = Linear(context_hidden_size, hidden_size, bias=False) if context_hidden_size else None
        self.lin_i = Linear(hidden_size, hidden_size)
        self.glu = GLU(hidden_size, output_size or hidden_size)
        self.dropout = Dropout(dropout)
        self.out_proj = Linear(input_size, output_size) if output_size else None
        self.activation = activation

    def forward(self, a: Tensor, c: Tensor | None = None) -> Tensor:
        skip = a if self.out_proj is None else self.out_proj(a)
        return self._gate(self.lin_a(a), skip, c)

    def forward_embedded(self, values: Tensor, vectors: Tensor, bias: Tensor, c: Tensor | None = None,
                         length: int | None = None) -> Tensor:
        """`forward(a)` for a = the embedding values[..., v] * vectors[v] + bias[v], flattened over (V, H).

        Each Linear reading `a` is affine in the V scalar values: W a + b = values @ (W_v vectors_v)_v
        + (W bias + b), so it costs (V x out) per row instead of (V * H x out); the result and
        every gradient are those of `forward` on the materialised embedding.

        Args:
            values: (B, ..., V) the variables' values. vectors, bias: (V, H) their embedding.
            c: the context, as in `forward`.
            length: for values (B, 1, V) that stand for a sequence of `length` equal steps: the
                layers before the dropout run once per row and are broadcast over the steps.
        """
        x = _embedded_linear(self.lin_a, values, vectors, bias)
        if self.out_proj is not None:
            skip = _embedded_linear(self.out_proj, values, vectors, bias)
        else:  # one variable: the skip is its embedding, (B, ..., 1) * (H,) + (H,)
            skip = values * vectors.reshape(-1) + bias.reshape(-1)
        return self._gate(x, skip, c, length)

    def _gate(self, x: Tensor, skip: Tensor, c: Tensor | None, length: int | None = None) -> Tensor:
        """Everything after lin_a: context, activation, lin_i, dropout, GLU, skip, LayerNorm."""
        if c is not None and self.lin_c is not None:
            context = self.lin_c(c)  # (B, hidden) -> (B, 1, ..., hidden)
            x = x + context.reshape(context.shape[:1] + (1,) * (x.ndim - 2) + context.shape[1:])
        x = self.lin_i(GRN_ACTIVATIONS[self.activation](x))
        if length is not None:  # (B, 1, hidden) -> (B, length, hidden): each step draws its own dropout
            x = x.expand(x.shape[0], length, x.shape[2])
        return self.glu.add_norm(self.dropout(x), skip, self.layer_norm)


def _embedded_linear(layer: Linear, values: Tensor, vectors: Tensor, bias: Tensor) -> Tensor:
    """layer(flatten(values[..., None] * vectors + bias)) as values @ A^T + c, A (out, V)."""
    n_vars, width = vectors.shape
    weight = layer.weight.reshape(layer.out_features, n_vars, width)  # (out, V * H) -> (out, V, H)
    per_value = (weight * vectors).sum(axis=-1)  # (out, V)
    offset = linear(bias.reshape(1, n_vars * width), layer.weight, layer.bias).reshape(-1)  # (out,)
    if n_vars == 1:
        return values * per_value.reshape(-1) + offset  # (B, ..., 1) * (out,)
    return linear(values, per_value) + offset  # (B, ..., V) -> (B, ..., out)


class VariableSelectionNetwork(Module):
    """Softmax-weighted mix of per-variable GRNs, the weights from a joint GRN over all variables.

    The V variables are scalars with a learned embedding each (value * vector + bias, width H),
    given in that factored form; the GRNs run through `GRN.forward_embedded`.

    Args:
        hidden_size: width H of every variable's embedding and of the output.
        num_inputs: number of variables V.
        dropout: dropout of the per-variable GRNs.
        grn_activation: activation of every GRN.

    forward(values (B, ..., V), vectors (V, H), bias (V, H), context (B, H) | None)
        -> (mixed (B, ..., H), weights (B, ..., V)); the weights of each position sum to 1.
    """

    def __init__(self, hidden_size: int, num_inputs: int, dropout: float, grn_activation: str) -> None:
        super().__init__()
        self.joint_grn = GRN(hidden_size * num_inputs, hidden_size, output_size=num_inputs,
                             context_hidden_size=hidden_size, activation=grn_activation)
        self.var_grns = ModuleList([GRN(hidden_size, hidden_size, dropout=dropout, activation=grn_activation)
                                    for _ in range(num_inputs)])

    def forward(self, values: Tensor, vectors: Tensor, bias: Tensor,
                context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if len(self.var_grns) == 1:  # the softmax over one variable is 1 and passes no gradient
            value, length = _steps(values)
            weights = Tensor(np.ones(values.shape, dtype=values.dtype))
            return self.var_grns[0].forward_embedded(value, vectors, bias, length=length), weights
        weights = masked_softmax(self.joint_grn.forward_embedded(values, vectors, bias, context))  # (B, ..., V)
        mixed = None
        for i, grn in enumerate(self.var_grns):
            value, length = _steps(values[..., i:i + 1])
            selected = grn.forward_embedded(value, vectors[i:i + 1], bias[i:i + 1], length=length)  # (B, ..., H)
            term = selected * weights[..., i:i + 1]
            mixed = term if mixed is None else mixed + term
        assert mixed is not None
        return mixed, weights


def _steps(values: Tensor) -> tuple[Tensor, int | None]:
    """A variable's values (B, T, 1) -> (its first step (B, 1, 1), T) when they are equal at every step
    (the window's last value standing in for a future input): its GRN then runs once per row. Values
    that need a gradient keep every step (theirs would reach the first step only)."""
    if values.requires_grad or values.ndim != 3 or values.shape[1] == 1 or (values.data != values.data[:, :1]).any():
        return values, None
    return values[:, :1], values.shape[1]
