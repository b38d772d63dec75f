"""Reverse-mode automatic differentiation over numpy: the public face of the runtime's ops.

`Tensor` (in `tensor.py`) records, for each op, its parents and a `_backward` that accumulates
into them; `backward()` runs them in topological order. The ops live in modules by kind and are
re-exported here:

- `ops_math`: arithmetic with broadcasting, matmul, the fused `linear` (split over threads by rows), elementwise functions.
- `ops_activation`: GELU (exact) and ELU, in place with their backward.
- `ops_reduce`: sum, mean, max/min, var, logsumexp, softmax, log_softmax.
- `ops_shape`: reshape, transpose, indexing, expand, flip, concat, stack, pad.
- `ops_nn`: dropout, layer_norm, batch_norm, glu, glu_add_norm (a TFT gate), masked_softmax (attention).
- `ops_conv`: conv1d, conv2d (im2col), causal_conv (time-major, a product per tap).
- `ops_pool`: max_pool1d, avg_pool1d, interpolate_linear.
- `ops_fft`: rfft, irfft (complex values travel as a pair of real tensors), complex_abs.
- `ops_recurrent`: fused LSTM/GRU/RNN recurrences (input projection, scan and BPTT in one op).
- `scan_blocks`: the per-core row blocks those recurrences and `causal_conv` run in, each in its own thread.
- `ops_index`: gather/scatter of slices by per-row indices, cumsum.
- `ops_complex`: complex matmul and tanh on (real, imag) pairs.
- `ops_special`: lgamma (gradient digamma), for the distribution losses' likelihoods.
- `blas`: the BLAS threads of each matrix product, chosen by its size (`gemm`).

Every primitive is listed in `OPS`; `modreg.runtime.autograd.gradcheck.check_grads` checks any of them.
"""

from __future__ import annotations

from modreg.runtime.autograd.ops_conv import causal_conv, conv1d, conv2d
from modreg.runtime.autograd.ops_fft import irfft, rfft
from modreg.runtime.autograd.ops_activation import elu, erf, gelu
from modreg.runtime.autograd.ops_math import (
    abs_, add, astype, clip, div, exp, linear, log, matmul, maximum, minimum, mul,
    neg, power, relu, sigmoid, softplus, sqrt, sub, tanh, where,
)
from modreg.runtime.autograd.ops_nn import batch_norm, dropout, glu_add_norm, layer_norm, masked_softmax
from modreg.runtime.autograd.ops_pool import avg_pool1d, interpolate_linear, max_pool1d
from modreg.runtime.autograd.ops_recurrent import gru_scan, lstm_scan, rnn_scan
from modreg.runtime.autograd.ops_reduce import log_softmax, logsumexp, max_, mean, min_, softmax, sum_, var
from modreg.runtime.autograd.ops_shape import concat, expand, flip, getitem, pad, reshape, stack, transpose
from modreg.runtime.autograd.ops_fft import complex_abs
from modreg.runtime.autograd.ops_nn import glu
from modreg.runtime.autograd.ops_special import lgamma
from modreg.runtime.autograd import ops_activation as _ops_activation, ops_math as _ops_math
from modreg.runtime.autograd import ops_reduce as _ops_reduce, ops_shape as _ops_shape
from modreg.runtime.autograd.ops_complex import complex_matmul, complex_tanh
from modreg.runtime.autograd.ops_index import cumsum, gather, scatter
from modreg.runtime.autograd.tensor import (
    OPS, Tensor, as_tensor, bind_ops, is_grad_enabled, no_grad, register_op, result, unbroadcast,
)

__all__ = [
    "OPS", "Tensor", "abs_", "add", "as_tensor", "astype", "avg_pool1d", "batch_norm", "clip", "concat",
    "causal_conv", "conv1d", "conv2d", "div", "dropout", "erf", "exp", "expand", "flip", "gelu", "getitem",
    "glu_add_norm", "gru_scan", "interpolate_linear", "irfft", "is_grad_enabled", "layer_norm", "lgamma", "linear", "log",
    "log_softmax", "logsumexp", "lstm_scan", "masked_softmax", "matmul", "max_", "max_pool1d", "maximum", "mean",
    "min_", "minimum", "mul", "neg", "no_grad", "pad", "power", "register_op", "relu", "reshape",
    "result", "rfft", "rnn_scan", "sigmoid", "softmax", "softplus", "sqrt", "stack", "sub", "sum_",
    "tanh", "transpose", "unbroadcast", "var", "where",
    "complex_abs", "elu", "glu",
]

__all__ += ["complex_matmul", "complex_tanh", "cumsum", "gather", "scatter"]

bind_ops(_ops_math, _ops_activation, _ops_reduce, _ops_shape)
