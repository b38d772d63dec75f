"""NBEATS: doubly residual stacks of fully connected blocks with identity, trend and seasonality bases.

Each block maps its input (the residual of the window, read backwards) through an MLP to
coefficients `theta`, which a basis expands into a backcast (subtracted from the residual) and
a forecast (added to the output). The generic block's basis is the identity; the interpretable
blocks project onto fixed polynomial (trend) and Fourier (seasonality) bases, so the forecast
splits into level, trend and seasonal parts. A port of neuralforecast 3.3.0's `NBEATS`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

import numpy as np

from modreg.errors import UsageError
from modreg.runtime import nn
from modreg.runtime.autograd import Tensor, stack
from modreg.runtime.components import LossSpec, OptimizerSpec, ScalerSpec
from modreg.runtime.factory import register_model
from modreg.runtime.models._theta_mlp import ActivationName, ThetaMLP
from modreg.runtime.models.base import Precision, WindowBatch, WindowForecaster

__all__ = ["NBEATS", "seasonality_basis", "trend_basis"]

StackType = Literal["identity", "trend", "seasonality"]
TrendBasisName = Literal[
    "legendre", "polynomial", "changepoint", "piecewise_linear", "linear_hat", "spline", "chebyshev"
]


# ----- Fixed bases -----
def _polynomial(length: int, n: int) -> np.ndarray:
    return (np.arange(length) / length)[:, None] ** np.arange(n)[None, :]  # (length, n): (t/T)^i


def _legendre(length: int, n: int) -> np.ndarray:
    return np.polynomial.legendre.legvander(np.linspace(-1.0, 1.0, length), n - 1)


def _chebyshev(length: int, n: int) -> np.ndarray:
    return np.polynomial.chebyshev.chebvander(np.linspace(-1.0, 1.0, length), n - 1)


def _changepoint(length: int, n: int) -> np.ndarray:
    x = np.linspace(0.0, 1.0, length)[:, None]
    return np.maximum(0.0, x - np.linspace(0.0, 1.0, n + 1)[None, 1:])


def _piecewise_linear(length: int, n: int) -> np.ndarray:
    """Hat functions on the inner knots; the first column stays zero, as in neuralforecast."""
    x, knots = np.linspace(0.0, 1.0, length)[:, None], np.linspace(0.0, 1.0, n + 1)
    out = np.zeros((length, n))
    i = np.arange(1, n)
    rise = (x - knots[i - 1]) / (knots[i] - knots[i - 1])
    fall = (knots[i + 1] - x) / (knots[i + 1] - knots[i])
    out[:, 1:] = np.maximum(0.0, np.minimum(rise, fall))
    return out


def _linear_hat(length: int, n: int) -> np.ndarray:
    x, centers = np.linspace(0.0, 1.0, length)[:, None], np.linspace(0.0, 1.0, n)[None, :]
    return np.maximum(0.0, 1.0 - np.abs(x - centers) * (n - 1))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    safe = np.where(den > 0, den, 1.0)
    return np.where(den > 0, num / safe, 0.0)


def _spline(length: int, n: int) -> np.ndarray:
    """Cubic B-splines on n - 2 uniform knots with triple end knots (Cox-de Boor recursion)."""
    x = np.linspace(0.0, 1.0, length)[:, None]
    t = np.concatenate(([0.0, 0.0, 0.0], np.linspace(0.0, 1.0, n - 2), [1.0, 1.0, 1.0]))
    b = ((t[:-1] <= x) & (x < t[1:])).astype(float)  # degree 0, half-open intervals
    b[x[:, 0] >= t[-1], np.flatnonzero(t[:-1] < t[1:])[-1]] = 1.0  # x = 1 closes the last interval
    for d in range(1, 4):
        b = (_ratio(x - t[: -d - 1], t[d:-1] - t[: -d - 1]) * b[:, :-1]
             + _ratio(t[d + 1:] - x, t[d + 1:] - t[1:-d]) * b[:, 1:])
    return b


_TREND_BASES: dict[str, Callable[[int, int], np.ndarray]] = {
    "legendre": _legendre, "polynomial": _polynomial, "changepoint": _changepoint,
    "piecewise_linear": _piecewise_linear, "linear_hat": _linear_hat, "spline": _spline,
    "chebyshev": _chebyshev,
}


_MIN_TREND_DEGREE = {"spline": 3, "linear_hat": 1}  # cubic splines need 4 functions, hats 2


def trend_basis(length: int, n_basis: int, basis: str = "polynomial") -> np.ndarray:
    """The (n_basis + 1, length) trend basis; "polynomial" is (t / length)^i for i = 0..n_basis."""
    return _TREND_BASES[basis](length, n_basis + 1).T


def seasonality_basis(harmonics: int, backcast_size: int, forecast_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Fourier templates [cos; sin] of shapes (2F, backcast_size) and (2F, forecast_size).

    The F frequencies are 0 and i / harmonics for i = harmonics .. harmonics * forecast_size / 2,
    in cycles per `forecast_size` steps; the backcast runs backwards in time (negative angle).
    """
    frequency = np.append(0.0, np.arange(harmonics, harmonics / 2 * forecast_size) / harmonics)[None, :]
    backcast = -2 * np.pi * (np.arange(backcast_size)[:, None] / forecast_size) * frequency  # (L, F)
    forecast = 2 * np.pi * (np.arange(forecast_size)[:, None] / forecast_size) * frequency  # (h, F)
    return (np.concatenate([np.cos(backcast).T, np.sin(backcast).T]),
            np.concatenate([np.cos(forecast).T, np.sin(forecast).T]))


