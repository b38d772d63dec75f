"""`Embedding`: a lookup table of learned vectors indexed by integers."""

from __future__ import annotations

import numpy as np

from modreg.runtime.nn import init
from modreg.runtime.nn.module import Module, Parameter
from modreg.runtime.autograd.ops_shape import getitem
from modreg.runtime.autograd.tensor import Tensor

__all__ = ["Embedding"]


class Embedding(Module):
    """Vectors `weight[idx]`, weight (num_embeddings, embedding_dim) drawn from N(0, 1) like PyTorch.

    Args:
        num_embeddings: size of the table.
        embedding_dim: length of each vector.

    Shapes: idx (...) integers -> (..., embedding_dim). Repeated indices accumulate gradients.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(init.normal((num_embeddings, embedding_dim)))

    def forward(self, idx: np.ndarray | Tensor) -> Tensor:
        index = np.asarray(idx.data if isinstance(idx, Tensor) else idx).astype(np.intp, copy=False)
        if index.size and (index.min() < 0 or index.max() >= self.num_embeddings):
            raise IndexError(f"embedding index out of range [0, {self.num_embeddings})")
        return getitem(self.weight, index)
