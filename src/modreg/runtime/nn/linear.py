"""`Linear`: y = x W^T + b, with PyTorch's parameter shapes and default initialisation."""

from __future__ import annotations

from modreg.runtime.nn import init
from modreg.runtime.nn.module import Module, Parameter
from modreg.runtime.autograd.ops_math import linear
from modreg.runtime.autograd.tensor import Tensor

__all__ = ["Identity", "Linear"]


class Linear(Module):
    """Affine map over the last axis.

    Args:
        in_features: size of the input's last axis.
        out_features: size of the output's last axis.
        bias: whether to add a learned bias.

    Shapes: x (..., in_features) -> (..., out_features). `weight` is (out, in), `bias` (out,),
    both U(-1/sqrt(in), 1/sqrt(in)) like PyTorch.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = init.fan_in_bound(in_features)
        self.weight = Parameter(init.uniform((out_features, in_features), bound))
        self.bias = Parameter(init.uniform((out_features,), bound)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self.weight, self.bias)


class Identity(Module):
    """Returns its input (a placeholder layer, as PyTorch's nn.Identity)."""

    def forward(self, x: Tensor) -> Tensor:
        return x