# ----- NBEATS bases -----
class _IdentityBasis(nn.Module):
    """theta = [backcast (L) | forecast (h * Q), h-major]."""

    def __init__(self, backcast_size: int, forecast_size: int, n_outputs: int) -> None:
        super().__init__()
        self.backcast_size, self.forecast_size, self.n_outputs = backcast_size, forecast_size, n_outputs

    def n_theta(self) -> int:
        return self.backcast_size + self.forecast_size * self.n_outputs

    def backcast_width(self) -> int:
        """theta's leading outputs that make the backcast."""
        return self.backcast_size

    def forward(self, theta: Tensor) -> tuple[Tensor, Tensor]:
        return theta[:, : self.backcast_size], self.forecast(theta[:, self.backcast_size:])  # (B, L), (B, h, Q)

    def forecast(self, coefficients: Tensor) -> Tensor:
        """theta's forecast part (B, h * Q) -> (B, h, Q)."""
        return coefficients.reshape(len(coefficients), self.forecast_size, self.n_outputs)


class _FixedBasis(nn.Module):
    """theta = [P backcast coefficients | P * Q forecast coefficients, P-major] on fixed templates.

    The templates are Parameters that never train (neuralforecast's `nn.Parameter(...,
    requires_grad=False)`), so they are saved with the weights and counted like PyTorch does.
    """

    def __init__(self, backcast_basis: np.ndarray, forecast_basis: np.ndarray, n_outputs: int) -> None:
        super().__init__()
        self.n_outputs = n_outputs
        self.backcast_basis = nn.Parameter(backcast_basis.astype(np.float32), requires_grad=False)  # (P, L)
        self.forecast_basis = nn.Parameter(forecast_basis.astype(np.float32), requires_grad=False)  # (P, h)

    def n_theta(self) -> int:
        return self.forecast_basis.shape[0] * (self.n_outputs + 1)

    def backcast_width(self) -> int:
        """theta's leading outputs that make the backcast."""
        return self.forecast_basis.shape[0]

    def forward(self, theta: Tensor) -> tuple[Tensor, Tensor]:
        size = self.forecast_basis.shape[0]
        backcast = theta[:, :size] @ self.backcast_basis  # (B, P) @ (P, L)
        return backcast, self.forecast(theta[:, size:])

    def forecast(self, coefficients: Tensor) -> Tensor:
        """theta's forecast part (B, P * Q) -> (B, h, Q)."""
        size = self.forecast_basis.shape[0]
        coefficients = coefficients.reshape(len(coefficients), size, self.n_outputs).transpose(0, 2, 1)  # (B, Q, P)
        return (coefficients @ self.forecast_basis).transpose(0, 2, 1)  # (B, Q, h) -> (B, h, Q)


