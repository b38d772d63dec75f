"""RNN: a multi-layer Elman recurrent encoder with an MLP decoder (neuralforecast's RNN)."""

from __future__ import annotations

from typing import Literal

from modreg.runtime.autograd import Tensor, rnn_scan
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models._recurrent import RecurrentEncoder, RecurrentForecaster
from modreg.runtime.models.base import Precision

__all__ = ["RNN"]


class _ElmanEncoder(RecurrentEncoder):
    """Elman layers: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act tanh or relu."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, bias: bool, dropout: float,
                 nonlinearity: str) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, dropout)
        self.nonlinearity = nonlinearity

    def _layer(self, k: int, seq: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        hs = rnn_scan(seq, state, self._weight("weight_hh", k), self.nonlinearity, w_ih=self._weight("weight_ih", k),
                      bias=self._input_bias(k))  # (T, B, H)
        return hs, hs[-1]


@register_model("RNN", category="recurrent", capabilities=("multi_step", "batch_processing", "exogenous"))
class RNN(RecurrentForecaster):
    """Multi-layer Elman RNN encoder with an MLP decoder.

    The encoder reads the window of y with the historical, static and future exogenous values.
    By default (`recurrent=False`) its last `h` hidden states (upsampled by a Linear over time
    when h > input_size) are joined with the horizon's future exogenous and mapped to the
    forecast by one MLP shared across steps. With `recurrent=True` a Linear on every hidden
    state predicts the next value, training is one step ahead and forecasts roll the encoder
    forward, feeding each prediction back (neuralforecast's `h_train=1`; longer teacher-forced
    training horizons are not supported).

    Args:
        input_size: window length L; -1 (default) uses 3 * h.
        inference_input_size: recurrent mode only: points the rollout starts from (None: input_size).
        encoder_n_layers: stacked RNN layers.
        encoder_hidden_size: units of each RNN layer.
        encoder_activation: the RNN's nonlinearity, tanh or relu.
        encoder_bias: whether the RNN layers have biases b_ih and b_hh.
        encoder_dropout: dropout between RNN layers while training.
        context_size: deprecated in neuralforecast; accepted and ignored.
        decoder_hidden_size: units of the MLP decoder's hidden layers.
        decoder_layers: Linear layers of the MLP decoder (input and output layers included).
        exclude_insample_y: feed zeros instead of the target to the encoder (exogenous only).
        recurrent: forecast by rolling the encoder forward (True) or directly (False).

    References:
        Elman, J. L. (1990). "Finding Structure in Time". Cognitive Science 14(2), 179-211.
        Cho, K., van Merrienboer, B., Gulcehre, C., Bahdanau, D., Bougares, F., Schwenk, H.,
        Bengio, Y. (2014). "Learning Phrase Representations using RNN Encoder-Decoder for
        Statistical Machine Translation". EMNLP. arXiv:1406.1078.
        Wen, R., Torkkola, K., Narayanaswamy, B., Madeka, D. (2017). "A Multi-Horizon Quantile
        Recurrent Forecaster". arXiv:1711.11053.
    """

    def __init__(
        self, h: int, input_size: int = -1, inference_input_size: int | None = None, encoder_n_layers: int = 2,
        encoder_hidden_size: int = 128, encoder_activation: Literal["tanh", "relu"] = "tanh",
        encoder_bias: bool = True, encoder_dropout: float = 0.0, context_size: int | None = None,
        decoder_hidden_size: int = 128, decoder_layers: int = 2, exclude_insample_y: bool = False,
        recurrent: bool = False, loss: LossSpec = "mae", max_steps: int = 1000, learning_rate: float = 1e-3,
        num_lr_decays: int = -1, early_stop_patience_steps: int = -1, val_check_steps: int = 100,
        batch_size: int = 32, windows_batch_size: int = 128, inference_windows_batch_size: int = 1024,
        step_size: int = 1, start_padding_enabled: bool = False, scaler_type: ScalerSpec = "robust",
        random_seed: int = 1, gradient_clip_val: float | None = None, optimizer: OptimizerSpec = "adam",
        precision: Precision = "float32", futr_exog_list: tuple[str, ...] | None = None,
        hist_exog_list: tuple[str, ...] | None = None, stat_exog_list: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(
            h=h, input_size=input_size, inference_input_size=inference_input_size,
            encoder_n_layers=encoder_n_layers, encoder_hidden_size=encoder_hidden_size, encoder_bias=encoder_bias,
            encoder_dropout=encoder_dropout, context_size=context_size, decoder_hidden_size=decoder_hidden_size,
            decoder_layers=decoder_layers, exclude_insample_y=exclude_insample_y, recurrent=recurrent, loss=loss,
            max_steps=max_steps, learning_rate=learning_rate, num_lr_decays=num_lr_decays,
            early_stop_patience_steps=early_stop_patience_steps, val_check_steps=val_check_steps,
            batch_size=batch_size, windows_batch_size=windows_batch_size,
            inference_windows_batch_size=inference_windows_batch_size, step_size=step_size,
            start_padding_enabled=start_padding_enabled, scaler_type=scaler_type, random_seed=random_seed,
            gradient_clip_val=gradient_clip_val, optimizer=optimizer, precision=precision,
            futr_exog_list=futr_exog_list, hist_exog_list=hist_exog_list, stat_exog_list=stat_exog_list,
        )
        self.encoder_activation = encoder_activation

    def _build_encoder(self, n_inputs: int) -> RecurrentEncoder:
        return _ElmanEncoder(n_inputs, self.encoder_hidden_size, self.encoder_n_layers, self.encoder_bias,
                             self.encoder_dropout, self.encoder_activation)
