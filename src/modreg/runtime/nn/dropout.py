"""`Dropout`: zero activations at random while training, identity in eval mode."""

from __future__ import annotations

from modreg.runtime.nn.module import Module
from modreg.runtime.autograd.ops_nn import dropout
from modreg.runtime.autograd.tensor import Tensor

__all__ = ["Dropout"]


class Dropout(Module):
    """Inverted dropout (survivors scaled by 1/(1-p)), drawing from `modreg.runtime.rng`.

    Args:
        p: probability of zeroing an element, in [0, 1).
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)