class _NBEATSBlock(nn.Module):
    """MLP -> theta -> basis expansion into (backcast, forecast)."""

    def __init__(self, input_size: int, basis: _IdentityBasis | _FixedBasis, mlp_units: Sequence[Sequence[int]],
                 activation: str, dropout_prob: float) -> None:
        super().__init__()
        self.layers = ThetaMLP(input_size, basis.n_theta(), mlp_units, activation, dropout_prob)
        self.basis = basis

    def forward(self, residuals: Tensor) -> tuple[Tensor, Tensor]:
        return self.basis(self.layers(residuals))

    def forecast(self, residuals: Tensor) -> Tensor:
        """The forecast alone (the last block: its backcast is never read), theta's backcast part not computed."""
        return self.basis.forecast(self.layers(residuals, skip=self.basis.backcast_width()))


class _NBEATSNetwork(nn.Module):
    """Doubly residual stacking: residual -= backcast, forecast += block forecast.

    `order` lists the block run at each position; with shared weights a stack's blocks repeat
    one module, so parameters and state-dict keys exist once.
    """

    def __init__(self, h: int, blocks: list[_NBEATSBlock], order: tuple[int, ...]) -> None:
        super().__init__()
        self.h, self.order = h, order
        self.blocks = nn.ModuleList(blocks)

    def forward(self, batch: WindowBatch) -> Tensor:
        level, parts = self._expand(batch)
        forecast = level
        for part in parts:
            forecast = forecast + part
        return forecast  # (B, h, Q)

    def decompose(self, batch: WindowBatch) -> Tensor:
        """(B, 1 + n_blocks, h, Q): the level (last input value), then each block's forecast."""
        level, parts = self._expand(batch)
        return stack([level.expand(parts[0].shape), *parts], axis=1)

    def _expand(self, batch: WindowBatch) -> tuple[Tensor, list[Tensor]]:
        y = batch.insample_y  # (B, L)
        residuals, mask = y.flip(1), batch.insample_mask.data[:, ::-1]  # the window read backwards
        parts = []
        for index in self.order[:-1]:
            backcast, forecast = self.blocks[index](residuals)
            residuals = (residuals - backcast) * mask
            parts.append(forecast)
        parts.append(self.blocks[self.order[-1]].forecast(residuals))  # the last residual is never read
        return y[:, -1:].unsqueeze(-1), parts  # level (B, 1, 1): the forecast starts at the last value

    def num_parameters(self) -> int:
        """Every parameter, the fixed bases included, as `sum(p.numel() for p in parameters())`."""
        return sum(p.size for p in self.parameters())


@register_model("NBEATS", category="advanced",
                capabilities=("univariate", "multi_step", "batch_processing", "interpretable"))
