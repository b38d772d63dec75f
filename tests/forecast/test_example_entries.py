"""Every entry of registry.example with a [runtime] table trains, forecasts, saves and loads
through `modreg.api.run`, with the entry's own parameters (a few steps, to keep CI fast)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
import yaml

import modreg.api as api
from modreg.errors import NotFound
from tests.conftest import EXAMPLE_REGISTRY

pytestmark = pytest.mark.usefixtures("forget_plugins")  # the SeasonalETS entry loads its plugin
DATA = EXAMPLE_REGISTRY / "data" / "air_passengers.csv"


def _runtime_entries() -> list[str]:
    names = []
    for path in sorted((EXAMPLE_REGISTRY / "models").iterdir()):
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
        if "runtime" in data:
            names.append(data["name"])
    return names


ENTRIES = _runtime_entries()


def test_the_example_registry_has_runnable_entries() -> None:
    assert {"NHITS", "NBEATS", "LSTM", "SeasonalNaive", "SeasonalETS"} <= set(ENTRIES)


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_fits_forecasts_saves_and_loads(name: str, tmp_path: Path) -> None:
    fitted = api.run(name, data=DATA, registry=EXAMPLE_REGISTRY, save=tmp_path / "model.npz",
                     params=_few_steps(name))
    values = fitted.forecast.values[fitted.target]  # columns are named after the target (the entry)
    assert values.shape == (1, fitted.params.get("h", 12)) and np.isfinite(values).all()
    assert fitted.forecast.ds[0][0] == np.datetime64("1961-01-01")
    loaded = api.run(name, data=DATA, registry=EXAMPLE_REGISTRY, load=tmp_path / "model.npz")
    np.testing.assert_array_equal(loaded.forecast.values[loaded.target], values)


def _few_steps(name: str) -> tuple[str, ...]:
    """max_steps=3 for built-in models that train (Naive, SeasonalNaive and plugin models do not)."""
    runtime_model = api.show(name, registry=EXAMPLE_REGISTRY).data["runtime"]["model"]
    try:
        properties = api.schema(runtime_model)["properties"]
    except NotFound:  # a plugin's model: its schema is known once the plugin is loaded
        return ()
    return ("max_steps=3",) if "max_steps" in properties else ()
