"""Pieces shared by the encoder-decoder forecasters RNN, LSTM, GRU and TCN.

- `Activation`: a named activation as a layer (neuralforecast passes PyTorch class names).
- `MLPDecoder`: neuralforecast's `common._modules.MLP`, applied to every horizon step with the
  same weights: Linear(in -> hidden) + act, (num_layers - 2) x [Linear(hidden -> hidden) + act],
  Linear(hidden -> out). Its state-dict keys match PyTorch's (`layers.0.weight`, `layers.3.weight`).
- `encoder_input`: the encoder's input channels in neuralforecast's order
  [y | historical exogenous | static exogenous repeated over time | future exogenous].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat, where

__all__ = ["ACTIVATIONS", "Activation", "ActivationName", "MLPDecoder", "encoder_input"]

ActivationName = Literal["ReLU", "Tanh", "Sigmoid", "GELU", "Softplus", "SiLU", "ELU", "LeakyReLU", "Identity"]


def _elu(x: Tensor) -> Tensor:
    return where(x.data > 0, x, (x.clip(None, 0.0)).exp() - 1.0)


ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "ReLU": Tensor.relu,
    "Tanh": Tensor.tanh,
    "Sigmoid": Tensor.sigmoid,
    "GELU": Tensor.gelu,
    "Softplus": Tensor.softplus,
    "SiLU": lambda x: x * x.sigmoid(),
    "ELU": _elu,
    "LeakyReLU": lambda x: where(x.data > 0, x, x * 0.01),
    "Identity": lambda x: x,
}


class Activation(nn.Module):
    """An elementwise activation named like PyTorch's class (`ReLU`, `Tanh`, `GELU`, ...)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        if name not in ACTIVATIONS:
            raise ValueError(f"activation {name!r} is not one of {', '.join(ACTIVATIONS)}")
        self.name = name

    def forward(self, x: Tensor) -> Tensor:
        return ACTIVATIONS[self.name](x)


class MLPDecoder(nn.Module):
    """neuralforecast's MLP: `num_layers` Linear layers (>= 2) with ReLU (and dropout) between them.

    Args:
        in_features: size of the last axis of the input.
        out_features: size of the last axis of the output.
        hidden_size: units of every hidden layer.
        num_layers: Linear layers in total, input and output layers included.
        dropout: dropout after each hidden activation (0 in the RNN family and TCN).

    Shapes: (..., in_features) -> (..., out_features).
    """

    def __init__(self, in_features: int, out_features: int, hidden_size: int, num_layers: int,
                 dropout: float = 0.0) -> None:
        super().__init__()
        sizes = [in_features] + [hidden_size] * max(num_layers - 1, 1)
        blocks: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            blocks += [nn.Linear(a, b), Activation("ReLU"), nn.Dropout(dropout)]
        self.layers = nn.Sequential(*blocks, nn.Linear(hidden_size, out_features))

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


def encoder_input(y: Tensor, hist: Tensor | None, stat: Tensor | None, futr: Tensor | None) -> Tensor:
    """(B, T, 1 + X + S + F): y (B, T), hist (B, T, X), stat (B, S) repeated, futr (B, T, F)."""
    batch, steps = y.shape
    parts = [y.reshape(batch, steps, 1)]  # (B, T) -> (B, T, 1)
    if hist is not None:
        parts.append(hist)
    if stat is not None:
        parts.append(stat.unsqueeze(1).expand(batch, steps, stat.shape[1]))  # (B, S) -> (B, T, S)
    if futr is not None:
        parts.append(futr)
    return concat(parts, axis=2) if len(parts) > 1 else parts[0]
