"""GRU: a multi-layer gated recurrent unit encoder with an MLP decoder (neuralforecast's GRU)."""

from __future__ import annotations

from modreg.runtime.autograd import Tensor, gru_scan
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models._recurrent import RecurrentEncoder, RecurrentForecaster
from modreg.runtime.models.base import Precision

__all__ = ["GRU"]


class _GRUEncoder(RecurrentEncoder):
    """GRU layers with PyTorch's gates (r, z, n); b_hn stays inside the reset product."""

    gates = 3

    def _layer(self, k: int, seq: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        hs = gru_scan(seq, state, self._weight("weight_hh", k), self._weight("bias_hh", k),
                      w_ih=self._weight("weight_ih", k), b_ih=self._weight("bias_ih", k))  # (T, B, H)
        return hs, hs[-1]


@register_model("GRU", category="recurrent", capabilities=("multi_step", "batch_processing", "exogenous"))
class GRU(RecurrentForecaster):
    """Multi-layer GRU encoder with an MLP decoder.

    The encoder reads the window of y with the historical, static and future exogenous values.
    By default (`recurrent=False`) its last `h` hidden states (upsampled by a Linear over time
    when h > input_size) are joined with the horizon's future exogenous and mapped to the
    forecast by one MLP shared across steps. With `recurrent=True` a Linear on every hidden
    state predicts the next value, training is one step ahead and forecasts roll the encoder
    forward, feeding each prediction back (neuralforecast's `h_train=1`; longer teacher-forced
    training horizons are not supported). neuralforecast's deprecated `encoder_activation` is
    left out: a GRU's activations are fixed.

    Args:
        input_size: window length L; -1 (default) uses 3 * h.
        inference_input_size: recurrent mode only: points the rollout starts from (None: input_size).
        encoder_n_layers: stacked GRU layers.
        encoder_hidden_size: units of each GRU layer.
        encoder_bias: whether the GRU layers have biases b_ih and b_hh.
        encoder_dropout: dropout between GRU layers while training.
        context_size: deprecated in neuralforecast; accepted and ignored.
        decoder_hidden_size: units of the MLP decoder's hidden layers.
        decoder_layers: Linear layers of the MLP decoder (input and output layers included).
        exclude_insample_y: feed zeros instead of the target to the encoder (exogenous only).
        recurrent: forecast by rolling the encoder forward (True) or directly (False).

    References:
        Cho, K., van Merrienboer, B., Bahdanau, D., Bengio, Y. (2014). "On the Properties of
        Neural Machine Translation: Encoder-Decoder Approaches". arXiv:1409.1259.
        Chung, J., Gulcehre, C., Cho, K., Bengio, Y. (2014). "Empirical Evaluation of Gated
        Recurrent Neural Networks on Sequence Modeling". arXiv:1412.3555.
    """

    def __init__(
        self, h: int, input_size: int = -1, inference_input_size: int | None = None, encoder_n_layers: int = 2,
        encoder_hidden_size: int = 200, encoder_bias: bool = True, encoder_dropout: float = 0.0,
        context_size: int | None = None, decoder_hidden_size: int = 128, decoder_layers: int = 2,
        exclude_insample_y: bool = False, recurrent: bool = False, loss: LossSpec = "mae", max_steps: int = 1000,
        learning_rate: float = 1e-3, num_lr_decays: int = -1, early_stop_patience_steps: int = -1,
        val_check_steps: int = 100, batch_size: int = 32, windows_batch_size: int = 128,
        inference_windows_batch_size: int = 1024, step_size: int = 1, start_padding_enabled: bool = False,
        scaler_type: ScalerSpec = "robust", random_seed: int = 1, gradient_clip_val: float | None = None,
        optimizer: OptimizerSpec = "adam", precision: Precision = "float32",
        futr_exog_list: tuple[str, ...] | None = None, hist_exog_list: tuple[str, ...] | None = None,
        stat_exog_list: tuple[str, ...] | None = None,
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

    def _build_encoder(self, n_inputs: int) -> RecurrentEncoder:
        return _GRUEncoder(n_inputs, self.encoder_hidden_size, self.encoder_n_layers, self.encoder_bias,
                           self.encoder_dropout)
