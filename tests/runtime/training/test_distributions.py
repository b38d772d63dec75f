"""DistributionLoss: likelihoods against independent formulas and integrals, gradients, scaling, outputs."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from modreg.errors import UsageError
from modreg.runtime import components, factory
from modreg.runtime.autograd import Tensor
from modreg.runtime.autograd.gradcheck import check_grads
from modreg.runtime.data import read_series_csv
from modreg.runtime.params import parse_cli_param
from modreg.runtime.training.distributions import DistributionLoss
from modreg.runtime.training.scalers import get_scaler
from modreg.runtime.training.windows import Scaling, Target

DATA = Path(__file__).resolve().parents[2] / "data"
GEN = np.random.default_rng(3)
NAMES = ("Normal", "StudentT", "Poisson", "NegativeBinomial", "Tweedie", "Bernoulli")


def _log_prob(name: str, y: np.ndarray, *params: float | np.ndarray, rho: float = 1.5) -> np.ndarray:
    """The family's log-density at y for explicit parameters (float64)."""
    family = DistributionLoss(name, rho=rho).family
    tensors = [Tensor(np.broadcast_to(np.asarray(p, dtype=np.float64), y.shape).copy()) for p in params]
    return family.log_prob(y.astype(np.float64), tensors).data


def _targets(name: str, shape: tuple[int, ...]) -> np.ndarray:
    if name == "Bernoulli":
        return (GEN.random(shape) < 0.4).astype(np.float64)
    if name in ("Poisson", "NegativeBinomial", "Tweedie"):
        return GEN.poisson(30.0, shape).astype(np.float64)
    return GEN.normal(30.0, 8.0, shape)


def _target(y: np.ndarray, shift: float, scale: float, mask: np.ndarray) -> Target:
    size = (len(y), 1, 1)
    scaling = Scaling(get_scaler("robust"), np.full(size, shift), np.full(size, scale))
    return Target((y - shift) / scale, y, mask, scaling)


# ----- Gradients -----


@pytest.mark.parametrize("name", NAMES)
def test_negative_log_likelihoods_pass_a_float64_gradient_check(name: str) -> None:
    loss = DistributionLoss(name)
    y = _targets(name, (3, 4, 1))
    mask = (GEN.random((3, 4, 1)) > 0.2).astype(np.float64)
    raw = GEN.normal(0.0, 0.7, (3, 4, loss.outputsize_multiplier))
    target = _target(y, 25.0, 6.0, mask)
    check_grads(lambda r: loss.train_loss(r, target), [raw])  # anchored on the window's loc and scale
    check_grads(lambda r: loss(y, r, mask), [raw])  # unanchored


# ----- Densities against independent values -----


def test_normal_matches_the_gaussian_density_and_its_moments() -> None:
    y = np.linspace(-40.0, 60.0, 20001)
    density = np.exp(_log_prob("Normal", y, 10.0, 5.0))
    exact = np.exp(-((y - 10.0) ** 2) / 50.0) / (5.0 * math.sqrt(2.0 * math.pi))
    np.testing.assert_allclose(density, exact, rtol=1e-12)
    assert np.trapezoid(density, y) == pytest.approx(1.0, abs=1e-9)
    assert np.trapezoid((y - 10.0) ** 2 * density, y) == pytest.approx(25.0, rel=1e-7)


@pytest.mark.parametrize("df", [3.0, 4.5, 9.0])
def test_student_t_integrates_to_one_with_its_known_mean_and_variance(df: float) -> None:
    theta = np.linspace(-np.pi / 2, np.pi / 2, 200_001)[1:-1]  # y = 2 + 1.5 tan(theta) reaches the heavy tails
    y, jacobian = 2.0 + 1.5 * np.tan(theta), 1.5 / np.cos(theta) ** 2
    weight = np.exp(_log_prob("StudentT", y, df, 2.0, 1.5)) * jacobian
    assert np.trapezoid(weight, theta) == pytest.approx(1.0, abs=1e-8)
    assert np.trapezoid(y * weight, theta) == pytest.approx(2.0, abs=1e-7)
    assert np.trapezoid((y - 2.0) ** 2 * weight, theta) == pytest.approx(1.5**2 * df / (df - 2), rel=1e-4)


