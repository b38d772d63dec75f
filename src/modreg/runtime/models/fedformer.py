"""FEDformer: frequency enhanced blocks and attention on a subset of Fourier modes, with decomposition.

Zhou, T., Ma, Z., Wen, Q., Wang, X., Sun, L., Jin, R. (2022). "FEDformer: Frequency Enhanced
Decomposed Transformer for Long-term Series Forecasting". ICML 2022. https://arxiv.org/abs/2201.12740
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np

from modreg.errors import UsageError
from modreg.runtime import nn, rng
from modreg.runtime.autograd import Tensor, complex_matmul, complex_tanh
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models._decomposition import DecompositionTransformer
from modreg.runtime.models._fourier import signal, spectrum
from modreg.runtime.models._transformer import AttentionLayer, decoder_start_length
from modreg.runtime.models.base import Precision, WindowForecaster

__all__ = ["FEDformer"]

ComplexPair = tuple[Tensor, Tensor]


def _frequency_modes(seq_len: int, modes: int, mode_select: str) -> np.ndarray:
    """min(modes, seq_len // 2) sorted frequency bins below seq_len // 2: random ones, or the lowest."""
    count = min(modes, seq_len // 2)
    if mode_select == "random":
        return np.sort(rng.generator().permutation(seq_len // 2)[:count]).astype(np.int64)
    return np.arange(count, dtype=np.int64)


def _complex_weights(in_channels: int, out_channels: int, n_modes: int) -> nn.Parameter:
    """(8, in / 8, out / 8, M, 2): real and imaginary parts each U(0, 1) / (in * out), as torch.rand(cfloat)."""
    shape = (8, in_channels // 8, out_channels // 8, n_modes, 2)
    return nn.Parameter((rng.generator().random(shape) / (in_channels * out_channels)).astype(np.float32))


def _mix(x: ComplexPair, weights: Tensor) -> ComplexPair:
    """Per head and mode, channels times a complex matrix: out[b,h,o,m] = sum_e x[b,h,e,m] w[h,e,o,m]."""
    x_re, x_im = (part.transpose(1, 3, 0, 2) for part in x)  # (B, H, E, M) -> (H, M, B, E)
    w_re, w_im = (weights[..., i].transpose(0, 3, 1, 2) for i in (0, 1))  # (H, E, O, M) -> (H, M, E, O)
    re, im = complex_matmul(x_re, x_im, w_re, w_im)  # (H, M, B, O)
    return re.transpose(2, 0, 3, 1), im.transpose(2, 0, 3, 1)  # (B, H, O, M)


def _modes(x: Tensor, index: np.ndarray) -> ComplexPair:
    """The Fourier coefficients of x (B, L, H, E) over time at the bins `index`: (B, H, E, M) pairs."""
    return spectrum(x.transpose(0, 2, 3, 1), axis=-1, bins=index)


class _FourierBlock(nn.Module):
    """Frequency enhanced block (self-attention's place): the query's chosen modes times learned complex weights.

    As neuralforecast (and the paper's code), the mode taken from bin `index[w]` is written to
    bin w of the output spectrum, and the (B, H, E, L) result is read by `AttentionLayer` as
    (B, L, H * E) in memory order. Keys and values are not used.

    forward(q (B, L, H, E), k, v) -> (B, H, E, L).
    """

    inputs = ("q",)

    def __init__(self, in_channels: int, out_channels: int, seq_len: int, modes: int, mode_select: str) -> None:
        super().__init__()
        self.register_buffer("index", _frequency_modes(seq_len, modes, mode_select))
        self.weights1 = _complex_weights(in_channels, out_channels, len(self.index))

    def forward(self, q: Tensor, k: Tensor | None, v: Tensor | None) -> Tensor:
        length = q.shape[1]
        re, im = _mix(_modes(q, self.index), self.weights1)  # (B, H, O, M)
        return signal(re, im, n=length, bins=np.arange(len(self.index)))  # mode w -> bin w


class _FourierCrossAttention(nn.Module):
    """Frequency enhanced attention (cross-attention's place) between the chosen modes of queries and keys.

    tanh(Q^T K) over the modes (complex, no conjugate) weights the key modes, the result is
    mixed by learned complex weights, written back to the query's bins, divided by
    in_channels * out_channels and transformed back. Values are not used.

    forward(q (B, L, H, E), k (B, S, H, E), v) -> (B, H, E, L).
    """

    inputs = ("q", "k")

    def __init__(self, in_channels: int, out_channels: int, seq_len_q: int, seq_len_kv: int, modes: int,
                 mode_select: str) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.register_buffer("index_q", _frequency_modes(seq_len_q, modes, mode_select))
        self.register_buffer("index_kv", _frequency_modes(seq_len_kv, modes, mode_select))
        self.weights1 = _complex_weights(in_channels, out_channels, len(self.index_q))

    def forward(self, q: Tensor, k: Tensor, v: Tensor | None) -> Tensor:
        length = q.shape[1]
        xq, xk = _modes(q, self.index_q), _modes(k, self.index_kv)  # (B, H, E, Mq), (B, H, E, Mk)
        qk = complex_tanh(*complex_matmul(xq[0].swapaxes(-1, -2), xq[1].swapaxes(-1, -2), *xk))  # (B, H, Mq, Mk)
        qkv = complex_matmul(*xk, qk[0].swapaxes(-1, -2), qk[1].swapaxes(-1, -2))  # (B, H, E, Mq)
        re, im = _mix(qkv, self.weights1)  # (B, H, O, Mq)
        scale = 1.0 / (self.in_channels * self.out_channels)
        return signal(re * scale, im * scale, n=length, bins=self.index_q)


class _FEDformerNetwork(DecompositionTransformer):
    """The decomposition Transformer with Fourier blocks; counts parameters as PyTorch does."""

    def num_parameters(self) -> int:
        """A complex weight, stored as a (real, imaginary) pair, counts as one parameter."""
        pairs = {id(m.weights1): m.weights1.size // 2 for _, m in self.named_modules()
                 if isinstance(m, (_FourierBlock, _FourierCrossAttention))}
        return super().num_parameters() - sum(pairs.values())


@register_model("FEDformer", category="transformer",
                capabilities=("univariate", "multi_step", "batch_processing", "long_horizon"))
class FEDformer(WindowForecaster):
    """FEDformer: Autoformer's progressive decomposition with attention done on Fourier modes.

    Every layer separates a moving-average trend from the seasonal stream, as in Autoformer.
    Self-attention is a frequency enhanced block: the queries' Fourier coefficients at `modes`
    chosen bins (random or lowest, `mode_select`) are multiplied by learned complex weights per
    head and transformed back; one block is shared by all encoder layers, as in neuralforecast.
    Cross-attention weighs the keys' modes by tanh of the complex query-key products, then
    applies complex weights. Only `version="Fourier"` exists (as in neuralforecast); it needs 8
    heads. Shapes: (B, input_size) -> (B, h, n_outputs). Future exogenous columns enter the
    embeddings; historical and static ones are not supported.

    Args:
        decoder_input_size_multiplier: label_len = ceil(input_size * multiplier), in (0, 1).
        version: "Fourier" (the wavelet version is not ported, as in neuralforecast).
        modes: Fourier modes kept per block (at most half the sequence length).
        mode_select: "random" modes (drawn with the random seed, saved with the model) or the "low"est.
        hidden_size: width D (a multiple of 8).
        dropout: dropout in the embeddings and after every sub-layer.
        n_head: heads; must be 8 (the complex weights have 8 head blocks).
        conv_hidden_size: channels of the pointwise feed-forward blocks.
        activation: "gelu" or "relu" in the feed-forward blocks.
        encoder_layers, decoder_layers: number of layers.
        MovingAvg_window: width of the moving averages of the decompositions (odd).
        futr_exog_list: future exogenous columns.

    References:
        Zhou, T., Ma, Z., Wen, Q., Wang, X., Sun, L., Jin, R. (2022). "FEDformer: Frequency
        Enhanced Decomposed Transformer for Long-term Series Forecasting". ICML 2022. arXiv:2201.12740.
    """

    EXOGENOUS_HIST: ClassVar[bool] = False
    EXOGENOUS_STAT: ClassVar[bool] = False
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 2},
        "decoder_input_size_multiplier": {"exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "modes": {"minimum": 1},
        "hidden_size": {"minimum": 8, "multipleOf": 8},
        "dropout": {"minimum": 0, "exclusiveMaximum": 1},
        "n_head": {"enum": [8]},
        "conv_hidden_size": {"minimum": 1},
        "encoder_layers": {"minimum": 1},
        "decoder_layers": {"minimum": 1},
        "MovingAvg_window": {"minimum": 1},
    }

    def __init__(
        self, h: int, input_size: int, futr_exog_list: tuple[str, ...] | None = None,
        decoder_input_size_multiplier: float = 0.5, version: Literal["Fourier"] = "Fourier", modes: int = 64,
        mode_select: Literal["random", "low"] = "random", hidden_size: int = 128, dropout: float = 0.05,
        n_head: int = 8, conv_hidden_size: int = 32, activation: Literal["gelu", "relu"] = "gelu",
        encoder_layers: int = 2, decoder_layers: int = 1, MovingAvg_window: int = 25,  # noqa: N803
        loss: LossSpec = "mae", max_steps: int = 5000, learning_rate: float = 1e-4, num_lr_decays: int = -1,
        early_stop_patience_steps: int = -1, val_check_steps: int = 100, batch_size: int = 32,
        windows_batch_size: int = 1024, inference_windows_batch_size: int = 1024, start_padding_enabled: bool = False,
        step_size: int = 1, scaler_type: ScalerSpec = "identity", random_seed: int = 1,
        gradient_clip_val: float | None = None, optimizer: OptimizerSpec = "adam", precision: Precision = "float32",
    ) -> None:
        super().__init__(
            h=h, input_size=input_size, loss=loss, max_steps=max_steps, learning_rate=learning_rate,
            num_lr_decays=num_lr_decays, early_stop_patience_steps=early_stop_patience_steps,
            val_check_steps=val_check_steps, batch_size=batch_size, windows_batch_size=windows_batch_size,
            inference_windows_batch_size=inference_windows_batch_size, step_size=step_size,
            start_padding_enabled=start_padding_enabled, scaler_type=scaler_type, random_seed=random_seed,
            gradient_clip_val=gradient_clip_val, optimizer=optimizer, precision=precision,
            futr_exog_list=futr_exog_list,
        )
        if MovingAvg_window % 2 == 0:
            raise UsageError(f"FEDformer's MovingAvg_window must be odd, found {MovingAvg_window}.",
                             hint=f"use {MovingAvg_window + 1} (the default is 25).")
        self.label_len = decoder_start_length(self.name, self.input_size, decoder_input_size_multiplier)
        self.decoder_input_size_multiplier, self.version = decoder_input_size_multiplier, version
        self.modes, self.mode_select, self.hidden_size, self.dropout = modes, mode_select, hidden_size, dropout
        self.n_head, self.conv_hidden_size, self.activation = n_head, conv_hidden_size, activation
        self.encoder_layers, self.decoder_layers = encoder_layers, decoder_layers
        self.MovingAvg_window = MovingAvg_window

    def _build_network(self) -> nn.Module:
        d, decoder_len = self.hidden_size, self.input_size // 2 + self.h
        encoder_block = _FourierBlock(d, d, self.input_size, self.modes, self.mode_select)
        decoder_block = _FourierBlock(d, d, decoder_len, self.modes, self.mode_select)
        cross_block = _FourierCrossAttention(d, d, decoder_len, self.input_size, self.modes, self.mode_select)

        def layer(block: nn.Module) -> AttentionLayer:
            return AttentionLayer(block, d, self.n_head, "inner_correlation")

        network = _FEDformerNetwork(
            input_size=self.input_size, h=self.h, label_len=self.label_len, futr_size=self.futr_exog_size,
            n_outputs=self.loss.outputsize_multiplier, hidden_size=d, dropout=self.dropout,
            conv_hidden_size=self.conv_hidden_size, activation=self.activation, encoder_layers=self.encoder_layers,
            decoder_layers=self.decoder_layers, moving_avg=self.MovingAvg_window,
            encoder_attention=lambda: layer(encoder_block), decoder_self_attention=lambda: layer(decoder_block),
            decoder_cross_attention=lambda: layer(cross_block),
        )
        network.independent_rows = self.dropout == 0  # no batch statistics: repeated windows merge in training
        return network
