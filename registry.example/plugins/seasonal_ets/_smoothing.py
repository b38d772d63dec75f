"""Holt-Winters smoothing in numpy: the recursions, run for a whole grid of parameters at once.

Component form (Hyndman & Athanasopoulos, FPP3 section 8.3), with a damped trend phi:

    additive:        yhat_t = l + phi*b + s_{t-m}
                     l_t = alpha*(y_t - s_{t-m}) + (1 - alpha)*(l + phi*b)
                     s_t = gamma*(y_t - l - phi*b) + (1 - gamma)*s_{t-m}
    multiplicative:  yhat_t = (l + phi*b) * s_{t-m}
                     l_t = alpha*y_t/s_{t-m} + (1 - alpha)*(l + phi*b)
                     s_t = gamma*y_t/(l + phi*b) + (1 - gamma)*s_{t-m}
    both:            b_t = beta*(l_t - l) + (1 - beta)*phi*b

Every array of parameters has one entry per grid point, so one pass over the series scores
all of them; `fit_grid` keeps the combination with the smallest one-step squared error and
then searches a finer grid around it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Smoothing", "States", "fit_grid", "forecast", "run_filter"]

_DAMPING = (0.8, 0.9, 0.95, 0.98)


@dataclass(frozen=True)
class Smoothing:
    """Smoothing parameters, each an array over grid points (or of one element)."""

    alpha: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    phi: np.ndarray

    def pick(self, index: int) -> Smoothing:
        return Smoothing(*(np.array([getattr(self, n)[index]]) for n in ("alpha", "beta", "gamma", "phi")))

    def as_row(self) -> np.ndarray:
        """(alpha, beta, gamma, phi) of the first grid point."""
        return np.array([self.alpha[0], self.beta[0], self.gamma[0], self.phi[0]])


@dataclass(frozen=True)
class States:
    """The filter's final level, trend and seasonal indices, and the one-step squared error."""

    level: np.ndarray  # (G,)
    slope: np.ndarray  # (G,)
    season: np.ndarray  # (G, m): season[:, i] is the latest index of phase i
    sse: np.ndarray  # (G,)
    n: int  # points filtered (the next point has phase n % m)


def initial_states(y: np.ndarray, m: int, multiplicative: bool) -> tuple[float, float, np.ndarray]:
    """Classical start: the first season's mean, the change between the first two seasons' means."""
    first, second = y[:m].mean(), y[m:2 * m].mean()
    season = y[:m] / first if multiplicative else y[:m] - first
    return float(first), float((second - first) / m), season


def run_filter(y: np.ndarray, m: int, params: Smoothing, multiplicative: bool, trend: bool) -> States:
    """Filter `y` once for every grid point of `params`."""
    level0, slope0, season0 = initial_states(y, m, multiplicative)
    alpha, beta, gamma, phi = params.alpha, params.beta, params.gamma, params.phi
    level = np.full(alpha.shape, level0)
    slope = np.full(alpha.shape, slope0 if trend else 0.0)
    season = np.tile(season0, (alpha.size, 1))
    sse = np.zeros(alpha.shape)
    with np.errstate(all="ignore"):
        for t, value in enumerate(y):
            phase = season[:, t % m].copy()
            base = level + phi * slope
            sse += (value - (base * phase if multiplicative else base + phase)) ** 2
            new_level = alpha * (value / phase if multiplicative else value - phase) + (1 - alpha) * base
            season[:, t % m] = gamma * (value / base if multiplicative else value - base) + (1 - gamma) * phase
            slope = beta * (new_level - level) + (1 - beta) * phi * slope
            level = new_level
    sse[~np.isfinite(sse)] = np.inf
    return States(level, slope, season, sse, len(y))


def forecast(states: States, h: int, phi: float, multiplicative: bool) -> np.ndarray:
    """The h-step forecast of the first grid point's final states: shape (h,)."""
    steps = np.arange(1, h + 1)
    damped = steps.astype(float) if phi == 1.0 else np.cumsum(phi ** steps)
    m = states.season.shape[1]
    phases = states.season[0, (states.n + steps - 1) % m]
    base = states.level[0] + damped * states.slope[0]
    return base * phases if multiplicative else base + phases


def fit_grid(y: np.ndarray, m: int, multiplicative: bool, trend: bool, damped: bool, size: int) -> Smoothing:
    """The smoothing parameters with the least one-step squared error: a grid, then a finer one."""
    step = 0.96 / (size - 1)
    best = _best(y, m, _grid(np.linspace(0.02, 0.98, size), trend, damped), multiplicative, trend)
    for _ in range(2):
        step /= 2
        finer = _grid_around(best, step, size, trend, damped)
        best = _best(y, m, finer, multiplicative, trend) if finer.alpha.size else best
    return best


def _best(y: np.ndarray, m: int, grid: Smoothing, multiplicative: bool, trend: bool) -> Smoothing:
    sse = run_filter(y, m, grid, multiplicative, trend).sse
    if not np.isfinite(sse).any():
        raise ValueError("no smoothing parameters give finite forecasts for this series")
    return grid.pick(int(np.argmin(sse)))


def _grid(values: np.ndarray, trend: bool, damped: bool) -> Smoothing:
    return _mesh(values, values if trend else np.zeros(1), values, damped)


def _grid_around(best: Smoothing, step: float, size: int, trend: bool, damped: bool) -> Smoothing:
    offsets = np.linspace(-step, step, 2 * (size // 4) + 1)  # odd: the best point stays in the grid

    def near(value: float) -> np.ndarray:
        return np.unique(np.clip(value + offsets, 0.001, 0.999))

    beta = near(best.beta[0]) if trend else np.zeros(1)
    return _mesh(near(best.alpha[0]), beta, near(best.gamma[0]), damped)


def _mesh(alpha: np.ndarray, beta: np.ndarray, gamma: np.ndarray, damped: bool) -> Smoothing:
    phi = np.array(_DAMPING if damped else (1.0,))
    a, b, g, p = (x.ravel() for x in np.meshgrid(alpha, beta, gamma, phi, indexing="ij"))
    keep = g <= 1 - a  # the usual restriction 0 <= gamma <= 1 - alpha
    return Smoothing(a[keep], b[keep], g[keep], p[keep])
