"""LSTM: a multi-layer LSTM encoder with an MLP decoder (neuralforecast's LSTM)."""

from __future__ import annotations

from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, linear, lstm_scan, stack
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models._recurrent import RecurrentEncoder, RecurrentForecaster
from modreg.runtime.models.base import Precision
from modreg.runtime.nn import init

__all__ = ["LSTM"]

_Pair = tuple[Tensor, Tensor]


class _LSTMEncoder(RecurrentEncoder):
    """LSTM layers with PyTorch's gates (i, f, g, o) and its optional output projection.

    With `proj_size` P > 0 each layer has `weight_hr_l{k}` (P, H) and passes h_t = W_hr (o_t *
    tanh(c_t)) of size P to the next step and layer (PyTorch's `proj_size`); that path is
    composed from elementwise ops, the plain one is the fused `lstm_scan`.
    """

    gates = 4

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, bias: bool, dropout: float,
                 proj_size: int = 0) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, dropout, output_size=proj_size or None)
        self.proj_size = proj_size
        bound = init.fan_in_bound(hidden_size)
        for k in range(num_layers if proj_size else 0):
            setattr(self, f"weight_hr_l{k}", nn.Parameter(init.uniform((proj_size, hidden_size), bound)))

    def _zero_state(self, x: Tensor) -> _Pair:
        return self._zeros(x, self.output_size), self._zeros(x, self.hidden_size)

    def _layer(self, k: int, seq: Tensor, state: _Pair) -> tuple[Tensor, _Pair]:
        w_ih, bias = self._weight("weight_ih", k), self._input_bias(k)
        if self.proj_size:
            return self._projected(k, linear(seq, w_ih, bias), state)  # (T, B, 4H)
        hs, c_n = lstm_scan(seq, state[0], state[1], self._weight("weight_hh", k), w_ih=w_ih, bias=bias)  # (T, B, H)
        return hs, (hs[-1], c_n)

    def _projected(self, k: int, xw: Tensor, state: _Pair) -> tuple[Tensor, _Pair]:
        w_hh, w_hr, hid = self._weight("weight_hh", k), self._weight("weight_hr", k), self.hidden_size
        h, c = state
        outs = []
        for t in range(xw.shape[0]):
            z = xw[t] + linear(h, w_hh)  # (B, 4H)
            gate_i, gate_f, gate_o = z[:, :hid].sigmoid(), z[:, hid:2 * hid].sigmoid(), z[:, 3 * hid:].sigmoid()
            c = gate_f * c + gate_i * z[:, 2 * hid:3 * hid].tanh()
            h = linear(gate_o * c.tanh(), w_hr)  # (B, P)
            outs.append(h)
        return stack(outs), (h, c)  # (T, B, P)


@register_model("LSTM", category="recurrent", capabilities=("multi_step", "batch_processing", "exogenous"))
class LSTM(RecurrentForecaster):
    """Multi-layer LSTM encoder with an MLP decoder.

    The encoder reads the window of y with the historical, static and future exogenous values.
    By default (`recurrent=False`) its last `h` hidden states (upsampled by a Linear over time
    when h > input_size) are joined with the horizon's future exogenous and mapped to the
    forecast by one MLP shared across steps. With `recurrent=True` the LSTM projects its hidden
    state to the outputs (PyTorch's `proj_size`), training is one step ahead and forecasts roll
    the encoder forward, feeding each prediction back (neuralforecast's `h_train=1`; longer
    teacher-forced training horizons are not supported).

    Args:
        input_size: window length L; -1 (default) uses 3 * h.
        inference_input_size: recurrent mode only: points the rollout starts from (None: input_size).
        encoder_n_layers: stacked LSTM layers.
        encoder_hidden_size: units of each LSTM layer.
        encoder_bias: whether the LSTM layers have biases b_ih and b_hh.
        encoder_dropout: dropout between LSTM layers while training.
        context_size: deprecated in neuralforecast; accepted and ignored.
        decoder_hidden_size: units of the MLP decoder's hidden layers.
        decoder_layers: Linear layers of the MLP decoder (input and output layers included).
        exclude_insample_y: feed zeros instead of the target to the encoder (exogenous only).
        recurrent: forecast by rolling the encoder forward (True) or directly (False).

    References:
        Hochreiter, S., Schmidhuber, J. (1997). "Long Short-Term Memory". Neural Computation
        9(8), 1735-1780.
        Sak, H., Senior, A., Beaufays, F. (2014). "Long Short-Term Memory Based Recurrent Neural
        Network Architectures for Large Vocabulary Speech Recognition". arXiv:1402.1128.
        Wen, R., Torkkola, K., Narayanaswamy, B., Madeka, D. (2017). "A Multi-Horizon Quantile
        Recurrent Forecaster". arXiv:1711.11053.
    """

    def __init__(
        self, h: int, input_size: int = -1, inference_input_size: int | None = None, encoder_n_layers: int = 2,
        encoder_hidden_size: int = 128, encoder_bias: bool = True, encoder_dropout: float = 0.0,
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

    def _build_encoder(self, n_inputs: int, proj_size: int = 0) -> RecurrentEncoder:
        return _LSTMEncoder(n_inputs, self.encoder_hidden_size, self.encoder_n_layers, self.encoder_bias,
                            self.encoder_dropout, proj_size)

    def _rollout_parts(self, n_inputs: int, n_outputs: int) -> tuple[RecurrentEncoder, nn.Linear | None]:
        return self._build_encoder(n_inputs, proj_size=n_outputs), None