def test_student_t_with_one_and_two_degrees_of_freedom_has_closed_forms() -> None:
    z = np.linspace(-8.0, 8.0, 101)
    cauchy = 1.0 / (math.pi * 2.0 * (1.0 + z**2))
    np.testing.assert_allclose(np.exp(_log_prob("StudentT", 1.0 + 2.0 * z, 1.0, 1.0, 2.0)), cauchy, rtol=1e-12)
    two = (2.0 + z**2) ** -1.5
    np.testing.assert_allclose(np.exp(_log_prob("StudentT", z, 2.0, 0.0, 1.0)), two, rtol=1e-12)


def test_poisson_matches_its_probability_mass_function() -> None:
    k = np.arange(0.0, 120.0)
    mass = np.exp(_log_prob("Poisson", k, 17.5))
    exact = np.array([math.exp(-17.5) * 17.5 ** int(i) / math.factorial(int(i)) for i in k])
    np.testing.assert_allclose(mass, exact, rtol=1e-11)
    assert mass.sum() == pytest.approx(1.0, abs=1e-12) and (k * mass).sum() == pytest.approx(17.5, rel=1e-12)


def test_negative_binomial_matches_the_binomial_coefficient_form_and_its_moments() -> None:
    count, probs = 4.0, 0.7  # total_count r, success probability p: mean r p / (1 - p)
    k = np.arange(0.0, 400.0)
    mass = np.exp(_log_prob("NegativeBinomial", k, count, math.log(probs / (1 - probs))))
    exact = np.array([math.comb(int(i) + 3, int(i)) * probs ** int(i) * (1 - probs) ** 4 for i in k])
    np.testing.assert_allclose(mass, exact, rtol=1e-10)
    mean = count * probs / (1 - probs)
    assert (k * mass).sum() == pytest.approx(mean, rel=1e-10)
    assert ((k - mean) ** 2 * mass).sum() == pytest.approx(mean + mean**2 / count, rel=1e-9)


def _tweedie_log_density(y: float, mu: float, rho: float) -> float:
    """The compound Poisson-gamma density (dispersion 1), summed term by term."""
    rate, shape, beta = mu ** (2 - rho) / (2 - rho), (2 - rho) / (rho - 1), mu ** (1 - rho) / (rho - 1)
    if y == 0:
        return -rate
    terms = [n * math.log(rate) - rate - math.lgamma(n + 1) + n * shape * math.log(beta) + (n * shape - 1) * math.log(y)
             - beta * y - math.lgamma(n * shape) for n in range(1, 400)]
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


@pytest.mark.parametrize("rho", [1.2, 1.5, 1.8])
def test_tweedie_is_the_compound_poisson_gamma_likelihood_up_to_a_term_in_y(rho: float) -> None:
    mus = np.array([0.7, 3.0, 12.0])
    for y in (0.0, 0.4, 2.5, 9.0, 20.0):
        ours = _log_prob("Tweedie", np.full(3, y), np.log(mus), rho=rho)
        exact = np.array([_tweedie_log_density(y, mu, rho) for mu in mus])
        np.testing.assert_allclose(ours - ours[0], exact - exact[0], rtol=1e-9, atol=1e-9)
        if y == 0:  # no events: the likelihood is exact
            np.testing.assert_allclose(ours, exact, rtol=1e-12)


def test_bernoulli_probabilities_sum_to_one() -> None:
    logits = np.array([-3.0, 0.0, 2.0])
    ones = np.exp(_log_prob("Bernoulli", np.ones(3), logits))
    zeros = np.exp(_log_prob("Bernoulli", np.zeros(3), logits))
    np.testing.assert_allclose(ones, 1 / (1 + np.exp(-logits)), rtol=1e-12)
    np.testing.assert_allclose(ones + zeros, 1.0, rtol=1e-12)


# ----- Sampling -----