class NBEATS(WindowForecaster):
    """Neural Basis Expansion Analysis: deep stacks of MLP blocks with backward and forward residual links.

    The window is read backwards; each block's MLP produces coefficients that a basis expands
    into a backcast, removed from the block's input, and a partial forecast, added to the output,
    which starts at the window's last value. Identity stacks are generic; trend stacks project
    onto polynomials and seasonality stacks onto Fourier harmonics (the interpretable
    configuration). Shapes: input window (B, input_size) -> forecast (B, h, n_outputs).

    Args:
        n_harmonics: harmonics of the seasonality basis (frequencies up to n_harmonics * h / 2 per h steps).
        n_polynomials: deprecated alias of n_basis (neuralforecast ignores it); when set it replaces n_basis.
        n_basis: degree of the trend basis (n_basis + 1 basis functions).
        basis: trend basis: polynomial, legendre, chebyshev, changepoint, piecewise_linear, linear_hat, spline.
        stack_types: the stacks in order, each identity, trend or seasonality.
        n_blocks: number of blocks of each stack.
        mlp_units: hidden layers of every block's MLP, as (in, out) pairs.
        dropout_prob_theta: dropout after each hidden activation (0 disables it; neuralforecast's NBEATS rejects > 0).
        activation: ReLU, Softplus, Tanh, SELU, LeakyReLU, PReLU or Sigmoid.
        shared_weights: whether the blocks of one stack share their weights.

    References:
        Oreshkin, B. N., Carpov, D., Chapados, N., Bengio, Y. (2019). "N-BEATS: Neural basis
        expansion analysis for interpretable time series forecasting". ICLR 2020.
        https://arxiv.org/abs/1905.10437
    """

    EXOGENOUS_FUTR: ClassVar[bool] = False
    EXOGENOUS_HIST: ClassVar[bool] = False
    EXOGENOUS_STAT: ClassVar[bool] = False
    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "input_size": {"minimum": 1},
        "n_harmonics": {"minimum": 1},
        "n_polynomials": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
        "n_basis": {"minimum": 0},
        "stack_types": {"minItems": 1},
        "n_blocks": {"minItems": 1, "items": {"type": "integer", "minimum": 1}},
        "mlp_units": {"minItems": 1},
        "dropout_prob_theta": {"minimum": 0, "exclusiveMaximum": 1},
    }

    def __init__(
        self, h: int, input_size: int, n_harmonics: int = 2, n_polynomials: int | None = None, n_basis: int = 2,
        basis: TrendBasisName = "polynomial", stack_types: tuple[StackType, ...] = ("identity", "trend", "seasonality"),
        n_blocks: tuple[int, ...] = (1, 1, 1), mlp_units: tuple[tuple[int, int], ...] = ((512, 512),) * 3,
        dropout_prob_theta: float = 0.0, activation: ActivationName = "ReLU", shared_weights: bool = False,
        loss: LossSpec = "mae", max_steps: int = 1000, learning_rate: float = 1e-3, num_lr_decays: int = 3,
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
        )
        self.n_harmonics, self.n_polynomials, self.n_basis, self.basis = n_harmonics, n_polynomials, n_basis, basis
        self.stack_types, self.n_blocks, self.mlp_units = tuple(stack_types), tuple(n_blocks), tuple(mlp_units)
        self.dropout_prob_theta, self.activation, self.shared_weights = dropout_prob_theta, activation, shared_weights
        self._check_architecture()

    def _check_architecture(self) -> None:
        if self.n_polynomials is not None:
            warnings.warn("NBEATS: n_polynomials is deprecated (as in neuralforecast); use n_basis and basis.",
                          DeprecationWarning, stacklevel=3)
        if len(self.n_blocks) != len(self.stack_types):
            raise UsageError(f"NBEATS needs one n_blocks entry per stack: {len(self.stack_types)} stack_types "
                             f"but {len(self.n_blocks)} n_blocks.", hint="give n_blocks the length of stack_types.")
        if self.h == 1 and {"trend", "seasonality"} & set(self.stack_types):
            raise UsageError("NBEATS trend and seasonality stacks need a horizon h > 1.",
                             hint="use h >= 2, or only identity stacks.")
        least = _MIN_TREND_DEGREE.get(self.basis, 0)
        if "trend" in self.stack_types and self.trend_degree < least:
            raise UsageError(f"NBEATS basis {self.basis!r} needs n_basis >= {least}, found {self.trend_degree}.",
                             hint=f"raise n_basis to {least}, or choose another basis.")

    @property
    def trend_degree(self) -> int:
        """The trend basis degree: n_polynomials when given (deprecated alias), else n_basis."""
        return self.n_basis if self.n_polynomials is None else self.n_polynomials

    def _build_network(self) -> nn.Module:
        blocks: list[_NBEATSBlock] = []
        order: list[int] = []
        for stack_type, count in zip(self.stack_types, self.n_blocks):
            for position in range(count):
                if not (self.shared_weights and position > 0):
                    blocks.append(_NBEATSBlock(self.input_size, self._basis(stack_type), self.mlp_units,
                                               self.activation, self.dropout_prob_theta))
                order.append(len(blocks) - 1)
        network = _NBEATSNetwork(self.h, blocks, tuple(order))
        network.independent_rows = self.dropout_prob_theta == 0  # repeated windows are merged in training
        return network

    def _basis(self, stack_type: str) -> _IdentityBasis | _FixedBasis:
        n_outputs = self.loss.outputsize_multiplier
        if stack_type == "identity":
            return _IdentityBasis(self.input_size, self.h, n_outputs)
        if stack_type == "trend":
            backcast = trend_basis(self.input_size, self.trend_degree, self.basis)
            return _FixedBasis(backcast, trend_basis(self.h, self.trend_degree, self.basis), n_outputs)
        return _FixedBasis(*seasonality_basis(self.n_harmonics, self.input_size, self.h), n_outputs)
