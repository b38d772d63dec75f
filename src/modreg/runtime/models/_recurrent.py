"""The wiring RNN, LSTM and GRU share (neuralforecast 3.3.0's `models/rnn.py`, `lstm.py`, `gru.py`).

The three models differ only in the recurrent cell; everything else lives here:

- `RecurrentEncoder`: a multi-layer, batch-first recurrence with PyTorch's parameter names and
  shapes (`weight_ih_l{k}`, `weight_hh_l{k}`, optional `bias_ih_l{k}`, `bias_hh_l{k}`), dropout
  between layers and an explicit state, so inference can continue a sequence step by step.
  Subclasses (in `rnn.py`, `lstm.py`, `gru.py`) implement one layer with the fused scans.
- `DirectNetwork` (`recurrent=False`, the default): the encoder reads the window (y, historical,
  static and the input part of the future exogenous), its last `h` hidden states (or, when
  h > input_size, a Linear(input_size -> h) over time) are joined with the horizon's future
  exogenous and decoded step by step by one shared MLP.
- `RolloutNetwork` (`recurrent=True`): a projection of every hidden state predicts the next
  value; training is one step ahead on windows of input_size + 1 points (neuralforecast's
  default `h_train=1`); forecasting rolls the encoder forward, feeding each prediction back.
- `RecurrentForecaster`: the WindowForecaster both networks plug into, with the window layouts
  recurrent mode needs.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat, dropout
from modreg.runtime.data import SeriesFrame
from modreg.runtime.models._decoder import MLPDecoder, encoder_input
from modreg.runtime.models.base import WindowBatch, WindowForecaster
from modreg.runtime.nn import init
from modreg.runtime.training.fit import ProgressFn
from modreg.runtime.training.windows import Target, WindowLayout

if TYPE_CHECKING:
    from typing import Self

__all__ = ["DirectNetwork", "RecurrentEncoder", "RecurrentForecaster", "RolloutNetwork"]

State = Any  # per layer: a (B, H) Tensor, or (h, c) for the LSTM


class RecurrentEncoder(nn.Module):
    """Stacked recurrent layers over (B, T, F) with PyTorch's parameters and initialisation.

    Args:
        input_size: F, channels of the input.
        hidden_size: H, units of each layer.
        num_layers: stacked layers.
        bias: whether the layers have the biases b_ih and b_hh.
        dropout: dropout on the outputs of every layer but the last, while training.
        output_size: size of the state passed between steps and layers (the LSTM's projection);
            None means hidden_size.

    Every tensor is drawn from U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch.
    """

    gates: ClassVar[int] = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 dropout: float = 0.0, output_size: int | None = None) -> None:
        super().__init__()
        self.hidden_size, self.num_layers, self.dropout = hidden_size, num_layers, dropout
        self.output_size = output_size or hidden_size
        bound, rows = init.fan_in_bound(hidden_size), self.gates * hidden_size
        for k in range(num_layers):
            fan = input_size if k == 0 else self.output_size
            setattr(self, f"weight_ih_l{k}", nn.Parameter(init.uniform((rows, fan), bound)))
            setattr(self, f"weight_hh_l{k}", nn.Parameter(init.uniform((rows, self.output_size), bound)))
            if bias:
                setattr(self, f"bias_ih_l{k}", nn.Parameter(init.uniform((rows,), bound)))
                setattr(self, f"bias_hh_l{k}", nn.Parameter(init.uniform((rows,), bound)))

    def forward(self, x: Tensor, state: list[State] | None = None) -> tuple[Tensor, list[State]]:
        """x (B, T, F), per-layer state (None: zeros) -> (outputs (B, T, output_size), final states)."""
        seq = x.transpose(1, 0, 2)  # (B, T, F) -> time-major (T, B, F)
        states = state if state is not None else [self._zero_state(x) for _ in range(self.num_layers)]
        finals = []
        for k in range(self.num_layers):
            seq, final = self._layer(k, seq, states[k])
            finals.append(final)
            if k < self.num_layers - 1:
                seq = dropout(seq, self.dropout, self.training)
        return seq.transpose(1, 0, 2), finals  # (T, B, H) -> (B, T, H)

    def _layer(self, k: int, seq: Tensor, state: State) -> tuple[Tensor, State]:
        """One layer over the time-major sequence (T, B, F) -> (T, B, output_size), final state."""
        raise NotImplementedError

    def _zero_state(self, x: Tensor) -> State:
        return self._zeros(x, self.output_size)

    @staticmethod
    def _zeros(x: Tensor, size: int) -> Tensor:
        return Tensor(np.zeros((x.shape[0], size), dtype=x.dtype))

    def _weight(self, name: str, k: int) -> nn.Parameter | None:
        """The parameter `{name}_l{k}`, or None (biases when bias=False)."""
        return getattr(self, f"{name}_l{k}", None)

    def _input_bias(self, k: int) -> Tensor | None:
        """b_ih + b_hh, added once to the input projection (None without biases)."""
        b_ih, b_hh = self._weight("bias_ih", k), self._weight("bias_hh", k)
        return None if b_ih is None or b_hh is None else b_ih + b_hh


class DirectNetwork(nn.Module):
    """recurrent=False: encoder -> last h hidden states -> shared MLP decoder per horizon step.

    Args:
        encoder: the recurrent encoder (its input has 1 + X + S + F channels).
        h: horizon. input_size: L.
        futr_size: F, future exogenous channels (also fed to the decoder for the horizon).
        n_outputs: outputs per step (the loss's outputsize_multiplier).
        decoder_hidden_size, decoder_layers: the MLP decoder.
        exclude_insample_y: zero the target in the encoder's input.

    Shapes: WindowBatch (insample_y (B, L)) -> (B, h, n_outputs).
    """

    def __init__(self, encoder: RecurrentEncoder, *, h: int, input_size: int, futr_size: int, n_outputs: int,
                 decoder_hidden_size: int, decoder_layers: int, exclude_insample_y: bool) -> None:
        super().__init__()
        self.h, self.exclude_insample_y = h, exclude_insample_y
        self.independent_rows = encoder.dropout == 0.0
        self.hist_encoder = encoder
        self.mlp_decoder = MLPDecoder(encoder.output_size + futr_size, n_outputs, decoder_hidden_size,
                                      decoder_layers)
        self.upsample_sequence = nn.Linear(input_size, h) if h > input_size else None

    def forward(self, batch: WindowBatch) -> Tensor:
        size = batch.insample_y.shape[1]
        y = batch.insample_y * 0.0 if self.exclude_insample_y else batch.insample_y
        futr = batch.futr_exog
        x = encoder_input(y, batch.hist_exog, batch.stat_exog, None if futr is None else futr[:, :size])
        hidden, _ = self.hist_encoder(x)  # (B, L, H)
        if self.upsample_sequence is not None:
            hidden = self.upsample_sequence(hidden.swapaxes(1, 2)).swapaxes(1, 2)  # (B, H, L) -> (B, H, h) -> (B, h, H)
        else:
            hidden = hidden[:, -self.h:]  # (B, L, H) -> (B, h, H)
        if futr is not None:
            hidden = concat([hidden, futr[:, -self.h:]], axis=2)  # (B, h, H + F)
        return self.mlp_decoder(hidden)  # (B, h, n_outputs)


class RolloutNetwork(nn.Module):
    """recurrent=True: at every step the encoder (+ `proj`) predicts the next value.

    Step t reads y_t, the historical exogenous of t + 1 (0 past the window), the static values
    and the future exogenous of t + 1, as neuralforecast shifts them. In training mode the
    output is the prediction after the last input point, (B, 1, K). In eval mode the encoder
    rolls forward `h` steps from the window's final state, each step reading `feedback` of the
    previous step's K outputs as its y (default: their mean; a distribution loss gives its
    mean): (B, h, K).

    Args:
        encoder: the recurrent encoder; its outputs are the predictions when `proj` is None.
        proj: Linear(hidden -> K) applied to every hidden state, or None (LSTM's projection).
        h: forecast horizon of the rollout.
        exclude_insample_y: zero the window's target values in the input.
    """

    def __init__(self, encoder: RecurrentEncoder, proj: nn.Linear | None, *, h: int,
                 exclude_insample_y: bool) -> None:
        super().__init__()
        self.h, self.exclude_insample_y = h, exclude_insample_y
        self.independent_rows = encoder.dropout == 0.0
        self.hist_encoder = encoder
        self.proj = proj

    def forward(self, batch: WindowBatch, feedback: Callable[[Tensor], Tensor] | None = None) -> Tensor:
        size = batch.insample_y.shape[1]
        out, state = self._step(self._window_input(batch, size), None)  # (B, T, K)
        if self.training:
            return out[:, -1:]  # (B, 1, K)
        return self._rollout(batch, out[:, -1:], state, size, feedback or (lambda o: o.mean(axis=2)))

    def _window_input(self, batch: WindowBatch, size: int) -> Tensor:
        y = batch.insample_y * 0.0 if self.exclude_insample_y else batch.insample_y
        hist = batch.hist_exog
        if hist is not None:
            hist = concat([hist[:, 1:], hist[:, :1] * 0.0], axis=1)  # x_{t+1}; unknown after the window
        futr = None if batch.futr_exog is None else batch.futr_exog[:, 1:size + 1]  # f_{t+1}: (B, T, F)
        return encoder_input(y, hist, batch.stat_exog, futr)

    def _step(self, x: Tensor, state: list[State] | None) -> tuple[Tensor, list[State]]:
        out, state = self.hist_encoder(x, state)
        return (out if self.proj is None else self.proj(out)), state

    def _rollout(self, batch: WindowBatch, first: Tensor, state: list[State], size: int,
                 feedback: Callable[[Tensor], Tensor]) -> Tensor:
        outs = [first]
        hist = None if batch.hist_exog is None else batch.hist_exog[:, :1] * 0.0  # (B, 1, X) zeros
        for tau in range(1, self.h):
            futr = None if batch.futr_exog is None else batch.futr_exog[:, size + tau:size + tau + 1]  # (B, 1, F)
            x = encoder_input(feedback(outs[-1]), hist, batch.stat_exog, futr)  # (B, 1, C)
            out, state = self._step(x, state)
            outs.append(out)
        return concat(outs, axis=1)  # (B, h, K)


class RecurrentForecaster(WindowForecaster):
    """neuralforecast's RNN/LSTM/GRU training and inference around a cell-specific encoder.

    Subclasses declare their explicit `__init__` (passing everything here by keyword) and
    implement `_build_encoder`; the LSTM also overrides `_rollout_parts` (its projection).
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "encoder_n_layers": {"minimum": 1},
        "encoder_hidden_size": {"minimum": 1},
        "encoder_dropout": {"minimum": 0, "exclusiveMaximum": 1},
        "decoder_hidden_size": {"minimum": 1},
        "decoder_layers": {"minimum": 2},
    }
    _fitting = False

    def __init__(
        self, *, inference_input_size: int | None, encoder_n_layers: int, encoder_hidden_size: int,
        encoder_bias: bool, encoder_dropout: float, context_size: int | None, decoder_hidden_size: int,
        decoder_layers: int, exclude_insample_y: bool, recurrent: bool, **window_params: Any,
    ) -> None:
        super().__init__(**window_params)
        self.inference_input_size = inference_input_size
        self.encoder_n_layers, self.encoder_hidden_size = encoder_n_layers, encoder_hidden_size
        self.encoder_bias, self.encoder_dropout = encoder_bias, encoder_dropout
        self.context_size = context_size
        self.decoder_hidden_size, self.decoder_layers = decoder_hidden_size, decoder_layers
        self.exclude_insample_y, self.recurrent = exclude_insample_y, recurrent
        if context_size is not None:
            warnings.warn(f"{self.name}: context_size is deprecated (as in neuralforecast) and has no effect.",
                          stacklevel=3)

    # ----- The network -----

    def _build_encoder(self, n_inputs: int) -> RecurrentEncoder:
        """The cell-specific encoder reading `n_inputs` channels."""
        raise NotImplementedError

    def _rollout_parts(self, n_inputs: int, n_outputs: int) -> tuple[RecurrentEncoder, nn.Linear | None]:
        """Recurrent mode: the encoder and the Linear(hidden -> outputs) on its states."""
        return self._build_encoder(n_inputs), nn.Linear(self.encoder_hidden_size, n_outputs)

    def _build_network(self) -> nn.Module:
        n_inputs = 1 + self.hist_exog_size + self.stat_exog_size + self.futr_exog_size
        n_outputs = self.loss.outputsize_multiplier
        if self.recurrent:
            encoder, proj = self._rollout_parts(n_inputs, n_outputs)
            return RolloutNetwork(encoder, proj, h=self.h, exclude_insample_y=self.exclude_insample_y)
        return DirectNetwork(
            self._build_encoder(n_inputs), h=self.h, input_size=self.input_size, futr_size=self.futr_exog_size,
            n_outputs=n_outputs, decoder_hidden_size=self.decoder_hidden_size,
            decoder_layers=self.decoder_layers, exclude_insample_y=self.exclude_insample_y,
        )

    # ----- Windows: recurrent mode reads input_size + 1 points -----

    def fit(self, data: SeriesFrame, *, progress: ProgressFn | None = None) -> Self:
        """Train on `data` (recurrent mode: one step ahead on windows of input_size + 1 points)."""
        self._fitting = True
        try:
            return super().fit(data, progress=progress)
        finally:
            self._fitting = False

    def _layout(self) -> WindowLayout:
        if not self.recurrent:
            return super()._layout()
        if self._fitting:
            return self._recurrent_layout(self.input_size, 1)
        return self._recurrent_layout(self._inference_size, self.h)

    def _network_output(self, batch: WindowBatch, target: Target) -> Tensor:
        if not self.recurrent:
            return super()._network_output(batch, target)
        return self.network(batch, feedback=functools.partial(self.loss.feedback, scaling=target.scaling))  # type: ignore[misc]

    def _validation(self, data: SeriesFrame, layout: WindowLayout) -> Any:
        if self.recurrent:  # validate the h-step rollout, as neuralforecast does
            layout = self._recurrent_layout(self.input_size, self.h)
        return super()._validation(data, layout)

    def _recurrent_layout(self, size: int, h: int) -> WindowLayout:
        return WindowLayout(size + 1, h, self.hist_exog_list or (), self.futr_exog_list or (),
                            self.stat_exog_list or ())

    @property
    def _inference_size(self) -> int:
        size = self.inference_input_size
        return self.input_size if size is None or size < 1 else size

    @property
    def context_length(self) -> int:  # type: ignore[override]
        return self._inference_size + 1 if self.recurrent else self.input_size