@pytest.mark.parametrize(("name", "params", "mean", "variance"), [
    ("Normal", (3.0, 2.0), 3.0, 4.0),
    ("StudentT", (6.0, -1.0, 2.0), -1.0, 4.0 * 6 / 4),
    ("Poisson", (7.0,), 7.0, 7.0),
    ("NegativeBinomial", (5.0, math.log(2.0)), 10.0, 10.0 + 100.0 / 5),
    ("Tweedie", (math.log(4.0),), 4.0, 4.0**1.5),
    ("Bernoulli", (0.5,), 1 / (1 + math.exp(-0.5)), 0.25 - (1 / (1 + math.exp(-0.5)) - 0.5) ** 2),
])
def test_samples_have_the_known_moments(name: str, params: tuple[float, ...], mean: float, variance: float) -> None:
    family = DistributionLoss(name).family
    draws = family.sample([np.full(1, p) for p in params], (400_000, 1), np.random.default_rng(0))
    assert draws.mean() == pytest.approx(mean, abs=6 * math.sqrt(variance / 400_000))
    assert draws.var() == pytest.approx(variance, rel=0.03)
    assert family.mean([np.asarray(p) for p in params]) == pytest.approx(mean, rel=1e-12)


# ----- neuralforecast's scale handling -----


def test_parameters_are_anchored_on_the_window_scaler_as_in_neuralforecast() -> None:
    raw = GEN.normal(size=(2, 3, 3))
    loc, scale = np.array([5.0, -2.0]).reshape(2, 1, 1), np.array([2.0, 0.5]).reshape(2, 1, 1)
    scaling = Scaling(get_scaler("standard"), loc, scale)
    softplus = np.logaddexp(raw, 0.0)
    df, mean, spread = DistributionLoss("StudentT").parameters(raw, scaling)
    np.testing.assert_allclose(df[..., 0], 3 + softplus[..., 0])
    np.testing.assert_allclose(mean[..., 0], raw[..., 1] * scale[..., 0] + loc[..., 0])
    np.testing.assert_allclose(spread[..., 0], (softplus[..., 2] + 0.1) * scale[..., 0])
    mean, std = DistributionLoss("Normal").parameters(raw[..., :2], scaling)
    np.testing.assert_allclose(std[..., 0], (softplus[..., 1] + 0.2) * scale[..., 0])
    (rate,) = DistributionLoss("Poisson").parameters(raw[..., :1], scaling)
    np.testing.assert_allclose(rate[..., 0], np.logaddexp(raw[..., 0] * scale[..., 0] + loc[..., 0], 0) + 1e-10)
    loc = np.abs(loc)  # count distributions: a non-negative location
    count, logits = DistributionLoss("NegativeBinomial").parameters(raw[..., :2], Scaling(scaling.scaler, loc, scale))
    mu, alpha = (softplus[..., 0] + 1e-8) * scale[..., 0] + loc[..., 0], (softplus[..., 1] + 1e-8) / (scale[..., 0] + 1)
    np.testing.assert_allclose(count[..., 0], 1 / alpha)
    np.testing.assert_allclose(1 / (1 + np.exp(-logits[..., 0])), mu * alpha / (1 + mu * alpha))
    (log_mu,) = DistributionLoss("Tweedie").parameters(raw[..., :1], scaling)  # locs 5 and -2
    np.testing.assert_allclose(log_mu[0, :, 0], np.clip(softplus[0, :, 0], 1e-9, 37) + math.log(5.0))
    np.testing.assert_allclose(log_mu[1, :, 0], np.clip(softplus[1, :, 0], 1e-9, 37))  # loc <= 0 adds nothing


def test_training_scores_the_unscaled_targets() -> None:
    loss, raw = DistributionLoss("Normal"), Tensor(GEN.normal(size=(2, 3, 2)))
    y, mask = GEN.normal(100.0, 5.0, (2, 3, 1)), np.ones((2, 3, 1))
    mean, std = loss.parameters(raw.data, _target(y, 100.0, 5.0, mask).scaling)
    exact = 0.5 * ((y - mean) / std) ** 2 + np.log(std) + 0.5 * math.log(2 * math.pi)
    assert loss.train_loss(raw, _target(y, 100.0, 5.0, mask)).item() == pytest.approx(exact.mean(), rel=1e-12)


def test_feedback_is_the_distribution_mean_in_scaled_units() -> None:
    loss, raw = DistributionLoss("Poisson"), GEN.normal(size=(4, 1, 1))
    scaling = Scaling(get_scaler("robust"), np.full((4, 1, 1), 30.0), np.full((4, 1, 1), 4.0))
    rate = np.logaddexp(raw * 4.0 + 30.0, 0.0) + 1e-10
    np.testing.assert_allclose(loss.feedback(Tensor(raw), scaling).data, ((rate - 30.0) / 4.0)[:, :, 0])


