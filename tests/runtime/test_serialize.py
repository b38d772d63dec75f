"""Model files: one .npz, JSON header + arrays, no pickle, strict weight loading."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from modreg.errors import IntegrityError, NotFound, UsageError
from modreg.runtime.data import read_series_csv
from modreg.runtime.models.base import Forecaster
from modreg.runtime.models.mlp import MLP
from modreg.runtime.serialize import FORMAT_VERSION, HEADER_KEY, SavedModel, read_model_file, write_model_file

DATA = Path(__file__).resolve().parents[1] / "data"


def _write_npz(path: Path, **arrays: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())


def _header(payload: dict) -> np.ndarray:
    return np.frombuffer(json.dumps(payload).encode(), dtype=np.uint8)


def test_round_trip_keeps_params_state_context_and_meta(tmp_path: Path) -> None:
    saved = SavedModel(model="MLP", params={"h": 3, "loss": {"type": "huber", "delta": 0.5}},
                       state={"mlp.0.weight": np.arange(6, dtype=np.float32).reshape(2, 3)},
                       context={"lengths": np.array([1]), "ds": np.array(["2020-01-01"], dtype="datetime64[D]"),
                                "y": np.array([1.0])},
                       meta={"k": [1], "context": {"ids": ["a"], "freq": "D", "exog": []}},
                       class_name="modreg.runtime.models.mlp.MLP")
    path = write_model_file(tmp_path / "sub" / "m.npz", saved)
    back = read_model_file(path)
    assert (back.model, back.params, back.meta, back.class_name) == (saved.model, saved.params, saved.meta, saved.class_name)
    np.testing.assert_array_equal(back.state["mlp.0.weight"], saved.state["mlp.0.weight"])
    assert back.state["mlp.0.weight"].dtype == np.float32
    assert back.context["ds"].dtype == np.dtype("datetime64[D]")
    with zipfile.ZipFile(path) as archive:
        assert f"{HEADER_KEY}.npy" in archive.namelist()


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        ({"weights": np.zeros(2)}, "not a modreg model"),
        ({HEADER_KEY: np.frombuffer(b"{not json", dtype=np.uint8)}, "corrupt model header"),
        ({HEADER_KEY: _header({"format": 1})}, "without a model name"),
        ({HEADER_KEY: _header({"format": FORMAT_VERSION + 1, "model": "MLP"})}, "format"),
        ({HEADER_KEY: _header({"format": 1, "model": "MLP"}), "state/x": np.array([{}], dtype=object)}, "Python objects"),
    ],
)
def test_bad_files_are_integrity_errors(tmp_path: Path, arrays: dict, match: str) -> None:
    path = tmp_path / "bad.npz"
    _write_npz(path, **arrays)
    with pytest.raises(IntegrityError, match=match):
        read_model_file(path)


def test_garbage_and_missing_files(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"\x00\x01 definitely not a zip")
    with pytest.raises(IntegrityError):
        read_model_file(garbage)
    with pytest.raises(NotFound):
        read_model_file(tmp_path / "absent.npz")


@pytest.fixture(scope="module")
def fitted() -> MLP:
    frame = read_series_csv(DATA / "air_passengers.csv")
    return MLP(h=6, input_size=12, hidden_size=16, max_steps=5, windows_batch_size=32, scaler_type="robust",
               loss={"type": "mqloss", "level": [80]}).fit(frame)


def test_saved_model_loads_with_identical_forecasts(fitted: MLP, tmp_path: Path) -> None:
    path = fitted.save(tmp_path / "mlp.npz")
    loaded = Forecaster.load(path)
    assert isinstance(loaded, MLP) and loaded.get_params() == fitted.get_params()
    before, after = fitted.predict(), loaded.predict()
    assert before.columns == after.columns
    for column in before.columns:
        np.testing.assert_array_equal(before.values[column], after.values[column])
    np.testing.assert_array_equal(before.ds[0], after.ds[0])
    assert MLP.load(path).num_parameters() == fitted.num_parameters()


def test_weights_that_do_not_fit_the_params_are_refused(fitted: MLP, tmp_path: Path) -> None:
    saved = read_model_file(fitted.save(tmp_path / "mlp.npz"))
    saved.params["hidden_size"] = 17
    tampered = write_model_file(tmp_path / "tampered.npz", saved)
    with pytest.raises(IntegrityError, match="do not fit"):
        Forecaster.load(tampered)


def test_unknown_model_and_wrong_class(fitted: MLP, tmp_path: Path) -> None:
    saved = read_model_file(fitted.save(tmp_path / "mlp.npz"))
    saved.model = "NoSuchModel"
    with pytest.raises(NotFound, match="not registered"):
        Forecaster.load(write_model_file(tmp_path / "other.npz", saved))

    class Unrelated(Forecaster):
        pass

    with pytest.raises(UsageError, match="not a Unrelated"):
        Unrelated.load(tmp_path / "mlp.npz")


def test_unfitted_models_cannot_be_saved(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not fitted"):
        MLP(h=2, input_size=4).save(tmp_path / "x.npz")


def test_a_member_modreg_never_writes_is_refused(fitted: MLP, tmp_path: Path) -> None:
    path = fitted.save(tmp_path / "mlp.npz")
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    _write_npz(tmp_path / "extra.npz", **arrays, junk=np.zeros(3))
    with pytest.raises(IntegrityError, match=r"it holds a member modreg never writes \(junk.npy\)"):
        read_model_file(tmp_path / "extra.npz")
