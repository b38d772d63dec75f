"""Distribution losses: neuralforecast's `DistributionLoss`, the negative log-likelihood of a distribution.

With `loss = { type = "distribution", distribution = "StudentT", level = [80, 90] }` any window or
recurrent model becomes probabilistic. Its network emits, per horizon step, K raw values (one per
`param_names` entry, in that order); `scale_decouple` turns them into the distribution's
parameters in data units with the window scaler's shift (loc) and scale, as neuralforecast
does: the network learns a location residual and a scale multiplier in the scaled space its
nonlinearities work in. Training minimises the mask-weighted mean negative log-likelihood of the
unscaled targets. A forecast draws `num_samples` values per step: the point column is their mean,
`-median`, `-lo-L` and `-hi-L` are their quantiles (numpy's linear rule, torch.quantile's),
sorted along the levels so intervals never cross.

The distributions and their parameters, from neuralforecast 3.3.0 `losses/pytorch.py`
(o1, o2, o3: the raw outputs; loc, scale: the window's scaler statistics):

    Normal            loc, scale          mean = loc + scale o1, std = scale (softplus(o2) + 0.2)
    StudentT          df, loc, scale      df = 3 + softplus(o1), loc + scale o2, scale (softplus(o3) + 0.1)
    Poisson           loc                 rate = softplus(loc + scale o1) + 1e-10
    NegativeBinomial  total_count, logits mu = loc + scale (softplus(o1) + 1e-8),
                                          alpha = (softplus(o2) + 1e-8) / (scale + 1);
                                          total_count = 1 / alpha, probs = mu alpha / (1 + mu alpha)
    Tweedie           log_mu              log_mu = clamp(softplus(o1) + ln loc, 1e-9, 37), power rho
    Bernoulli         logits              probs = sigmoid(o1) (no scaling)

Three deliberate differences, each where neuralforecast's arithmetic breaks: NegativeBinomial
works with logits = ln(mu alpha) instead of adding 1e-8 to probs (the same distribution, no
overflow of log(1 - probs)); Tweedie adds ln(loc) only where loc > 0 (neuralforecast adds
ln 0 = -inf under the identity scaler and pins every mean to exp(1e-9)); Tweedie samples with no
Poisson event are exactly 0. Tweedie's log-likelihood is neuralforecast's, the compound
Poisson-gamma density with dispersion 1 up to a term in y alone.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from modreg.errors import UsageError
from modreg.runtime import rng
from modreg.runtime.autograd import Tensor, lgamma, no_grad
from modreg.runtime.autograd.ops_special import lgamma_array
from modreg.runtime.components import register_component
from modreg.runtime.training.losses import Loss, quantile_outputs

if TYPE_CHECKING:
    from modreg.runtime.training.windows import Scaling, Target

__all__ = ["DISTRIBUTIONS", "DistributionLoss", "DistributionName"]

DistributionName = Literal["Normal", "StudentT", "Poisson", "NegativeBinomial", "Tweedie", "Bernoulli"]
Array = np.ndarray
Params = list[Tensor]
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _anchored(raw: Tensor, loc: Array | None, scale: Array | None) -> Tensor:
    return raw if loc is None or scale is None else raw * scale + loc


def _widened(raw: Tensor, eps: float, scale: Array | None) -> Tensor:
    spread = raw.softplus()
    return spread if scale is None else (spread + eps) * scale


class _Family:
    """One distribution: its parameters from raw outputs, log-density, sampler and mean."""

    param_names: ClassVar[tuple[str, ...]] = ()
    support: ClassVar[str] = "real"

    def __init__(self, rho: float) -> None:
        self.rho = rho

    def decouple(self, raw: Params, loc: Array | None, scale: Array | None) -> Params:
        raise NotImplementedError

    def log_prob(self, y: Array, params: Params) -> Tensor:
        raise NotImplementedError

    def sample(self, p: list[Array], shape: tuple[int, ...], gen: np.random.Generator) -> Array:
        raise NotImplementedError

    def mean(self, p: list[Array]) -> Array:
        return p[0]


class _Normal(_Family):
    param_names = ("loc", "scale")

    def decouple(self, raw: Params, loc: Array | None, scale: Array | None) -> Params:
        return [_anchored(raw[0], loc, scale), _widened(raw[1], 0.2, scale)]

    def log_prob(self, y: Array, params: Params) -> Tensor:
        mean, std = params
        z = (y - mean) / std
        return z * z * -0.5 - std.log() - _HALF_LOG_2PI

    def sample(self, p: list[Array], shape: tuple[int, ...], gen: np.random.Generator) -> Array:
        return p[0] + p[1] * gen.standard_normal(shape)


class _StudentT(_Family):
    param_names = ("df", "loc", "scale")

    def decouple(self, raw: Params, loc: Array | None, scale: Array | None) -> Params:
        return [raw[0].softplus() + 3.0, _anchored(raw[1], loc, scale), _widened(raw[2], 0.1, scale)]

    def log_prob(self, y: Array, params: Params) -> Tensor:
        df, mean, spread = params
        z = (y - mean) / spread
        norm = lgamma((df + 1.0) * 0.5) - lgamma(df * 0.5) - (df * math.pi).log() * 0.5 - spread.log()
        return norm - (df + 1.0) * 0.5 * (z * z / df + 1.0).log()

    def sample(self, p: list[Array], shape: tuple[int, ...], gen: np.random.Generator) -> Array:
        return p[1] + p[2] * gen.standard_t(np.broadcast_to(p[0], shape))

    def mean(self, p: list[Array]) -> Array:
        return p[1]


class _Poisson(_Family):
    param_names = ("loc",)
    support = "non-negative"

    def decouple(self, raw: Params, loc: Array | None, scale: Array | None) -> Params:
        return [_anchored(raw[0], loc, scale).softplus() + 1e-10]

    def log_prob(self, y: Array, params: Params) -> Tensor:
        rate = params[0]
        return rate.log() * y - rate - lgamma_array(y + 1.0).astype(y.dtype)

    def sample(self, p: list[Array], shape: tuple[int, ...], gen: np.random.Generator) -> Array:
        return gen.poisson(np.broadcast_to(np.minimum(p[0], 1e15), shape)).astype(np.float64)


class _NegativeBinomial(_Family):
    param_names = ("total_count", "logits")
    support = "non-negative"

    def decouple(self, raw: Params, loc: Array | None, scale: Array | None) -> Params:
        mu = _anchored(raw[0].softplus() + 1e-8, loc, scale)
        alpha = raw[1].softplus() + 1e-8
        alpha = alpha if scale is None else alpha / (scale + 1.0)
        return [1.0 / alpha, (mu * alpha).log()]  # total_count, logits = ln(probs / (1 - probs))

    def log_prob(self, y: Array, params: Params) -> Tensor:
        count, logits = params
        binomial = lgamma(count + y) - lgamma(count) - lgamma_array(y + 1.0).astype(y.dtype)
        return binomial - count * logits.softplus() - (-logits).softplus() * y

    def sample(self, p: list[Array], shape: tuple[int, ...], gen: np.random.Generator) -> Array:
        failure = np.maximum(1.0 / (1.0 + np.exp(np.broadcast_to(p[1], shape))), 1e-300)  # numpy's p = 1 - probs
        return gen.negative_binomial(np.broadcast_to(p[0], shape), failure).astype(np.float64)

    def mean(self, p: list[Array]) -> Array:
        return p[0] * np.exp(p[1])


class _Tweedie(_Family):
    param_names = ("log_mu",)
    support = "non-negative"

    def decouple(self, raw: Params, loc: Array | None, scale: Array | None) -> Params:
        log_mu = raw[0].softplus().clip(1e-9, 37.0)
        if loc is not None and scale is not None:
            log_mu = (log_mu + np.log(np.where(loc > 0, loc, 1.0))).clip(1e-9, 37.0)
        return [log_mu]

    def log_prob(self, y: Array, params: Params) -> Tensor:
        log_mu, rho = params[0], self.rho
        theta = (log_mu * (1.0 - rho)).exp() * (1.0 / (1.0 - rho))  # the canonical parameter
        return theta * y - (log_mu * (2.0 - rho)).exp() * (1.0 / (2.0 - rho))

    def sample(self, p: list[Array], shape: tuple[int, ...], gen: np.random.Generator) -> Array:
        mu, rho = np.broadcast_to(np.exp(p[0]), shape), self.rho
        events = gen.poisson(mu ** (2.0 - rho) / (2.0 - rho))  # compound Poisson-gamma, dispersion 1
        return gen.gamma(events * (2.0 - rho) / (rho - 1.0), (rho - 1.0) * mu ** (rho - 1.0))

    def mean(self, p: list[Array]) -> Array:
        return np.exp(p[0])


class _Bernoulli(_Family):
    param_names = ("logits",)
    support = "binary"

    def decouple(self, raw: Params, loc: Array | None, scale: Array | None) -> Params:
        return [raw[0]]

    def log_prob(self, y: Array, params: Params) -> Tensor:
        logits = params[0]
        return -((-logits).softplus() * y) - logits.softplus() * (1.0 - y)

    def sample(self, p: list[Array], shape: tuple[int, ...], gen: np.random.Generator) -> Array:
        return (gen.random(shape) < self.mean(p)).astype(np.float64)

    def mean(self, p: list[Array]) -> Array:
        return 1.0 / (1.0 + np.exp(-p[0]))


DISTRIBUTIONS: dict[str, type[_Family]] = {
    "Normal": _Normal, "StudentT": _StudentT, "Poisson": _Poisson, "NegativeBinomial": _NegativeBinomial,
    "Tweedie": _Tweedie, "Bernoulli": _Bernoulli,
}


@register_component("loss", "distribution")
class DistributionLoss(Loss):
    """Negative log-likelihood of a distribution whose parameters the network predicts.

    Outputs the sample mean (the point forecast), `-median` and `-lo-L`/`-hi-L` for each level,
    plus the parameters (`-df`, `-loc`, `-scale`, ...) with `return_params`.

    Args:
        distribution: Normal, StudentT, Poisson, NegativeBinomial, Tweedie or Bernoulli.
        level: central interval levels in percent, e.g. [80, 90].
        quantiles: explicit quantiles in (0, 1) instead of `level`.
        num_samples: draws per forecast step from which the mean and quantiles are computed.
        return_params: also output the distribution's parameters (in data units).
        rho: Tweedie's variance power, between 1 and 2 (the other distributions ignore it).
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "level": {"items": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 100}, "minItems": 1},
        "quantiles": {"anyOf": [{"type": "array", "minItems": 1,
                                 "items": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}},
                                {"type": "null"}]},
        "num_samples": {"minimum": 1},
        "rho": {"exclusiveMinimum": 1, "exclusiveMaximum": 2},
    }
    is_distribution_output = True

    def __init__(self, distribution: DistributionName, level: tuple[int, ...] = (80, 90),
                 quantiles: tuple[float, ...] | None = None, num_samples: int = 1000,
                 return_params: bool = False, rho: float = 1.5) -> None:
        self.distribution, self.level = distribution, tuple(level)
        self.quantiles = tuple(quantiles) if quantiles is not None else None
        self.num_samples, self.return_params, self.rho = num_samples, return_params, rho
        self.family = DISTRIBUTIONS[distribution](rho)
        if return_params and distribution == "Tweedie":
            raise UsageError("DistributionLoss('Tweedie') does not support return_params (as in neuralforecast).")
        qs, names = quantile_outputs(self.level, tuple(sorted(self.quantiles)) if self.quantiles else None)
        self._q = np.asarray(qs)
        self._rank = np.argsort(np.argsort(self._q))  # output position -> position in sorted order
        params = tuple(f"-{name}" for name in self.family.param_names) if return_params else ()
        self.output_names = ("", *names, *params)
        self.outputsize_multiplier = len(self.family.param_names)
        self.frozen_parameters = len(qs)

    # ----- Parameters and likelihood -----

    def distribution_args(self, output: Tensor, scaling: Scaling | None) -> Params:
        """(B, h, K) raw outputs -> the parameters, each (B, h, 1), anchored on `scaling` if given."""
        raw = [output[:, :, k:k + 1] for k in range(self.outputsize_multiplier)]
        loc, scale = (None, None) if scaling is None else (scaling.shift, scaling.scale)
        return self.family.decouple(raw, loc, scale)

    def __call__(self, y: Any, y_hat: Tensor, mask: np.ndarray | None = None) -> Tensor:
        """Mean negative log-likelihood of `y` under raw outputs `y_hat`, without loc/scale anchoring."""
        y_hat = y_hat if isinstance(y_hat, Tensor) else Tensor(y_hat)
        return self._nll(np.asarray(y, dtype=y_hat.dtype), self.distribution_args(y_hat, None), mask)

    def train_loss(self, output: Tensor, target: Target) -> Tensor:
        """The negative log-likelihood of the batch's targets in data units."""
        return self._nll(target.y_raw, self.distribution_args(output, target.scaling), target.mask)

    def valid_loss(self, output: Tensor, target: Target) -> float:
        with no_grad():
            return float(self.train_loss(output, target).item())

    def _nll(self, y: Array, params: Params, mask: Array | None) -> Tensor:
        weights = np.ones_like(y) if mask is None else np.asarray(mask, dtype=y.dtype)
        self._check_support(y, weights)
        losses = -self.family.log_prob(y, params)
        total = float(weights.sum())
        if total == 0.0:
            return (losses * 0.0).sum()
        return (losses * weights).sum() * (1.0 / total)

    def _check_support(self, y: Array, weights: Array) -> None:
        support, used = self.family.support, y[weights > 0]
        if support == "real":
            return
        bad = used < 0 if support == "non-negative" else (used != 0) & (used != 1)
        if bad.any():
            raise UsageError(f"DistributionLoss('{self.distribution}') needs {support} targets, found "
                             f"{used[bad][0]:g}.", hint="use a Normal or StudentT distribution for this data.")

    # ----- Forecasts -----

    def forecast(self, mapped: np.ndarray, scaling: Scaling) -> np.ndarray:
        """(B, h, K) raw outputs -> (B, h, outputs): sample mean, quantiles (and parameters)."""
        params = self.parameters(mapped, scaling)
        shape = (self.num_samples, *params[0].shape[:2])
        draws = self.family.sample([p[..., 0] for p in params], shape, rng.generator())  # (S, B, h)
        return self.summarize(np.moveaxis(draws, 0, -1), params).astype(mapped.dtype, copy=False)

    def draw(self, output: np.ndarray, scaling: Scaling) -> np.ndarray:
        """One sample per row of (B, h, K) raw outputs: (B, h) in data units."""
        params = [p[..., 0] for p in self.parameters(output, scaling)]
        return self.family.sample(params, params[0].shape, rng.generator())

    def summarize(self, draws: np.ndarray, params: list[np.ndarray] | None = None) -> np.ndarray:
        """(B, h, S) samples -> (B, h, outputs): their mean and quantiles, plus `params` (B, h, 1) each."""
        ordered = np.sort(self._q)
        values = np.quantile(draws, ordered, axis=-1)  # (Q, B, h), quantiles in increasing order
        values = np.maximum.accumulate(values, axis=0)[self._rank]
        columns = [draws.mean(axis=-1)[..., None], np.moveaxis(values, 0, -1)]
        if self.return_params and params is not None:
            columns += [np.broadcast_to(p, values.shape[1:] + (1,)) for p in params]
        return np.concatenate(columns, axis=-1)

    def feedback(self, output: Tensor, scaling: Scaling) -> Tensor:
        """The distribution's mean, scaled like the window's inputs (neuralforecast's rollout input)."""
        mean = self.family.mean(self.parameters(output.data, scaling))
        return Tensor(scaling.scaler.transform(mean, scaling.shift, scaling.scale)[:, :, 0].astype(output.dtype))

    def parameters(self, output: np.ndarray, scaling: Scaling) -> list[np.ndarray]:
        """(B, h, K) raw outputs -> the parameters in data units, float64 arrays (B, h, 1)."""
        with no_grad():
            return [p.data.astype(np.float64) for p in self.distribution_args(Tensor(output), scaling)]
