"""The Ensemble runtime model: members and seeds, combining, parallel fits, save and load."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from modreg.errors import IntegrityError, NotFound, UsageError
from modreg.runtime.data import read_series_csv
from modreg.runtime.factory import create
from modreg.runtime.metrics import mae
from modreg.runtime.models.base import Forecaster
from modreg.runtime.serialize import SavedModel, read_model_file, write_model_file

DATA = Path(__file__).resolve().parents[2] / "data"
H = 12
MLP = {"model": "MLP", "params": {"input_size": 24, "hidden_size": 32, "max_steps": 30}}
NHITS = {"model": "NHITS", "name": "small-nhits",
         "params": {"input_size": 24, "mlp_units": [[32, 32]] * 3, "max_steps": 30}}


@pytest.fixture(scope="module")
def air():
    return read_series_csv(DATA / "air_passengers.csv")


@pytest.fixture(scope="module")
def fitted(air):
    model = create("Ensemble", h=H, members=(MLP, NHITS, {"model": "SeasonalNaive"}), seeds=2)
    return model.fit(air.slice_end(H))


def test_members_and_seeds_become_fits_with_consecutive_seeds() -> None:
    model = create("Ensemble", h=H, members=(MLP, {**NHITS, "seeds": 3}, {"model": "Naive"}), seeds=2,
                   random_seed=5, max_steps=7)
    assert [p.label for p in model.plans] == ["MLP-1#0", "MLP-1#1", "small-nhits#0", "small-nhits#1",
                                              "small-nhits#2", "Naive-3"]
    assert [p.params.get("random_seed") for p in model.plans] == [5, 6, 5, 6, 7, None]
    assert all(p.params["h"] == H for p in model.plans)
    assert {p.params.get("max_steps") for p in model.plans[:5]} == {7}
    assert model.total_steps == 35


def test_fit_and_forecast_on_real_data(fitted, air) -> None:
    forecast = fitted.predict()
    members = fitted.member_forecasts()
    assert forecast.columns == ("Ensemble",) and forecast.h == H and len(members) == 5
    assert [f.model for f in members] == ["MLP-1#0", "MLP-1#1", "small-nhits#0", "small-nhits#1", "SeasonalNaive-3"]
    np.testing.assert_allclose(forecast.point, np.median(np.stack([f.point for f in members]), axis=0))
    assert np.isfinite(forecast.point).all()
    np.testing.assert_array_equal(forecast.ds[0], air.ds[0][-H:])


def test_the_mean_of_members_is_no_worse_than_their_average_error(air) -> None:
    model = create("Ensemble", h=H, members=(MLP, NHITS, {"model": "SeasonalNaive"}), combine="mean")
    model.fit(air.slice_end(H))
    actual = air.y[0][-H:]
    errors = [float(mae(actual, f.point[0])) for f in model.member_forecasts()]
    assert float(mae(actual, model.predict().point[0])) <= np.mean(errors) + 1e-9


def test_probabilistic_members_combine_by_quantiles_without_crossing(air) -> None:
    member = {"model": "MLP", "params": {"input_size": 24, "hidden_size": 32, "max_steps": 20,
                                        "loss": {"type": "mqloss", "level": [80, 90]}}}
    model = create("Ensemble", h=H, members=(member,), seeds=3, combine="mean").fit(air)
    forecast = model.predict()
    assert forecast.columns == ("Ensemble", "Ensemble-median", "Ensemble-lo-90", "Ensemble-lo-80",
                                "Ensemble-hi-80", "Ensemble-hi-90")
    order = [forecast.values[f"Ensemble{s}"] for s in ("-lo-90", "-lo-80", "-median", "-hi-80", "-hi-90")]
    assert all((a <= b).all() for a, b in itertools.pairwise(order))


def test_parallel_fits_give_the_same_forecast(air) -> None:
    members = (MLP, {"model": "MLP", "params": {"input_size": 36, "hidden_size": 16, "max_steps": 20}})
    one = create("Ensemble", h=H, members=members).fit(air).predict()
    two = create("Ensemble", h=H, members=members, jobs=2).fit(air).predict()
    np.testing.assert_array_equal(one.point, two.point)


def test_save_and_load(fitted, tmp_path: Path) -> None:
    path = fitted.save(tmp_path / "ensemble.npz")
    loaded = Forecaster.load(path)
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.predict().point, fitted.predict().point)
    assert any(key.startswith("members/2/") for key in read_model_file(path).state)


@pytest.mark.parametrize("damage", ["missing", "extra", "shape"])
def test_malformed_member_arrays_are_an_integrity_error(fitted, tmp_path: Path, damage: str) -> None:
    saved = read_model_file(fitted.save(tmp_path / "ensemble.npz"))
    state = dict(saved.state)
    key = next(k for k in state if k.startswith("members/2/"))
    if damage == "missing":
        state = {k: v for k, v in state.items() if not k.startswith("members/2/")}
    elif damage == "extra":
        state["members/9/weight"] = np.zeros(3)
    else:
        state[key] = np.zeros(state[key].shape + (2,))
    broken = tmp_path / "broken.npz"
    write_model_file(broken, SavedModel(saved.model, saved.params, state, saved.context, saved.meta, saved.class_name))
    with pytest.raises(IntegrityError):
        Forecaster.load(broken)


@pytest.mark.parametrize(("member", "error", "message"), [
    ({"entry": "NHITS"}, UsageError, "only a registry can resolve"),
    ({"model": "MLP", "template": "quick", "params": {"input_size": 24}}, UsageError, "only a registry"),
    ({"model": "Ensemble", "params": {"members": []}}, UsageError, "do not nest"),
    ({"model": "MLP", "params": {"input_size": 24, "h": 6}}, UsageError, "sets h = 6"),
    ({"model": "MLP", "params": {"input_sise": 24}}, UsageError, "Ensemble member 1 \\(MLP\\)"),
    ({"model": "NoSuchModel"}, NotFound, "Ensemble member 1"),
])
def test_bad_members_are_refused_naming_the_member(member: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        create("Ensemble", h=H, members=(member,))


def test_a_member_that_cannot_fit_names_itself(air) -> None:
    short = air.slice_end(len(air.y[0]) - 20)
    model = create("Ensemble", h=H, members=({"model": "MLP", "params": {"input_size": 48, "max_steps": 1}},))
    with pytest.raises(UsageError, match="member MLP-1 \\(MLP\\) could not be fitted"):
        model.fit(short)


def test_predicting_before_fitting_is_refused() -> None:
    with pytest.raises(UsageError, match="not fitted"):
        create("Ensemble", h=H, members=(MLP,)).member_forecasts()


def test_workers_start_with_one_blas_thread_and_the_environment_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from modreg.runtime.ensemble_fit import _one_thread_environment

    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with _one_thread_environment():
        assert os.environ["OMP_NUM_THREADS"] == os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert os.environ["OMP_NUM_THREADS"] == "8" and "OPENBLAS_NUM_THREADS" not in os.environ


def test_a_member_worker_never_lets_a_big_product_take_a_second_blas_thread() -> None:
    import subprocess
    import sys

    code = ("from modreg.runtime.ensemble_fit import _one_blas_thread; _one_blas_thread(); "
            "from modreg.runtime.autograd.blas import thread_ceiling; print(thread_ceiling())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "1"
