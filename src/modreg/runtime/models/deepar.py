"""DeepAR: an autoregressive LSTM with a likelihood head and ancestral sampling (neuralforecast's DeepAR).

At every time step the LSTM reads the previous value of the target (with the future exogenous
values of the step it predicts and the static ones) and a linear head emits the parameters of
the next value's distribution (StudentT by default, `DistributionLoss`). Training is teacher
forced: the inputs are the observed values and the loss is the negative log-likelihood of the
last `h_train` of them. Forecasting draws `trajectory_samples` sample paths: each path samples
the next value from the predicted distribution and feeds it back as the next input, so the
intervals carry the uncertainty of the earlier steps.

Salinas, D., Flunkert, V., Gasthaus, J., Januschowski, T. (2020). "DeepAR: Probabilistic
forecasting with autoregressive recurrent networks". International Journal of Forecasting
36(3), 1181-1191. arXiv:1704.04110.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from modreg.errors import UsageError
from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat, no_grad
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models._decoder import MLPDecoder
from modreg.runtime.models.base import Precision, WindowBatch, WindowForecaster
from modreg.runtime.training.distributions import DistributionLoss
from modreg.runtime.training.fit import ProgressFn, blas_threads
from modreg.runtime.training.windows import Scaling, Target, WindowLayout, Windows, prepare

if TYPE_CHECKING:
    from typing import Self

    from modreg.runtime.data import SeriesFrame
    from modreg.runtime.training.scalers import Scaler

__all__ = ["DeepAR"]

_STUDENT_T = DistributionLoss("StudentT", level=(80, 90))  # the default loss (stateless, shared)
_State = tuple[Tensor, Tensor]  # (h, c), each (num_layers, B, H)
Pick = Callable[[Tensor, Scaling], tuple[Tensor, "np.ndarray | None"]]


class _LinearHead(nn.Module):
    """neuralforecast's MLP with num_layers=1: one Linear, named `layers.0` as in its state dict."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(in_features, out_features))

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class _DeepARNetwork(nn.Module):
    """LSTM over [y_t | futr_{t+1} | static] -> decoder -> K outputs per step (the next value's distribution).

    Args:
        n_inputs: 1 + F + S channels. hidden_size, num_layers, dropout: the LSTM.
        n_outputs: K, the loss's outputs per step.
        decoder_hidden_layers, decoder_hidden_size: 0 hidden layers is one Linear(hidden -> K).
        h_train: the training output covers the last h_train steps.

    Shapes: training forward: WindowBatch (insample_y (B, T), futr_exog (B, T + 1, F)) -> (B, h_train, K).
    """

    def __init__(self, n_inputs: int, hidden_size: int, num_layers: int, dropout: float, n_outputs: int,
                 decoder_hidden_layers: int, decoder_hidden_size: int, h_train: int) -> None:
        super().__init__()
        self.h_train = h_train
        self.independent_rows = dropout == 0.0 or num_layers == 1
        self.hist_encoder = nn.LSTM(n_inputs, hidden_size, num_layers, dropout)
        if decoder_hidden_layers == 0:
            self.decoder: nn.Module = _LinearHead(hidden_size, n_outputs)
        else:
            self.decoder = MLPDecoder(hidden_size, n_outputs, decoder_hidden_size, decoder_hidden_layers + 1)

    def forward(self, batch: WindowBatch) -> Tensor:
        steps = batch.insample_y.shape[1]
        futr = None if batch.futr_exog is None else batch.futr_exog[:, 1:steps + 1]  # f_{t+1}: (B, T, F)
        hidden, _ = self.hist_encoder(_inputs(batch.insample_y, futr, batch.stat_exog))  # (B, T, H)
        return self.decoder(hidden[:, -self.h_train:])  # (B, h_train, K)

    def step(self, y: Tensor, futr: Tensor | None, stat: Tensor | None, state: _State | None) -> tuple[Tensor, _State]:
        """Continue the sequence: y (B, T), futr (B, T, F) -> (outputs (B, T, K), the new state)."""
        hidden, state = self.hist_encoder(_inputs(y, futr, stat), state)
        return self.decoder(hidden), state


def _inputs(y: Tensor, futr: Tensor | None, stat: Tensor | None) -> Tensor:
    """(B, T, 1 + F + S) in neuralforecast's DeepAR order: y, future exogenous, static repeated."""
    batch, steps = y.shape
    parts = [y.reshape(batch, steps, 1)]
    if futr is not None:
        parts.append(futr)
    if stat is not None:
        parts.append(stat.unsqueeze(1).expand(batch, steps, stat.shape[1]))  # (B, S) -> (B, T, S)
    return concat(parts, axis=2) if len(parts) > 1 else parts[0]


def _repeat(value: Any, times: int, axis: int = 0) -> Any:
    """Each row `times` times in a row (np.repeat), for arrays, Tensors, state pairs and None."""
    if value is None or times == 1:
        return value
    if isinstance(value, tuple):
        return tuple(_repeat(v, times, axis) for v in value)
    if isinstance(value, Tensor):
        return Tensor(np.repeat(value.data, times, axis=axis))
    return np.repeat(value, times, axis=axis)


