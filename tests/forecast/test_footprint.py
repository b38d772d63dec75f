"""The run estimate: every example entry fits the smallest default budget; absurd sizes do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from modreg.forecast.footprint import _defaults, run_bytes
from modreg.forecast.run import merged_params, resolve_target
from modreg.forecast.source import SeriesSource, declared_exog
from modreg.runtime.memory import DEFAULT_FLOOR

pytestmark = pytest.mark.usefixtures("forget_plugins")  # the SeasonalETS entry loads its plugin
EXAMPLE = Path(__file__).resolve().parents[2] / "registry.example"
ENTRIES = sorted(p.stem for p in (EXAMPLE / "models").iterdir())


def _estimate(name: str, **changes: object) -> int:
    spec = resolve_target(name, EXAMPLE)
    params = {**_defaults(spec.model), **merged_params(spec, EXAMPLE), **changes}
    frame = SeriesSource(EXAMPLE / "data" / "air_passengers.csv", "unique_id", "ds", "y").read(declared_exog([params]))
    return run_bytes(params, frame)


@pytest.mark.parametrize("name", ENTRIES)
def test_every_example_entry_fits_the_smallest_default_budget(name: str) -> None:
    assert _estimate(name) < DEFAULT_FLOOR


@pytest.mark.parametrize(("name", "changes"), [
    ("Naive", {"h": 10**9}),
    ("MLP", {"hidden_size": 10**7}),
    ("NHITS", {"mlp_units": [[10**6, 10**6]] * 3}),
    ("LSTM", {"encoder_n_layers": 10**6}),
    ("PatchTST", {"n_heads": 10**5}),
])
def test_absurd_sizes_are_estimated_far_beyond_any_machine(name: str, changes: dict[str, object]) -> None:
    assert _estimate(name, **changes) > 256 * 1024**3