# ----- Outputs -----


def test_output_names_follow_neuralforecast() -> None:
    assert DistributionLoss("StudentT").output_names == ("", "-median", "-lo-90", "-lo-80", "-hi-80", "-hi-90")
    assert DistributionLoss("StudentT").outputsize_multiplier == 3
    assert DistributionLoss("Normal", quantiles=(0.9, 0.1), return_params=True).output_names == (
        "", "-lo-80", "-hi-80", "-loc", "-scale")
    with pytest.raises(UsageError, match="return_params"):
        DistributionLoss("Tweedie", return_params=True)


def test_quantiles_never_cross_over_many_series() -> None:
    loss = DistributionLoss("StudentT", level=(50, 80, 90, 99), num_samples=50)
    raw = GEN.normal(0.0, 2.0, (2000, 6, 3))
    out = loss.forecast(raw, Scaling(get_scaler("robust"), np.zeros((2000, 1, 1)), np.ones((2000, 1, 1))))
    ordered = ["-lo-99", "-lo-90", "-lo-80", "-lo-50", "-median", "-hi-50", "-hi-80", "-hi-90", "-hi-99"]
    columns = np.stack([out[:, :, loss.output_names.index(name)] for name in ordered], axis=-1)
    assert (np.diff(columns, axis=-1) >= 0).all()


@pytest.mark.parametrize("name", ["StudentT", "NegativeBinomial"])
def test_a_fitted_model_gives_ordered_intervals_for_every_series(name: str) -> None:
    frame = read_series_csv(DATA / "visnights.csv")
    loss = {"type": "distribution", "distribution": name, "level": [80, 90], "num_samples": 200}
    model = factory.create("MLP", h=8, input_size=16, hidden_size=16, max_steps=20, loss=loss, scaler_type="robust")
    forecast = model.fit(frame).predict()
    values = [forecast.values[f"MLP{suffix}"] for suffix in ("-lo-90", "-lo-80", "-median", "-hi-80", "-hi-90")]
    assert all((a <= b).all() for a, b in itertools.pairwise(values)) and forecast.point.shape == (20, 8)
    np.testing.assert_array_equal(forecast.point, model.predict().point)  # sampling is seeded


def test_a_recurrent_rollout_feeds_back_the_distribution_mean(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = read_series_csv(DATA / "air_passengers.csv")
    model = factory.create("LSTM", h=6, input_size=12, recurrent=True, encoder_hidden_size=8, max_steps=2,
                           scaler_type="robust", loss={"type": "distribution", "distribution": "Poisson"}).fit(frame)
    fed: list[np.ndarray] = []
    feedback = DistributionLoss.feedback

    def recording(self: DistributionLoss, out: Tensor, scaling: Scaling) -> Tensor:
        value = feedback(self, out, scaling)
        fed.append(value.data)
        return value

    monkeypatch.setattr(DistributionLoss, "feedback", recording)
    forecast = model.predict()
    assert len(fed) == 5 and all(f.shape == (1, 1) for f in fed)  # h - 1 steps read the previous mean
    assert forecast.values["LSTM-lo-90"].shape == (1, 6)


def test_the_loss_is_a_component_table_on_the_command_line() -> None:
    key, value = parse_cli_param('loss={type="distribution", distribution="StudentT", level=[80, 90]}')
    model = factory.create("NHITS", h=12, input_size=24, **{key: value})
    assert isinstance(model.loss, DistributionLoss) and model.get_params()["loss"]["distribution"] == "StudentT"
    assert components.build("loss", model.get_params()["loss"]) == model.loss
    with pytest.raises(UsageError, match="distribution"):
        factory.create("NHITS", h=12, input_size=24, loss={"type": "distribution", "distribution": "Gamma"})


def test_count_distributions_refuse_negative_targets() -> None:
    with pytest.raises(UsageError, match="non-negative targets"):
        DistributionLoss("Poisson")(-np.ones((1, 2, 1)), Tensor(np.zeros((1, 2, 1))))
