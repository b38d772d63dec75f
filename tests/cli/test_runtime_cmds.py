"""CLI: `modreg models`, `run` (entry, model name, --param, --template, --save/--load) and `templates`."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "registry.example"
AIR = ROOT / "tests" / "data" / "air_passengers.csv"
FAST = ["--param", "max_steps=3", "--param", "windows_batch_size=32"]
SMALL_MLP = ["--param", "h=12", "--param", "input_size=24", "--param", "hidden_size=16", *FAST]

runner = CliRunner()


def invoke(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _registry(tmp_path: Path, empty_registry: Path, name: str, body: str) -> Path:
    (empty_registry / "models" / f"{name}.toml").write_text(body)
    return empty_registry


ENTRY = """schema_version = 1
name = "{name}"
version = "1.0.0"
category = "basic"
status = "{status}"
summary = "test entry"
{extra}
"""
RUNTIME = """
[runtime]
model = "MLP"
precision = "float32"

[runtime.params]
h = 12
input_size = 24
hidden_size = {hidden}
max_steps = 3
"""


def test_models_lists_runtime_models() -> None:
    result = invoke("models")
    assert result.exit_code == 0, result.stderr
    assert "MLP" in result.stdout and "basic" in result.stdout
    assert "TimeLLM with a MiniLM backbone" in invoke("models", "--format", "tsv").stdout  # the summary column
    rows = json.loads(invoke("models", "--json").stdout)["items"]
    mlp = next(r for r in rows if r["name"] == "MLP")
    assert mlp == {"name": "MLP", "category": "basic", "capabilities": ["multi_step", "batch_processing", "exogenous"],
                   "class": "modreg.runtime.models.mlp.MLP",
                   "summary": "Multi-layer perceptron: fully connected ReLU layers from the flattened window to the horizon."}
    assert json.loads(invoke("models", "--json", "--category", "transformer", "--capability", "exogenous").stdout)["items"] == [
        r for r in rows if r["category"] == "transformer" and "exogenous" in r["capabilities"]]


def test_schema_of_a_runtime_model() -> None:
    result = invoke("schema", "MLP")
    assert result.exit_code == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["properties"]["hidden_size"]["default"] == 1024 and schema["required"] == ["h", "input_size"]


def test_run_a_registry_entry_writes_csv_to_stdout() -> None:
    result = invoke("run", "MLP", "--registry", EXAMPLE, "--data", AIR, *FAST)
    assert result.exit_code == 0, result.stderr
    rows = _rows(result.stdout)
    assert list(rows[0]) == ["unique_id", "ds", "MLP"] and len(rows) == 12
    assert rows[0]["ds"] == "1961-01-01" and rows[-1]["ds"] == "1961-12-01"
    assert all(float(r["MLP"]) == float(r["MLP"]) for r in rows)


def test_run_a_model_name_without_registry_and_a_shorter_horizon() -> None:
    result = invoke("run", "MLP", "--data", AIR, *SMALL_MLP, "--horizon", "6", "--seed", "3")
    assert result.exit_code == 0, result.stderr
    assert len(_rows(result.stdout)) == 6


def test_same_seed_same_forecast() -> None:
    first = invoke("run", "MLP", "--data", AIR, *SMALL_MLP, "--seed", "5").stdout
    assert first and first == invoke("run", "MLP", "--data", AIR, *SMALL_MLP, "--seed", "5").stdout


def test_save_then_load_forecasts_identically(tmp_path: Path) -> None:
    model = tmp_path / "mlp.npz"
    saved = invoke("run", "MLP", "--data", AIR, *SMALL_MLP, "--save", model)
    assert saved.exit_code == 0 and model.is_file() and "saved the fitted model" in saved.stderr
    loaded = invoke("run", "MLP", "--data", AIR, "--load", model)
    assert loaded.exit_code == 0, loaded.stderr
    assert loaded.stdout == saved.stdout
    assert len(_rows(invoke("run", "MLP", "--data", AIR, "--load", model, "--horizon", "4").stdout)) == 4


def test_json_output_and_output_file(tmp_path: Path) -> None:
    out = tmp_path / "fc.csv"
    result = invoke("run", "MLP", "--data", AIR, *SMALL_MLP, "--output", out, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["model"] == "MLP" and doc["source"] == "runtime" and doc["steps"] == 3
    assert doc["params"]["hidden_size"] == 16 and len(doc["items"]) == 12 and doc["output"] == str(out)
    assert _rows(out.read_text())[0]["ds"] == "1961-01-01"
    plain = invoke("run", "MLP", "--data", AIR, *SMALL_MLP, "--output", out)
    assert plain.stdout == "" and "wrote 12 forecasts" in plain.stderr


def test_template_params_sit_under_entry_and_cli_params() -> None:
    result = invoke("run", "MLP", "--registry", EXAMPLE, "--template", "quick", "--data", AIR, "--json",
                    "--param", "max_steps=2")
    assert result.exit_code == 0, result.stderr
    params = json.loads(result.stdout)["params"]
    # quick sets windows_batch_size=128 and max_steps=20; the entry sets max_steps=200; --param wins
    assert params["windows_batch_size"] == 128 and params["max_steps"] == 2 and params["hidden_size"] == 256
    missing = invoke("run", "MLP", "--registry", EXAMPLE, "--template", "quik", "--data", AIR)
    assert missing.exit_code == 3 and "did you mean `quick`" in missing.stderr
    wrong = invoke("run", "MLP", "--registry", EXAMPLE, "--template", "long-horizon", "--data", AIR)
    assert wrong.exit_code == 2 and "is for NHITS, not MLP" in wrong.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--param", "hiden_size=3"], 2, "did you mean `hidden_size`"),
        (["--param", "max_steps=0"], 2, "`max_steps` of MLP expects an integer >= 1, found 0"),
        (["--param", "loss=maee"], 2, "unknown loss 'maee'"),
        (["--param", "nonsense"], 2, "key=value"),
    ],
)
def test_bad_params_are_usage_errors(args: list[str], code: int, message: str) -> None:
    result = invoke("run", "MLP", "--data", AIR, *SMALL_MLP, *args)
    assert result.exit_code == code and message in result.stderr and result.stdout == ""


def test_bad_data_is_a_usage_error_naming_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("unique_id,ds,y\nA,2020-01-01,1\nA,2020-02-01,oops\n")
    result = invoke("run", "MLP", "--data", bad, *SMALL_MLP)
    assert result.exit_code == 2
    assert f"{bad}:3" in result.stderr and "oops" in result.stderr
    short = tmp_path / "short.csv"
    short.write_text("ds,y\n" + "".join(f"2020-{m:02d}-01,{m}\n" for m in range(1, 13)))
    result = invoke("run", "MLP", "--data", short, *SMALL_MLP)
    assert result.exit_code == 2 and "no series is long enough to train MLP" in result.stderr and "needs 25" in result.stderr


def test_unknown_target_and_conflicting_options(tmp_path: Path) -> None:
    result = invoke("run", "MPL", "--data", AIR)
    assert result.exit_code == 3 and "did you mean `MLP`" in result.stderr
    both = invoke("run", "MLP", "--data", AIR, "--save", tmp_path / "a.npz", "--load", tmp_path / "b.npz")
    assert both.exit_code == 2 and "cannot be used together" in both.stderr
    extra = invoke("run", "MLP", "--data", AIR, "--load", tmp_path / "b.npz", "--param", "h=3")
    assert extra.exit_code == 2 and "no effect with --load" in extra.stderr


def test_entry_without_runtime_is_refused(tmp_path: Path, empty_registry: Path) -> None:
    registry = _registry(tmp_path, empty_registry, "Paper", ENTRY.format(name="Paper", status="active", extra=""))
    result = invoke("run", "Paper", "--registry", registry, "--data", AIR)
    assert result.exit_code == 2 and "has no [runtime] table" in result.stderr


def test_deprecated_entry_runs_with_a_warning(tmp_path: Path, empty_registry: Path) -> None:
    extra = RUNTIME.format(hidden=8) + '\n[deprecation]\nreason = "superseded"\nreplacement = "Better"\n'
    registry = _registry(tmp_path, empty_registry, "Old", ENTRY.format(name="Old", status="deprecated", extra=extra))
    result = invoke("run", "Old", "--registry", registry, "--data", AIR)
    assert result.exit_code == 0, result.stderr
    assert "warning: `Old` is deprecated: superseded; use `Better` instead." in result.stderr
    assert list(_rows(result.stdout)[0]) == ["unique_id", "ds", "Old"]


def test_bad_entry_params_point_at_the_descriptor_line(tmp_path: Path, empty_registry: Path) -> None:
    body = ENTRY.format(name="Broken", status="active", extra=RUNTIME.format(hidden='"big"'))
    registry = _registry(tmp_path, empty_registry, "Broken", body)
    result = invoke("run", "Broken", "--registry", registry, "--data", AIR)
    line = body.splitlines().index('hidden_size = "big"') + 1
    assert result.exit_code == 2
    assert f"models/Broken.toml:{line}: runtime.params of `Broken`" in result.stderr
    assert "expects an integer >= 1, found 'big'" in result.stderr


def test_entry_naming_an_unknown_runtime_model(tmp_path: Path, empty_registry: Path) -> None:
    extra = '\n[runtime]\nmodel = "NoSuch"\n'
    registry = _registry(tmp_path, empty_registry, "Ghost", ENTRY.format(name="Ghost", status="active", extra=extra))
    result = invoke("run", "Ghost", "--registry", registry, "--data", AIR)
    assert result.exit_code == 3 and "names the runtime model `NoSuch`" in result.stderr


def test_templates_lists_the_registry_templates(tmp_path: Path) -> None:
    result = invoke("templates", "--registry", EXAMPLE, "--json")
    assert result.exit_code == 0, result.stderr
    found = {t["name"]: t for t in json.loads(result.stdout)["items"]}
    assert {"quick", "monthly-12", "long-horizon"} <= set(found)
    assert found["long-horizon"]["model"] == "NHITS" and found["monthly-12"]["params"] == {"h": 12, "input_size": 24}
    table = invoke("templates", "--registry", EXAMPLE)
    assert table.exit_code == 0 and "quick" in table.stdout


def test_templates_table_names_an_ensembles_members_by_label() -> None:
    table = invoke("templates", "--registry", EXAMPLE, "--format", "tsv")
    assert table.exit_code == 0, table.stderr
    row = next(line for line in table.stdout.splitlines() if line.startswith("panel-yearly-ensemble\t"))
    assert "members=6 [NHITS-2h, NHITS-3h, NBEATS-2h, NBEATS-3h, MLP-2h, MLP-3h]" in row
    assert "'template'" not in row


def test_a_broken_template_is_reported_with_its_file(tmp_path: Path) -> None:
    registry = tmp_path / "reg"
    shutil.copytree(EXAMPLE, registry, ignore=shutil.ignore_patterns("data"))
    (registry / "templates" / "bad.toml").write_text('name = "bad"\nparams = 3\n')
    result = invoke("templates", "--registry", registry)
    assert result.exit_code == 2 and "bad.toml" in result.stderr


def test_schema_of_a_model_registered_at_run_time() -> None:
    from modreg.runtime.factory import register_model, unregister_model
    from modreg.runtime.models.base import Forecaster

    @register_model("RuntimeOnlyModel", category="custom")
    class RuntimeOnly(Forecaster):
        def __init__(self, h: int, width: int = 3) -> None:
            self.h, self.width = h, width

    try:
        result = invoke("schema", "RuntimeOnlyModel")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["properties"]["width"] == {"type": "integer", "default": 3}
    finally:
        unregister_model("RuntimeOnlyModel")
    assert invoke("schema", "RuntimeOnlyModel").exit_code == 3


def test_run_takes_future_exogenous_values_from_futr(tmp_path: Path) -> None:
    rows = (ROOT / "tests" / "data" / "us_change.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "hist.csv").write_text("\n".join(rows[:-8]) + "\n", encoding="utf-8")
    future = ["unique_id,ds,income"] + [",".join(r.split(",")[:2] + [r.split(",")[3]]) for r in rows[-8:]]
    (tmp_path / "fut.csv").write_text("\n".join(future) + "\n", encoding="utf-8")
    args = ["run", "NHITS", "--data", str(tmp_path / "hist.csv"), "--horizon", "8", "--param", "input_size=16",
            "--param", "max_steps=3", "--param", 'futr_exog_list=["income"]']
    without = runner.invoke(app, args)
    assert without.exit_code == 2 and "--futr" in without.stderr
    result = runner.invoke(app, [*args, "--futr", str(tmp_path / "fut.csv")])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "unique_id,ds,NHITS" and len(lines) == 9
    assert lines[1].startswith("US_consumption,2014-10-01,")
    reported = runner.invoke(app, ["--json", *args, "--futr", str(tmp_path / "fut.csv")])
    assert json.loads(reported.stdout)["steps"] == 3  # the training steps, not the horizon checked against --futr



def test_run_joins_static_exogenous_values_from_static() -> None:
    data, static = ROOT / "tests" / "data" / "visnights.csv", ROOT / "tests" / "data" / "visnights_static.csv"
    args = ["run", "NBEATSx", "--data", data, "--static", static, "--horizon", "4", "--param", "input_size=8",
            "--param", "max_steps=2", "--param", "mlp_units=[[8, 8]]", "--param", 'stat_exog_list=["metro", "coastal"]']
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    assert len(_rows(result.stdout)) == 20 * 4
    misnamed = invoke(*args[:-1], 'stat_exog_list=["Metro"]')
    assert misnamed.exit_code == 2
    assert "visnights_static.csv: stat_exog_list names 'Metro'" in misnamed.stderr
    assert "columns found: metro, coastal" in misnamed.stderr


def test_a_future_column_missing_from_futr_is_one_error(tmp_path: Path) -> None:
    rows = (ROOT / "tests" / "data" / "us_change.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "hist.csv").write_text("\n".join(rows[:-8]) + "\n", encoding="utf-8")
    future = ["unique_id,ds,income"] + [",".join(r.split(",")[:2] + [r.split(",")[3]]) for r in rows[-8:]]
    (tmp_path / "fut.csv").write_text("\n".join(future) + "\n", encoding="utf-8")
    result = invoke("run", "TiDE", "--data", tmp_path / "hist.csv", "--futr", tmp_path / "fut.csv", "--horizon", "8",
                    "--param", "input_size=16", "--param", "max_steps=1", "--param", "hidden_size=8",
                    "--param", 'futr_exog_list=["income", "production"]')
    assert result.exit_code == 2
    assert "fut.csv: the future values have no column 'production'" in result.stderr


def test_a_seed_given_to_a_deterministic_model_is_ignored_and_said_with_verbose() -> None:
    quiet = invoke("run", "SeasonalNaive", "--data", AIR, "--horizon", "3", "--seed", "1")
    plain = invoke("run", "SeasonalNaive", "--data", AIR, "--horizon", "3")
    assert quiet.exit_code == 0 and quiet.stdout == plain.stdout and "seed" not in quiet.stderr
    verbose = invoke("--verbose", "run", "Naive", "--data", AIR, "--horizon", "3", "--param", "random_seed=7")
    assert verbose.exit_code == 0 and _rows(verbose.stdout)[0]["Naive"] == "432"
    assert "Naive is deterministic (it has no random_seed), so the seed 7 is ignored." in verbose.stderr
    loaded = invoke("run", "SeasonalNaive", "--data", AIR, "--load", "x.npz", "--seed", "1")
    assert loaded.exit_code == 2 and "--seed has no effect with --load" in loaded.stderr
