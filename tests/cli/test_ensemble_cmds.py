"""CLI: an Ensemble registry entry through run, save/load, bench, --record and validate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.errors import ExitCode
from modreg.runtime.serialize import SavedModel, read_model_file, write_model_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "registry.example"
AIR = ROOT / "tests" / "data" / "air_passengers.csv"
ENTRY = "NeuralEnsemble"

runner = CliRunner()


def invoke(*args: Any):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    shutil.copytree(EXAMPLE, root)
    return root


def _edit(registry: Path, name: str, old: str, new: str, folder: str = "models") -> Path:
    path = registry / folder / f"{name}.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def _rows(document: dict[str, Any]) -> Any:
    return document.get("items", document.get("forecasts"))


def test_run_save_and_load_treat_the_ensemble_as_one_model(registry: Path, tmp_path: Path) -> None:
    first = invoke("-r", registry, "--json", "run", ENTRY, "--data", AIR, "--param", "max_steps=2",
                   "--save", tmp_path / "e.npz")
    assert first.exit_code == 0, first.output
    document = json.loads(first.stdout)
    assert document["model"] == "Ensemble" and document["columns"] == [ENTRY]
    members = document["params"]["members"]
    assert [m["name"] for m in members][:2] == ["NHITS-1", "NHITS-2"]
    assert members[1]["model"] == "NHITS" and members[1]["params"]["input_size"] == 36  # entry < member params
    assert "h" not in members[0]["params"] and members[0]["params"]["n_pool_kernel_size"] == [2, 2, 1]
    again = invoke("-r", registry, "--json", "run", ENTRY, "--data", AIR, "--load", tmp_path / "e.npz")
    assert again.exit_code == 0, again.output
    assert _rows(json.loads(again.stdout)) == _rows(document)


def test_loading_a_malformed_member_archive_exits_5(registry: Path, tmp_path: Path) -> None:
    assert invoke("-r", registry, "run", ENTRY, "--data", AIR, "--param", "max_steps=1",
                  "--save", tmp_path / "e.npz").exit_code == 0
    saved = read_model_file(tmp_path / "e.npz")
    state = {k: v for k, v in saved.state.items() if not k.startswith("members/3/")}
    write_model_file(tmp_path / "bad.npz", SavedModel(saved.model, saved.params, state, saved.context, saved.meta,
                                                      saved.class_name))
    result = invoke("-r", registry, "run", ENTRY, "--data", AIR, "--load", tmp_path / "bad.npz")
    assert result.exit_code == 5
    assert "Member fit 4 (NBEATS-4)" in result.stderr and "missing key" in result.stderr


def test_bench_and_record_an_ensemble_entry(registry: Path, tmp_path: Path) -> None:
    result = invoke("-r", registry, "--json", "bench", ENTRY, "--data", AIR, "--windows", "2", "--max-steps", "2",
                    "--jobs", "2", "--record")
    assert result.exit_code == 0, result.output
    rows = {m["target"]: m for m in json.loads(result.stdout)["items"]}
    assert rows[ENTRY]["status"] == "ok" and rows[ENTRY]["model"] == "Ensemble"
    assert np.isfinite(rows[ENTRY]["metrics"]["smape"])
    text = (registry / "models" / f"{ENTRY}.toml").read_text(encoding="utf-8")
    assert "[performance]" in text and "max_steps = 2" in text
    assert invoke("-r", registry, "validate").exit_code == 0


def test_validate_reports_a_missing_member_at_its_line(registry: Path) -> None:
    path = _edit(registry, ENTRY, 'entry = "NBEATS"\nparams', 'entry = "NBEATZ"\nparams')
    result = invoke("-r", registry, "validate")
    assert result.exit_code == 1
    line = _line_of(path, 'entry = "NBEATZ"')
    assert f"NeuralEnsemble.toml:{line}:" in result.output
    assert "ensemble member `NBEATZ` is not in the registry" in result.output and "NBEATS" in result.output
    github = invoke("-r", registry, "validate", "--format", "github")
    assert f"line={line}," in github.output
    run = invoke("-r", registry, "run", ENTRY, "--data", AIR, "--param", "max_steps=1")
    assert run.exit_code == 3 and f"NeuralEnsemble.toml:{line}" in run.stderr
    bench = invoke("-r", registry, "bench", ENTRY, "--data", AIR, "--horizon", "12", "--windows", "1", "--max-steps", "1")
    assert bench.exit_code == 3
    assert f"NeuralEnsemble failed (before running): {path}:{line}: Member 4 of the ensemble" in bench.stderr
    document = json.loads(invoke("-r", registry, "--json", "bench", ENTRY, "--data", AIR, "--horizon", "12", "--windows", "1").stdout)
    error = next(m for m in document["items"] if m["target"] == ENTRY)["error"]
    assert (error["path"], error["line"]) == (str(path), line)


def test_validate_warns_about_a_deprecated_member_and_strict_fails(registry: Path) -> None:
    assert invoke("-r", registry, "deprecate", "MLP", "--reason", "superseded", "--replacement", "NHITS").exit_code == 0
    result = invoke("-r", registry, "validate")
    assert result.exit_code == 0
    path = registry / "models" / f"{ENTRY}.toml"
    line = _line_of(path, 'entry = "MLP"')
    assert f"NeuralEnsemble.toml:{line}:1: warning: ensemble member `MLP` is deprecated" in result.output
    assert "its replacement is `NHITS`" in result.output
    assert invoke("-r", registry, "validate", "--strict").exit_code == 1


def _edit_template(registry: Path, name: str, old: str, new: str) -> Path:
    return _edit(registry, name, old, new, folder="templates")


def test_validate_checks_the_members_of_an_ensemble_template_at_their_lines(registry: Path) -> None:
    template = "panel-yearly-ensemble"
    path = _edit_template(registry, template, '{ entry = "NBEATS", name = "NBEATS-2h"', '{ entry = "NBEATZ", name = "NBEATS-2h"')
    _edit_template(registry, template, '{ entry = "MLP", name = "MLP-3h"', '{ model = "MLPP", name = "MLP-3h"')
    result = invoke("-r", registry, "validate")
    assert result.exit_code == 1
    missing, unknown = _line_of(path, 'entry = "NBEATZ"'), _line_of(path, 'model = "MLPP"')
    assert f"{template}.toml:{missing}:7: error: ensemble member `NBEATZ` is not in the registry" in result.output
    assert f"{template}.toml:{unknown}:7: error: ensemble member 6 names the unknown runtime model `MLPP`" in result.output


def test_validate_warns_about_a_deprecated_member_of_an_ensemble_template(registry: Path) -> None:
    assert invoke("-r", registry, "deprecate", "NBEATS", "--reason", "superseded", "--replacement", "NHITS").exit_code == 0
    result = invoke("-r", registry, "validate")
    assert result.exit_code == 0
    path = registry / "templates" / "panel-yearly-ensemble.toml"
    line = _line_of(path, 'entry = "NBEATS"')
    assert f"panel-yearly-ensemble.toml:{line}:7: warning: ensemble member `NBEATS` is deprecated" in result.output
    assert invoke("-r", registry, "validate", "--strict").exit_code == 1


def test_a_member_naming_a_missing_template_fails_validate_and_run_at_its_line(registry: Path) -> None:
    path = _edit(registry, ENTRY, 'entry = "MLP"\n\n', 'entry = "MLP"\ntemplate = "quik"\n\n')
    template = _edit_template(registry, "panel-yearly-ensemble", 'template = "panel-yearly"', 'template = "panel-yearli"')
    result = invoke("-r", registry, "validate")
    assert result.exit_code == 1
    line = _line_of(path, 'template = "quik"')
    assert f"NeuralEnsemble.toml:{line}:1: error: ensemble member 5 uses the unknown template `quik`" in result.output
    assert f"panel-yearly-ensemble.toml:{_line_of(template, 'panel-yearli')}:" in result.output
    run = invoke("-r", registry, "run", ENTRY, "--data", AIR, "--param", "max_steps=1")
    assert run.exit_code == 3
    assert f"NeuralEnsemble.toml:{line}: Member 5 of the ensemble `NeuralEnsemble` uses the template `quik`" in run.stderr


def test_run_points_a_bad_member_from_a_template_at_the_template(registry: Path) -> None:
    template = "panel-yearly-ensemble"
    path = _edit_template(registry, template, '{ entry = "NBEATS", name = "NBEATS-2h"', '{ entry = "NBEATZ", name = "NBEATS-2h"')
    run = invoke("-r", registry, "run", ENTRY, "--data", AIR, "--template", template, "--param", "max_steps=1")
    assert run.exit_code == 3
    assert f"{template}.toml:{_line_of(path, 'NBEATZ')}: Member 3 of the ensemble `NeuralEnsemble` (from the template " \
           f"`{template}`) names the registry entry `NBEATZ`" in run.stderr
    assert "NeuralEnsemble.toml" not in run.stderr


def test_validate_refuses_unrunnable_and_nested_members(registry: Path) -> None:
    _edit(registry, ENTRY, 'entry = "MLP"\n', 'entry = "NeuralEnsemble"\n')
    _edit(registry, ENTRY, 'entry = "NHITS"\n', 'model = "NHITS"\nparams = { input_sise = 3 }\n')
    result = invoke("-r", registry, "validate")
    assert result.exit_code == 1
    assert "ensemble member `NeuralEnsemble` is an Ensemble itself" in result.output
    assert "unknown key `input_sise` in runtime.params.members[0].params" in result.output


def test_run_jobs_fits_the_members_in_processes_with_the_same_forecasts(registry: Path) -> None:
    forecasts = []
    for jobs in ("1", "2"):
        done = invoke("-r", registry, "--json", "run", ENTRY, "--data", AIR, "--param", "max_steps=2", "--jobs", jobs)
        assert done.exit_code == 0, done.output
        document = json.loads(done.stdout)
        assert document["params"]["jobs"] == int(jobs)
        forecasts.append(_rows(document))
    assert forecasts[0] == forecasts[1]


def test_run_jobs_is_ignored_by_a_model_that_fits_in_one_process() -> None:
    done = invoke("--verbose", "run", "Naive", "--data", AIR, "--horizon", "3", "--jobs", "2")
    assert done.exit_code == 0, done.output
    assert "Naive fits in one process, so --jobs 2 is ignored." in done.stderr


@pytest.mark.parametrize(("member", "exit_code"), [("NHITS", 0), ("NoSuchEntry", 2)])
def test_register_checks_the_members_of_a_new_ensemble(registry: Path, tmp_path: Path, member: str,
                                                       exit_code: int) -> None:
    text = (registry / "models" / f"{ENTRY}.toml").read_text(encoding="utf-8")
    text = text.replace(f'name = "{ENTRY}"', 'name = "SmallEnsemble"').replace('entry = "MLP"', f'entry = "{member}"')
    new = tmp_path / "SmallEnsemble.toml"
    new.write_text(text, encoding="utf-8")
    done = invoke("-r", registry, "register", "--from", new)
    assert done.exit_code == exit_code, done.output
    written = (registry / "models" / "SmallEnsemble.toml").exists()
    assert written == (exit_code == 0)
    if exit_code:
        assert "NoSuchEntry" in done.stderr and "Traceback" not in done.output
        line = _line_of(new, 'entry = "NoSuchEntry"')
        assert f"{new}:{line}:" in done.stderr


def test_register_hints_the_closest_name_for_a_misspelt_member(registry: Path, tmp_path: Path) -> None:
    text = (registry / "models" / f"{ENTRY}.toml").read_text(encoding="utf-8")
    new = tmp_path / "SmallEnsemble.toml"
    new.write_text(text.replace(f'name = "{ENTRY}"', 'name = "SmallEnsemble"').replace('entry = "MLP"', 'entry = "MLPP"'),
                   encoding="utf-8")
    done = invoke("-r", registry, "register", "--from", new)
    assert done.exit_code == 2 and "did you mean `MLP`?" in done.stderr


def test_delete_refuses_an_entry_that_an_ensemble_has_as_member(registry: Path) -> None:
    path = registry / "models" / f"{ENTRY}.toml"
    path.write_text("\n".join(line for line in path.read_text(encoding="utf-8").split("\n")
                              if not line.startswith("MLP = ")), encoding="utf-8")  # not a dependency any more
    done = invoke("-r", registry, "delete", "MLP")
    assert done.exit_code != 0 and "ensemble member `MLP`" in done.stderr, done.output
    assert (registry / "models" / "MLP.toml").exists()


def test_delete_refuses_an_entry_that_only_a_template_has_as_member(registry: Path) -> None:
    assert invoke("-r", registry, "delete", ENTRY).exit_code == 0  # no entry lists MLP as member any more
    done = invoke("-r", registry, "delete", "MLP")
    assert done.exit_code == ExitCode.CONFLICT, done.output
    assert "panel-monthly-ensemble.toml:" in done.stderr and "ensemble member `MLP` is not in the registry" in done.stderr
    assert (registry / "models" / "MLP.toml").exists()
    assert invoke("-r", registry, "delete", "MLP", "--force").exit_code == 0  # --force leaves the template to fix
