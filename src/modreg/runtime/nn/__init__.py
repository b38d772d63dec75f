"""Neural-network layers over `modreg.runtime.autograd`, shaped like PyTorch's `torch.nn`.

Parameter names, shapes and default initialisation follow PyTorch, so parameter counts and
state-dict keys match the reference implementations (neuralforecast) that models port.
"""

from __future__ import annotations

from modreg.runtime.nn.attention import MultiHeadAttention, scaled_dot_product_attention
from modreg.runtime.nn.conv import CausalConv1d, Conv1d, Conv2d
from modreg.runtime.nn.dropout import Dropout
from modreg.runtime.nn.embedding import Embedding
from modreg.runtime.nn.linear import Identity, Linear
from modreg.runtime.nn.module import LoadResult, Module, ModuleList, Parameter, Sequential
from modreg.runtime.nn.norm import BatchNorm1d, BatchNorm2d, LayerNorm, RevIN
from modreg.runtime.nn.recurrent import GRU, LSTM, RNN
from modreg.runtime.nn.attention import InterpretableMultiHeadAttention, ResidualMultiHeadAttention
from modreg.runtime.nn.gating import GLU, GRN, VariableSelectionNetwork

__all__ = [
    "GRU", "LSTM", "RNN", "BatchNorm1d", "BatchNorm2d", "CausalConv1d", "Conv1d", "Conv2d",
    "Dropout", "Embedding", "Identity", "LayerNorm", "Linear", "LoadResult", "Module",
    "ModuleList", "MultiHeadAttention", "Parameter", "RevIN", "Sequential",
    "scaled_dot_product_attention",
    "GLU", "GRN", "InterpretableMultiHeadAttention", "ResidualMultiHeadAttention", "VariableSelectionNetwork",
]
