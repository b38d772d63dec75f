"""TiDE: Time-series Dense Encoder, a residual MLP encoder-decoder with projected covariates.

The exogenous series are projected per time step to `temporal_width` features; the window,
the flattened projections and the static features pass a dense residual encoder and decoder
to `decoder_output_dim` features per horizon step, which a temporal decoder (with that step's
projected future covariates) maps to the forecast; a linear skip from the window to the
horizon is added. A port of neuralforecast 3.3.0's `TiDE`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Precision, WindowBatch, WindowForecaster

__all__ = ["TiDE"]


# ----- Blocks -----
class _MLPResidual(nn.Module):
    """ReLU MLP with a linear skip: norm(dropout(lin2(relu(lin1(x)))) + skip(x)), over the last axis."""

    def __init__(self, input_dim: int, hidden_size: int, output_dim: int, dropout: float, layernorm: bool) -> None:
        super().__init__()
        self.lin1 = nn.Linear(input_dim, hidden_size)
        self.lin2 = nn.Linear(hidden_size, output_dim)
        self.skip = nn.Linear(input_dim, output_dim)
        self.drop = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(output_dim) if layernorm else None

    def forward(self, x: Tensor) -> Tensor:
        out = self.drop(self.lin2(self.lin1(x).relu())) + self.skip(x)
        return out if self.norm is None else self.norm(out)


class _TiDENetwork(nn.Module):
    """Covariate projections -> dense encoder -> dense decoder -> temporal decoder, plus a global skip."""

    def __init__(self, *, h: int, input_size: int, sizes: tuple[int, int, int], n_outputs: int, hidden_size: int,
                 decoder_output_dim: int, temporal_decoder_dim: int, dropout: float, layernorm: bool,
                 num_encoder_layers: int, num_decoder_layers: int, temporal_width: int,
                 exclude_insample_y: bool) -> None:
        super().__init__()
        hist, futr, stat = sizes
        self.h, self.exclude_insample_y = h, exclude_insample_y

        def block(n_in: int, n_out: int, hidden: int = hidden_size) -> _MLPResidual:
            return _MLPResidual(n_in, hidden, n_out, dropout, layernorm)

        self.hist_exog_projection = block(hist, temporal_width) if hist else None
        self.futr_exog_projection = block(futr, temporal_width) if futr else None
        n_inputs = (input_size + input_size * bool(hist) * temporal_width
                    + (input_size + h) * bool(futr) * temporal_width + stat)
        self.dense_encoder = nn.Sequential(*(block(n_inputs if i == 0 else hidden_size, hidden_size)
                                             for i in range(num_encoder_layers)))
        last = num_decoder_layers - 1
        self.dense_decoder = nn.Sequential(*(block(hidden_size, decoder_output_dim * h if i == last else hidden_size)
                                             for i in range(num_decoder_layers)))
        self.temporal_decoder = block(decoder_output_dim + bool(futr) * temporal_width, n_outputs,
                                      temporal_decoder_dim)
        self.global_skip = nn.Linear(input_size, h * n_outputs)

    def forward(self, batch: WindowBatch) -> Tensor:
        x = batch.insample_y * 0.0 if self.exclude_insample_y else batch.insample_y  # (B, L)
        size, length = x.shape
        skip = self.global_skip(x).reshape(size, self.h, -1)  # (B, L) -> (B, h, Q)
        parts = [x]
        if self.hist_exog_projection is not None:
            parts.append(self.hist_exog_projection(batch.hist_exog).reshape(size, -1))  # (B, L, X) -> (B, L * W)
        if self.futr_exog_projection is not None:
            futr = self.futr_exog_projection(batch.futr_exog)  # (B, L + h, F) -> (B, L + h, W)
            parts.append(futr.reshape(size, -1))  # (B, (L + h) * W)
        if batch.stat_exog is not None:
            parts.append(batch.stat_exog)  # (B, S)
        encoded = self.dense_encoder(concat(parts, axis=1) if len(parts) > 1 else x)  # (B, hidden)
        decoded = self.dense_decoder(encoded).reshape(size, self.h, -1)  # (B, h * D) -> (B, h, D)
        if self.futr_exog_projection is not None:
            decoded = concat([decoded, futr[:, length:]], axis=2)  # (B, h, D + W)
        return self.temporal_decoder(decoded) + skip  # (B, h, Q)


@register_model("TiDE", category="advanced",
                capabilities=("univariate", "multi_step", "batch_processing", "exogenous", "long_horizon"))
class TiDE(WindowForecaster):
    """Time-series Dense Encoder: residual MLP blocks over the window and projected covariates.

    Every residual block is ReLU MLP + linear skip, dropout and layer norm. The historical and
    future exogenous columns are projected per step to `temporal_width` features; the encoder
    reads [window | projected historical | projected future (L + h) | static], the decoder
    emits `decoder_output_dim` features for each of the h steps, and the temporal decoder maps
    each step's features (with its projected future covariates) to the output, to which a
    linear map of the window is added. Shapes: window (B, input_size) [+ hist (B, L, X),
    futr (B, L + h, F), static (B, S)] -> (B, h, n_outputs).

    As in neuralforecast 3.3.0, with `layernorm` (the default) and a point loss the temporal
    decoder ends in a LayerNorm over its single output, which always returns that norm's bias:
    only the global skip and that bias then learn. `layernorm=False` trains the dense layers too.
    neuralforecast also builds the historical projection whenever any temporal exogenous column
    is set, even with no historical column (an unused block of 0 inputs); here it exists only
    with historical columns, which changes nothing computed.

    Args:
        hidden_size: units of the dense encoder and decoder blocks.
        decoder_output_dim: features per horizon step out of the dense decoder.
        temporal_decoder_dim: hidden units of the temporal decoder.
        dropout: dropout of every residual block.
        layernorm: layer normalisation at the end of every residual block.
        num_encoder_layers: residual blocks of the encoder.
        num_decoder_layers: residual blocks of the decoder.
        temporal_width: features each time step's covariates are projected to.
        exclude_insample_y: drop the target's past values from the inputs (exogenous only).

    References:
        Das, A., Kong, W., Leach, A., Mathur, S., Sen, R., Yu, R. (2023). "Long-term Forecasting
        with TiDE: Time-series Dense Encoder". TMLR. https://arxiv.org/abs/2304.08424
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 1},
        "hidden_size": {"minimum": 1},
        "decoder_output_dim": {"minimum": 1},
        "temporal_decoder_dim": {"minimum": 1},
        "dropout": {"minimum": 0, "exclusiveMaximum": 1},
        "num_encoder_layers": {"minimum": 1},
        "num_decoder_layers": {"minimum": 1},
        "temporal_width": {"minimum": 1},
    }

    def __init__(
        self, h: int, input_size: int, hidden_size: int = 512, decoder_output_dim: int = 32,
        temporal_decoder_dim: int = 128, dropout: float = 0.3, layernorm: bool = True, num_encoder_layers: int = 1,
        num_decoder_layers: int = 1, temporal_width: int = 4, futr_exog_list: tuple[str, ...] | None = None,
        hist_exog_list: tuple[str, ...] | None = None, stat_exog_list: tuple[str, ...] | None = None,
        exclude_insample_y: bool = False, loss: LossSpec = "mae", max_steps: int = 1000, learning_rate: float = 1e-3,
        num_lr_decays: int = -1, early_stop_patience_steps: int = -1, val_check_steps: int = 100,
        batch_size: int = 32, windows_batch_size: int = 1024, inference_windows_batch_size: int = 1024,
        start_padding_enabled: bool = False, step_size: int = 1, scaler_type: ScalerSpec = "identity",
        random_seed: int = 1, gradient_clip_val: float | None = None, optimizer: OptimizerSpec = "adam",
        precision: Precision = "float32",
    ) -> None:
        super().__init__(
            h=h, input_size=input_size, loss=loss, max_steps=max_steps, learning_rate=learning_rate,
            num_lr_decays=num_lr_decays, early_stop_patience_steps=early_stop_patience_steps,
            val_check_steps=val_check_steps, batch_size=batch_size, windows_batch_size=windows_batch_size,
            inference_windows_batch_size=inference_windows_batch_size, step_size=step_size,
            start_padding_enabled=start_padding_enabled, scaler_type=scaler_type, random_seed=random_seed,
            gradient_clip_val=gradient_clip_val, optimizer=optimizer, precision=precision,
            futr_exog_list=futr_exog_list, hist_exog_list=hist_exog_list, stat_exog_list=stat_exog_list,
        )
        self.hidden_size, self.decoder_output_dim = hidden_size, decoder_output_dim
        self.temporal_decoder_dim, self.dropout, self.layernorm = temporal_decoder_dim, dropout, layernorm
        self.num_encoder_layers, self.num_decoder_layers = num_encoder_layers, num_decoder_layers
        self.temporal_width, self.exclude_insample_y = temporal_width, exclude_insample_y

    def _build_network(self) -> nn.Module:
        network = _TiDENetwork(
            h=self.h, input_size=self.input_size, n_outputs=self.loss.outputsize_multiplier,
            sizes=(self.hist_exog_size, self.futr_exog_size, self.stat_exog_size), hidden_size=self.hidden_size,
            decoder_output_dim=self.decoder_output_dim, temporal_decoder_dim=self.temporal_decoder_dim,
            dropout=self.dropout, layernorm=self.layernorm, num_encoder_layers=self.num_encoder_layers,
            num_decoder_layers=self.num_decoder_layers, temporal_width=self.temporal_width,
            exclude_insample_y=self.exclude_insample_y,
        )
        network.independent_rows = self.dropout == 0  # repeated windows are merged in training
        return network
