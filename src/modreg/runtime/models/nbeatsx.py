"""NBEATSx: N-BEATS with historical, future and static exogenous inputs to every block.

Each block's MLP reads [residual window | historical exogenous (L) | future exogenous (L + h) |
static], flattened; its coefficients expand on the NBEATS bases (identity, polynomial trend,
Fourier seasonality) or, in "exogenous" stacks, on the covariates themselves: the backcast and
forecast are linear combinations of the future and static exogenous series, weighted by the
block's coefficients. A port of neuralforecast 3.3.0's `NBEATSx`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from modreg.errors import UsageError
from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, concat
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Precision, WindowBatch, WindowForecaster
from modreg.runtime.models._theta_mlp import ActivationName, ThetaMLP
from modreg.runtime.models.nbeats import _FixedBasis, _IdentityBasis, seasonality_basis, trend_basis

__all__ = ["NBEATSx"]

StackTypeX = Literal["identity", "trend", "seasonality", "exogenous"]


# ----- Blocks -----
class _ExogenousBasis(nn.Module):
    """theta = [C forecast coefficients | C backcast coefficients] on the covariates themselves.

    The covariates (B, L + h, C) are the future exogenous columns followed by the static ones
    repeated over time; backcast = theta_b . covariates[:L], forecast = theta_f . covariates[L:].
    """

    def __init__(self, forecast_size: int) -> None:
        super().__init__()
        self.forecast_size = forecast_size

    def forward(self, theta: Tensor, covariates: Tensor) -> tuple[Tensor, Tensor]:
        size, cut = len(theta), covariates.shape[2]
        past = covariates[:, : -self.forecast_size].transpose(0, 2, 1)  # (B, L, C) -> (B, C, L)
        future = covariates[:, -self.forecast_size:]  # (B, h, C)
        backcast = (theta[:, cut:].unsqueeze(1) @ past).reshape(size, -1)  # (B, 1, C) @ (B, C, L) -> (B, L)
        forecast = future @ theta[:, :cut].unsqueeze(-1)  # (B, h, C) @ (B, C, 1) -> (B, h, 1)
        return backcast, forecast


class _NBEATSxBlock(nn.Module):
    """[residual | hist exog | futr exog | static] -> MLP -> theta -> basis -> (backcast, forecast)."""

    def __init__(self, sizes: tuple[int, int, int], theta_mlp: ThetaMLP,
                 basis: _IdentityBasis | _FixedBasis | _ExogenousBasis) -> None:
        super().__init__()
        self.hist_size, self.futr_size, self.stat_size = sizes
        self.layers = theta_mlp
        self.basis = basis

    def forward(self, residuals: Tensor, batch: WindowBatch) -> tuple[Tensor, Tensor]:
        size = len(residuals)
        parts = [residuals]
        for exog, used in ((batch.hist_exog, self.hist_size), (batch.futr_exog, self.futr_size),
                           (batch.stat_exog, self.stat_size)):
            if used:
                parts.append(exog.reshape(size, -1))  # (B, L * X) | (B, (L + h) * F) | (B, S)
        theta = self.layers(concat(parts, axis=1) if len(parts) > 1 else parts[0])
        if isinstance(self.basis, _ExogenousBasis):
            return self.basis(theta, self._covariates(batch))
        return self.basis(theta)

    def _covariates(self, batch: WindowBatch) -> Tensor:
        """(B, L + h, F + S): the future exogenous columns, then the static ones repeated in time."""
        parts = [batch.futr_exog] if self.futr_size else []
        if self.stat_size:
            stat = batch.stat_exog
            width = batch.insample_y.shape[1] + self.basis.forecast_size
            parts.append(stat.unsqueeze(1).expand(len(stat), width, self.stat_size))  # (B, S) -> (B, L + h, S)
        return concat(parts, axis=2) if len(parts) > 1 else parts[0]


class _NBEATSxNetwork(nn.Module):
    """Doubly residual stacking over the window read backwards; the forecast starts at its last value.

    `order` lists the block run at each position (a stack with shared weights repeats one block).
    """

    def __init__(self, blocks: list[_NBEATSxBlock], order: tuple[int, ...], exclude_insample_y: bool) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.order, self.exclude_insample_y = order, exclude_insample_y

    def forward(self, batch: WindowBatch) -> Tensor:
        y = batch.insample_y * 0.0 if self.exclude_insample_y else batch.insample_y  # (B, L)
        residuals, mask = y.flip(1), batch.insample_mask.data[:, ::-1]
        forecast = y[:, -1:].unsqueeze(-1)  # (B, 1, 1)
        for index in self.order:
            backcast, block_forecast = self.blocks[index](residuals, batch)
            residuals = (residuals - backcast) * mask
            forecast = forecast + block_forecast
        return forecast  # (B, h, Q)

    def num_parameters(self) -> int:
        """Every parameter, the fixed bases included, as `sum(p.numel() for p in parameters())`."""
        return sum(p.size for p in self.parameters())


@register_model("NBEATSx", category="advanced",
                capabilities=("univariate", "multi_step", "batch_processing", "exogenous", "interpretable"))
class NBEATSx(WindowForecaster):
    """Neural Basis Expansion Analysis with exogenous variables.

    NBEATS's doubly residual stacks (window read backwards, backcast removed from each block's
    input, partial forecasts summed from the window's last value), where every block also reads
    the exogenous inputs, and "exogenous" stacks project onto the future and static covariates.
    Shapes: window (B, input_size) [+ hist (B, L, X), futr (B, L + h, F), static (B, S)] ->
    (B, h, n_outputs).

    Args:
        exclude_insample_y: drop the target's past values from the inputs (exogenous only).
        n_harmonics: harmonics of the seasonality basis (frequencies up to n_harmonics * h / 2 per h steps).
        n_polynomials: degree of the polynomial trend basis ((t / T)^i for i = 0..n_polynomials).
        stack_types: the stacks in order, each identity, trend, seasonality or exogenous.
        n_blocks: number of blocks of each stack.
        mlp_units: hidden layers of every block's MLP, as (in, out) pairs.
        dropout_prob_theta: dropout after each hidden activation (0 disables it).
        activation: ReLU, Softplus, Tanh, SELU, LeakyReLU, PReLU or Sigmoid.
        shared_weights: whether the blocks of one stack share their weights.

    References:
        Olivares, K. G., Challu, C., Marcjasz, G., Weron, R., Dubrawski, A. (2023). "Neural basis
        expansion analysis with exogenous variables: Forecasting electricity prices with NBEATSx".
        International Journal of Forecasting 39(2). https://arxiv.org/abs/2104.05522
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 1},
        "n_harmonics": {"minimum": 1},
        "n_polynomials": {"minimum": 0},
        "stack_types": {"minItems": 1},
        "n_blocks": {"minItems": 1, "items": {"type": "integer", "minimum": 1}},
        "mlp_units": {"minItems": 1},
        "dropout_prob_theta": {"minimum": 0, "exclusiveMaximum": 1},
    }

    def __init__(
        self, h: int, input_size: int, futr_exog_list: tuple[str, ...] | None = None,
        hist_exog_list: tuple[str, ...] | None = None, stat_exog_list: tuple[str, ...] | None = None,
        exclude_insample_y: bool = False, n_harmonics: int = 2, n_polynomials: int = 2,
        stack_types: tuple[StackTypeX, ...] = ("identity", "trend", "seasonality"), n_blocks: tuple[int, ...] = (1, 1, 1),
        mlp_units: tuple[tuple[int, int], ...] = ((512, 512),) * 3, dropout_prob_theta: float = 0.0,
        activation: ActivationName = "ReLU", shared_weights: bool = False, loss: LossSpec = "mae",
        max_steps: int = 1000, learning_rate: float = 1e-3, num_lr_decays: int = 3,
        early_stop_patience_steps: int = -1, val_check_steps: int = 100, batch_size: int = 32,
        windows_batch_size: int = 1024, inference_windows_batch_size: int = -1, start_padding_enabled: bool = False,
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
            futr_exog_list=futr_exog_list, hist_exog_list=hist_exog_list, stat_exog_list=stat_exog_list,
        )
        self.exclude_insample_y, self.n_harmonics, self.n_polynomials = exclude_insample_y, n_harmonics, n_polynomials
        self.stack_types, self.n_blocks, self.mlp_units = tuple(stack_types), tuple(n_blocks), tuple(mlp_units)
        self.dropout_prob_theta, self.activation, self.shared_weights = dropout_prob_theta, activation, shared_weights
        self._check_architecture()

    def _check_architecture(self) -> None:
        if len(self.n_blocks) != len(self.stack_types):
            raise UsageError(f"NBEATSx needs one n_blocks entry per stack: {len(self.stack_types)} stack_types "
                             f"but {len(self.n_blocks)} n_blocks.", hint="give n_blocks the length of stack_types.")
        if self.h == 1 and {"trend", "seasonality"} & set(self.stack_types):
            raise UsageError("NBEATSx trend and seasonality stacks need a horizon h > 1.",
                             hint="use h >= 2, or only identity and exogenous stacks.")
        if "exogenous" in self.stack_types and not self.futr_exog_size + self.stat_exog_size:
            raise UsageError("NBEATSx exogenous stacks project onto future or static exogenous columns, "
                             "and the model has none.", hint="set futr_exog_list or stat_exog_list, "
                             "or drop 'exogenous' from stack_types.")

    def _build_network(self) -> nn.Module:
        blocks: list[_NBEATSxBlock] = []
        order: list[int] = []
        for stack_type, count in zip(self.stack_types, self.n_blocks):
            for position in range(count):
                if not (self.shared_weights and position > 0):
                    blocks.append(self._block(stack_type))
                order.append(len(blocks) - 1)
        network = _NBEATSxNetwork(blocks, tuple(order), self.exclude_insample_y)
        network.independent_rows = self.dropout_prob_theta == 0  # repeated windows are merged in training
        return network

    def _block(self, stack_type: str) -> _NBEATSxBlock:
        sizes = (self.hist_exog_size, self.futr_exog_size, self.stat_exog_size)
        n_inputs = (self.input_size * (1 + sizes[0]) + (self.input_size + self.h) * sizes[1] + sizes[2])
        basis = self._basis(stack_type)
        n_theta = 2 * (sizes[1] + sizes[2]) if isinstance(basis, _ExogenousBasis) else basis.n_theta()
        mlp = ThetaMLP(n_inputs, n_theta, self.mlp_units, self.activation, self.dropout_prob_theta)
        return _NBEATSxBlock(sizes, mlp, basis)

    def _basis(self, stack_type: str) -> _IdentityBasis | _FixedBasis | _ExogenousBasis:
        n_outputs = self.loss.outputsize_multiplier
        if stack_type == "identity":
            return _IdentityBasis(self.input_size, self.h, n_outputs)
        if stack_type == "trend":
            return _FixedBasis(trend_basis(self.input_size, self.n_polynomials),
                               trend_basis(self.h, self.n_polynomials), n_outputs)
        if stack_type == "seasonality":
            return _FixedBasis(*seasonality_basis(self.n_harmonics, self.input_size, self.h), n_outputs)
        return _ExogenousBasis(self.h)
