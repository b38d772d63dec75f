"""forecast.ensemble: registry members (entries, templates) resolved into runtime members."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from modreg import api
from modreg.errors import NotFound, UsageError
from modreg.forecast.ensemble import exog_layers
from modreg.forecast.run import merged_params, resolve_target
from tests.conftest import EXAMPLE_REGISTRY

AIR = EXAMPLE_REGISTRY / "data" / "air_passengers.csv"

ENSEMBLE = """schema_version = 1
name = "Mix"
version = "1.0.0"
category = "advanced"
status = "active"
summary = "a test ensemble"
description = "members of every kind"
authors = ["Forecasting Team <forecast@example.org>"]
tags = ["ensemble"]
capabilities = ["univariate"]
created = 2026-12-05
updated = 2026-12-05

[runtime]
model = "Ensemble"

[runtime.params]
h = 6
seeds = 2

[[runtime.params.members]]
entry = "MLP"
template = "quick"
params = { input_size = 12 }

[[runtime.params.members]]
model = "NHITS"
template = "quick"
params = { input_size = 18, h = 6 }

[[runtime.params.members]]
{member}
"""


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    shutil.copytree(EXAMPLE_REGISTRY, root)
    return root


def _write(registry: Path, member: str) -> Path:
    path = registry / "models" / "Mix.toml"
    path.write_text(ENSEMBLE.replace("{member}", member), encoding="utf-8")
    return path


def test_members_resolve_in_layers(registry: Path) -> None:
    _write(registry, 'entry = "SeasonalNaive"')
    params = merged_params(resolve_target("Mix", registry), registry)
    mlp, nhits, naive = params["members"]
    assert mlp["model"] == "MLP" and mlp["name"] == "MLP-1" and "entry" not in mlp and "template" not in mlp
    # the entry's own parameters < the member's template < the member's params; the entry's h is dropped
    assert mlp["params"]["hidden_size"] == 256 and mlp["params"]["max_steps"] == 20
    assert mlp["params"]["input_size"] == 12 and "h" not in mlp["params"]
    assert nhits == {"model": "NHITS", "params": {"max_steps": 20, "windows_batch_size": 128, "val_check_steps": 10,
                                                  "input_size": 18, "h": 6}}
    assert naive["model"] == "SeasonalNaive" and naive["params"] == {"season_length": 12}


def test_an_ensemble_entry_runs(registry: Path) -> None:
    _write(registry, 'entry = "SeasonalNaive"')
    result = api.run("Mix", data=AIR, registry=registry, params=["max_steps=2"])
    assert result.model == "Ensemble" and result.forecast.columns == ("Mix",) and result.forecast.h == 6
    assert len(result.params["members"]) == 3


def test_a_deprecated_member_warns(registry: Path) -> None:
    _write(registry, 'entry = "SeasonalNaive"')
    api.deprecate("SeasonalNaive", registry=registry, reason="use Naive", replacement="Naive")
    spec = resolve_target("Mix", registry)
    merged_params(spec, registry)
    assert spec.warnings == ["ensemble member `SeasonalNaive` is deprecated: use Naive; use `Naive` instead."]


@pytest.mark.parametrize(("member", "error", "message"), [
    ('entry = "NoSuch"', NotFound, "names the registry entry `NoSuch`, which does not exist"),
    ('entry = "Ensemble"', NotFound, "names the registry entry `Ensemble`, which does not exist"),
    ('model = "MLP"\ntemplate = "nope"', NotFound, "uses the template `nope`, which does not exist"),
    ('entry = "MLP"\ntemplate = "nope"', NotFound, "uses the template `nope`, which does not exist"),
    ('model = "MLP"\ntemplate = "probabilistic-nhits"', UsageError, "which is for NHITS, not MLP"),
    ('entry = "NBEATS"\nparams = { input_sise = 3 }', UsageError, r"Member 3 .* \(NBEATS\): .* no parameter `input_sise`"),
    ('model = "MLP"\nparams = { hidden_size = "wide" }', UsageError, r"Member 3 .* \(MLP\): .*hidden_size"),
])
def test_bad_members_point_at_their_line(registry: Path, member: str, error: type, message: str) -> None:
    path = _write(registry, member)
    with pytest.raises(error, match=message) as raised:
        merged_params(resolve_target("Mix", registry), registry)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert str(raised.value.path) == str(path) and raised.value.line == lines.index(member.splitlines()[-1]) + 1
    if "Ensemble" in member:
        assert raised.value.hint == '`Ensemble` is a runtime model: write model = "Ensemble" for it.'


def test_a_member_entry_that_is_an_ensemble_is_refused(registry: Path) -> None:
    _write(registry, 'entry = "NeuralEnsemble"')
    with pytest.raises(UsageError, match="an Ensemble itself; ensembles do not nest"):
        merged_params(resolve_target("Mix", registry), registry)


def test_exog_layers_include_the_members() -> None:
    params = {"h": 1, "members": [{"model": "MLP", "params": {"hist_exog_list": ["x"]}}, {"model": "Naive"}]}
    assert exog_layers(params) == [params, {"hist_exog_list": ["x"]}]
    assert exog_layers({"h": 1}) == [{"h": 1}]
