"""registry.example's panel templates run the window entries on panels of short series, as `modreg run` does.

Their accuracy against SeasonalNaive is measured by benchmarks/m1_bench.py; here each template
must validate for every window entry and train (a few steps) on M1's short yearly or quarterly
series, forecasting every series.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modreg import api
from modreg.runtime.data import read_series_csv
from tests.conftest import EXAMPLE_REGISTRY

DATA = Path(__file__).resolve().parents[1] / "data"
TEMPLATES = {"panel-yearly": "m1_yearly.csv", "panel-quarterly": "m1_quarterly.csv",
             "panel-monthly": "m1_quarterly.csv", "panel-quarterly-long": "m1_quarterly.csv"}


@pytest.mark.parametrize("template", list(TEMPLATES))
@pytest.mark.parametrize("entry", ["NHITS", "NBEATS", "MLP", "LSTM"])
def test_panel_templates_train_entries_on_short_series(template: str, entry: str) -> None:
    data = DATA / TEMPLATES[template]
    result = api.run(entry, data=data, registry=EXAMPLE_REGISTRY, template=template,
                     params={"max_steps": 2, "windows_batch_size": 16})
    frame = read_series_csv(data)
    assert result.sources["h"] == f"template {template}" and result.sources["max_steps"] == "command line"
    assert min(frame.lengths) < result.params["input_size"] + result.params["h"]
    values = result.forecast.values[entry]
    assert values.shape == (frame.n_series, result.params["h"]) and np.all(np.isfinite(values))


def test_merged_params_apply_a_template_between_the_entry_and_the_command_line() -> None:
    from modreg.forecast.run import merged_params, resolve_target

    spec = resolve_target("NHITS", EXAMPLE_REGISTRY)
    merged = merged_params(spec, EXAMPLE_REGISTRY, params={"max_steps": 5}, template="panel-monthly")
    assert (merged["h"], merged["loss"], merged["max_steps"]) == (18, "mape", 5)
    assert merged["n_freq_downsample"] == spec.params["n_freq_downsample"]  # the entry's architecture stays


ENSEMBLES = {"panel-yearly-ensemble": (6, (12, 18)), "panel-quarterly-ensemble": (8, (16, 24, 32)),
             "panel-monthly-ensemble": (18, (36, 54, 72)), "panel-quarterly-long-ensemble": (8, (40, 48, 56))}


@pytest.mark.parametrize("template", list(ENSEMBLES))
def test_ensemble_templates_put_each_entry_under_the_panel_template_at_several_input_sizes(template: str) -> None:
    from modreg.forecast.run import merged_params, resolve_target

    spec = resolve_target("NeuralEnsemble", EXAMPLE_REGISTRY)
    merged = merged_params(spec, EXAMPLE_REGISTRY, template=template)
    h, sizes = ENSEMBLES[template]
    panel = merged_params(resolve_target("NHITS", EXAMPLE_REGISTRY), EXAMPLE_REGISTRY,
                          template=template.removesuffix("-ensemble"))
    members = merged["members"]
    k = len(sizes)
    assert merged["h"] == h and [m["model"] for m in members] == ["NHITS"] * k + ["NBEATS"] * k + ["MLP"] * k
    assert [m["params"]["input_size"] for m in members] == list(sizes) * 3
    for member in members:
        assert all(member["params"][k] == panel[k] for k in ("h", "scaler_type", "max_steps", "windows_batch_size"))
        assert member["params"].get("loss") == panel.get("loss")


def test_the_ensemble_template_trains_every_member_on_short_series() -> None:
    data = DATA / "m1_yearly.csv"
    result = api.run("NeuralEnsemble", data=data, registry=EXAMPLE_REGISTRY, template="panel-yearly-ensemble",
                     params={"max_steps": 2})
    values = result.forecast.values["NeuralEnsemble"]
    assert values.shape == (read_series_csv(data).n_series, 6) and np.all(np.isfinite(values))
