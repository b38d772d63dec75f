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