@register_model("DeepAR", category="recurrent",
                capabilities=("multi_step", "batch_processing", "probabilistic", "exogenous"))
class DeepAR(WindowForecaster):
    """DeepAR: autoregressive LSTM, a distribution head, teacher-forced training, sampled paths.

    The loss defaults to DistributionLoss('StudentT', level=[80, 90]); any loss works: a point
    loss makes the rollout feed back its forecast instead of sampling. Validation (early
    stopping) scores the loss itself on a rollout that feeds back each step's mean, where
    neuralforecast's DeepAR defaults its valid_loss to MAE. Forecasts sample paths as the
    paper does; neuralforecast 3.3.0 instead feeds back the mean and samples each step's
    marginal.

    Args:
        h: forecast horizon.
        input_size: past points the LSTM reads before forecasting (plus one); -1 (default) uses 3 * h.
        h_train: training steps scored per window (teacher forced); 1 is one-step-ahead training.
        lstm_n_layers: stacked LSTM layers.
        lstm_hidden_size: units of each LSTM layer.
        lstm_dropout: dropout between LSTM layers while training.
        decoder_hidden_layers: hidden layers of the MLP head; 0 (default) is one linear layer.
        decoder_hidden_size: units of the head's hidden layers.
        trajectory_samples: sample paths drawn per series when forecasting.
        exclude_insample_y: must stay False (DeepAR cannot drop its autoregressive input).
        loss: training loss, DistributionLoss('StudentT', level=[80, 90]) by default.

    References:
        Salinas, D., Flunkert, V., Gasthaus, J., Januschowski, T. (2020). "DeepAR: Probabilistic
        forecasting with autoregressive recurrent networks". International Journal of
        Forecasting 36(3). arXiv:1704.04110.
        Alexandrov, A. et al. (2020). "GluonTS: Probabilistic and Neural Time Series Modeling in
        Python". Journal of Machine Learning Research 21(116).
    """

    EXOGENOUS_HIST: ClassVar[bool] = False
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "h_train": {"minimum": 1},
        "lstm_n_layers": {"minimum": 1},
        "lstm_hidden_size": {"minimum": 1},
        "lstm_dropout": {"minimum": 0, "exclusiveMaximum": 1},
        "decoder_hidden_layers": {"minimum": 0},
        "decoder_hidden_size": {"minimum": 0},
        "trajectory_samples": {"minimum": 1},
    }
    _fitting = False

    def __init__(
        self, h: int, input_size: int = -1, h_train: int = 1, lstm_n_layers: int = 2, lstm_hidden_size: int = 128,
        lstm_dropout: float = 0.1, decoder_hidden_layers: int = 0, decoder_hidden_size: int = 0,
        trajectory_samples: int = 100, exclude_insample_y: bool = False,
        loss: LossSpec = _STUDENT_T, max_steps: int = 1000,
        learning_rate: float = 1e-3, num_lr_decays: int = 3, early_stop_patience_steps: int = -1,
        val_check_steps: int = 100, batch_size: int = 32, windows_batch_size: int = 1024,
        inference_windows_batch_size: int = -1, step_size: int = 1, start_padding_enabled: bool = False,
        scaler_type: ScalerSpec = "identity", random_seed: int = 1, gradient_clip_val: float | None = None,
        optimizer: OptimizerSpec = "adam", precision: Precision = "float32",
        futr_exog_list: tuple[str, ...] | None = None, stat_exog_list: tuple[str, ...] | None = None,
    ) -> None:
        if exclude_insample_y:
            raise UsageError("DeepAR cannot exclude its autoregressive input y (exclude_insample_y must be false).")
        super().__init__(
            h=h, input_size=input_size, loss=loss, max_steps=max_steps, learning_rate=learning_rate,
            num_lr_decays=num_lr_decays, early_stop_patience_steps=early_stop_patience_steps,
            val_check_steps=val_check_steps, batch_size=batch_size, windows_batch_size=windows_batch_size,
            inference_windows_batch_size=inference_windows_batch_size, step_size=step_size,
            start_padding_enabled=start_padding_enabled, scaler_type=scaler_type, random_seed=random_seed,
            gradient_clip_val=gradient_clip_val, optimizer=optimizer, precision=precision,
            futr_exog_list=futr_exog_list, stat_exog_list=stat_exog_list,
        )
        self.h_train, self.lstm_n_layers, self.lstm_hidden_size = h_train, lstm_n_layers, lstm_hidden_size
        self.lstm_dropout, self.decoder_hidden_layers = lstm_dropout, decoder_hidden_layers
        self.decoder_hidden_size, self.trajectory_samples = decoder_hidden_size, trajectory_samples
        self.exclude_insample_y = exclude_insample_y

    def _build_network(self) -> nn.Module:
        return _DeepARNetwork(1 + self.futr_exog_size + self.stat_exog_size, self.lstm_hidden_size,
                              self.lstm_n_layers, self.lstm_dropout, self.loss.outputsize_multiplier,
                              self.decoder_hidden_layers, self.decoder_hidden_size, self.h_train)

    # ----- Windows: input_size + 1 points, then h_train (training) or h (forecasting) -----

    def fit(self, data: SeriesFrame, *, progress: ProgressFn | None = None) -> Self:
        """Train on `data`: windows of input_size + 1 points followed by h_train targets."""
        self._fitting = True
        try:
            return super().fit(data, progress=progress)
        finally:
            self._fitting = False

    def _layout(self) -> WindowLayout:
        return WindowLayout(self.input_size + 1, self.h_train if self._fitting else self.h, (),
                            self.futr_exog_list or (), self.stat_exog_list or ())

    def _validation(self, data: SeriesFrame, layout: WindowLayout) -> Callable[[], float]:
        return super()._validation(data, dataclasses.replace(layout, h=self.h))

    @property
    def context_length(self) -> int:  # type: ignore[override]
        return self.input_size + 1

    def _training_batch(self, windows: Windows, layout: WindowLayout, scaler: Scaler) -> tuple[WindowBatch, Target]:
        """Teacher forcing: the inputs continue with the observed targets but the last."""
        batch, target = prepare(windows, layout, scaler)
        if self.h_train == 1:
            return batch, target
        forced = Tensor(target.y[:, :-1, 0])  # (B, h_train - 1), scaled like the inputs
        mask = Tensor(target.mask[:, :-1, 0])
        return dataclasses.replace(batch, insample_y=concat([batch.insample_y, forced], axis=1),
                                   insample_mask=concat([batch.insample_mask, mask], axis=1)), target

    # ----- Rollouts -----

    def _network_output(self, batch: WindowBatch, target: Target) -> Tensor:
        """(B, h, K): the rollout that feeds back each step's mean (validation)."""
        raw, _ = self._rollout(batch, target.scaling, 1, lambda out, scaling: (self.loss.feedback(out, scaling), None))
        return raw

    def _forecast_chunk(self, windows: Windows, layout: WindowLayout) -> np.ndarray:
        batch, target = prepare(windows, layout, self.scaler_type.create())
        assert self.network is not None
        self.network.eval()
        with no_grad(), blas_threads(1):
            if not isinstance(self.loss, DistributionLoss):
                mapped = self.loss.domain_map(self._network_output(batch, target)).data
                return self.loss.forecast(mapped, target.scaling)
            paths, size, steps, k = self.trajectory_samples, batch.batch_size, self.h, self.loss.outputsize_multiplier
            raw, draws = self._rollout(batch, target.scaling, paths, self._draw)
            assert draws is not None
            draws = draws.reshape(size, paths, steps).transpose(0, 2, 1)  # (B * S, h) -> (B, h, S)
            params = self.loss.parameters(raw.data.reshape(size, paths, steps, k).mean(axis=1), target.scaling)
            return self.loss.summarize(draws, params).astype(self.dtype, copy=False)

    def _draw(self, out: Tensor, scaling: Scaling) -> tuple[Tensor, np.ndarray]:
        """Sample each path's next value: (its scaled value as the next input (N, 1), the value (N,))."""
        value = self.loss.draw(out.data, scaling)  # type: ignore[attr-defined]  # (N, 1)
        scaled = scaling.scaler.transform(value[:, :, None], scaling.shift, scaling.scale)[:, :, 0]
        return Tensor(scaled.astype(self.dtype)), value[:, 0]

    def _rollout(self, batch: WindowBatch, scaling: Scaling, paths: int,
                 pick: Pick) -> tuple[Tensor, np.ndarray | None]:
        """The LSTM over each window, then h steps on `paths` copies of it, each step's input from `pick`.

        Returns the raw outputs (B * paths, h, K) and, when `pick` records values, (B * paths, h).
        """
        assert self.network is not None
        size = batch.insample_y.shape[1]
        futr, stat = batch.futr_exog, _repeat(batch.stat_exog, paths)
        out, state = self.network.step(batch.insample_y, None if futr is None else futr[:, 1:size + 1],
                                       batch.stat_exog, None)
        out, state, futr = _repeat(out[:, -1:], paths), _repeat(state, paths, axis=1), _repeat(futr, paths)
        scaling = Scaling(scaling.scaler, _repeat(scaling.shift, paths), _repeat(scaling.scale, paths))
        outs, values = [out], []
        for tau in range(1, self.h + 1):
            y, value = pick(outs[-1], scaling)
            values.append(value)
            if tau == self.h:
                break
            step_futr = None if futr is None else futr[:, size + tau:size + tau + 1]  # f of the step predicted
            out, state = self.network.step(y, step_futr, stat, state)
            outs.append(out)
        recorded = None if values[0] is None else np.stack(values, axis=1)
        return concat(outs, axis=1), recorded
