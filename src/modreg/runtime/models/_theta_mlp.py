"""The block MLP of NBEATS, NBEATSx and NHITS: the window (or its pooled form) -> coefficients `theta`.

neuralforecast's blocks share it: Linear(n_inputs, u[0][0]), then per (a, b) in `mlp_units`
Linear(a, b) + activation (+ dropout), then Linear(u[-1][1], n_theta), with one of seven
activations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from modreg.errors import UsageError
from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat, linear, minimum

__all__ = ["ACTIVATIONS", "Activation", "ActivationName", "ThetaMLP"]

ActivationName = Literal["ReLU", "Softplus", "Tanh", "SELU", "LeakyReLU", "PReLU", "Sigmoid"]
ACTIVATIONS: tuple[str, ...] = ("ReLU", "Softplus", "Tanh", "SELU", "LeakyReLU", "PReLU", "Sigmoid")

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


class Activation(nn.Module):
    """One of neuralforecast's block activations; PReLU has one learned slope (init 0.25)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        if name not in ACTIVATIONS:
            raise UsageError(f"activation {name!r} is not one of {', '.join(ACTIVATIONS)}.")
        self.name = name
        if name == "PReLU":
            self.weight = nn.Parameter(np.full(1, 0.25, dtype=np.float32))

    def forward(self, x: Tensor) -> Tensor:
        name = self.name
        if name == "ReLU":
            return x.relu()
        if name in ("LeakyReLU", "PReLU"):
            slope = 0.01 if name == "LeakyReLU" else self.weight
            return x.relu() - slope * (-x).relu()
        if name == "SELU":
            return _SELU_SCALE * (x.relu() + _SELU_ALPHA * (minimum(x, 0.0).exp() - 1.0))
        return {"Softplus": x.softplus, "Tanh": x.tanh, "Sigmoid": x.sigmoid}[name]()


class ThetaMLP(nn.Module):
    """neuralforecast's block MLP: Linear(n_inputs, u[0][0]), then per (a, b) in `mlp_units`
    Linear(a, b) + activation (+ dropout), then Linear(u[-1][1], n_theta).

    The first two layers have no activation between them, exactly as in neuralforecast; being
    two affine maps in a row, they run as their composition when the batch is wider than the
    input (the same function and gradients, with a third fewer large matrix products). The
    composition multiplies [W1 | b1] at once, so the second layer's weight gradient is one
    product, not a product plus the outer product of the bias gradient.

    `forward(x, skip)` leaves out theta's first `skip` outputs: the last block of a stack
    computes no backcast, which nothing reads (its weights' rows get the zero gradient they
    get in neuralforecast, where they are computed and discarded).
    """

    def __init__(self, n_inputs: int, n_theta: int, mlp_units: Sequence[Sequence[int]], activation: str,
                 dropout_prob: float) -> None:
        super().__init__()
        self.input = nn.Linear(n_inputs, mlp_units[0][0])
        self.hidden = nn.ModuleList([nn.Linear(a, b) for a, b in mlp_units])
        self.activation = Activation(activation)
        self.dropout = nn.Dropout(dropout_prob) if dropout_prob > 0 else None
        self.output = nn.Linear(mlp_units[-1][1], n_theta)

    def forward(self, x: Tensor, skip: int = 0) -> Tensor:
        """x (B, n_inputs) -> theta (B, n_theta - skip)."""
        if self.activation.name == "ReLU" and self.dropout is None:  # each ReLU fused into its Linear
            x = self._entry(x, relu=True)
            for layer in list(self.hidden)[1:]:
                x = linear(x, layer.weight, layer.bias, relu=True)
            return self._theta(x, skip)
        x = self._entry(x)  # input, then hidden[0]
        for layer in list(self.hidden)[1:]:
            x = layer(self._activate(x))
        return self._theta(self._activate(x), skip)

    def _theta(self, x: Tensor, skip: int) -> Tensor:
        output = self.output
        if not skip:
            return output(x)
        return linear(x, output.weight[skip:], None if output.bias is None else output.bias[skip:])

    def _activate(self, x: Tensor) -> Tensor:
        x = self.activation(x)
        return x if self.dropout is None else self.dropout(x)

    def _entry(self, x: Tensor, relu: bool = False) -> Tensor:
        """hidden[0](input(x)): x (B, n) -> (B, u[0][1]); composed weights cost n*a*b instead of B*a*b."""
        first, second = self.input, self.hidden[0]
        if len(x) <= first.in_features:
            return linear(first(x), second.weight, second.bias, relu=relu)
        affine = concat([first.weight, first.bias.reshape(-1, 1)], axis=1)  # (a, n + 1): [W1 | b1]
        composed = second.weight @ affine  # (b, a) @ (a, n + 1): [W2 W1 | W2 b1], one product each way
        n = first.in_features
        return linear(x, composed[:, :n], composed[:, n] + second.bias, relu=relu)
