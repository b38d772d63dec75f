"""Bad runtime input to `modreg run` (issue: fuzzing run/bench): one sentence naming the file,
a hint, exit code 2, and no output file left behind. Each case here once gave a traceback, a
silent wrong forecast or a misleading message."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
AIR = ROOT / "tests" / "data" / "air_passengers.csv"


def invoke(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture()
def with_x(tmp_path: Path) -> Path:
    """28 daily points of series 'a' with an exogenous column x (the data ends 2020-01-28)."""
    path = tmp_path / "data.csv"
    path.write_text("unique_id,ds,y,x\n" + "".join(f"a,2020-01-{i + 1:02d},{i},{i % 3}\n" for i in range(28)))
    return path


def _run_with_future(data: Path, future: Path, h: int, out: Path):
    return invoke("run", "MLP", "--data", data, "--futr", future, "-o", out, "--param", f"h={h}", "--param",
                  "input_size=4", "--param", "max_steps=2", "--param", "hidden_size=4", "--param",
                  'futr_exog_list=["x"]')


@pytest.mark.parametrize(("rows", "message", "hint"), [
    ("a,2021-01-29,1\na,2021-01-30,2\n", "series 'a' has future values from 2021-01-29, but its forecast starts at 2020-01-29.",
     "give its 2 rows from 2020-01-29 to 2020-01-30, the steps right after the data."),
    ("a,1,1\na,2,2\n", "series 'a' has future values from 1, but its forecast starts at 2020-01-29.", "2020-01-29"),
    ("b,2020-01-29,1\nb,2020-01-30,2\n", "the future values have no rows for series 'a'.", "(series found: b)"),
    ("a,2020-01-29,1\n", "series 'a' has 1 future row, but the horizon needs 2.", "from 2020-01-29 to 2020-01-30"),
])
def test_future_values_must_be_at_the_forecast_timestamps(tmp_path: Path, with_x: Path, rows: str, message: str,
                                                         hint: str) -> None:
    future, out = tmp_path / "fut.csv", tmp_path / "out.csv"
    future.write_text("unique_id,ds,x\n" + rows)
    result = _run_with_future(with_x, future, 2, out)
    assert result.exit_code == 2, result.output
    assert f"fut.csv: {message}" in result.stderr and hint in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_one_future_row_per_series_is_enough_for_h_1(tmp_path: Path, with_x: Path) -> None:
    future, out = tmp_path / "fut.csv", tmp_path / "out.csv"
    future.write_text("unique_id,ds,x\na,2020-01-29,1\n")
    result = _run_with_future(with_x, future, 1, out)
    assert result.exit_code == 0, result.stderr
    assert out.read_text().splitlines()[1].startswith("a,2020-01-29,")


@pytest.mark.parametrize(("option", "message"), [
    (["--seed", "-1"], "`random_seed` of MLP expects an integer >= 0, found -1."),
    (["--param", "learning_rate=nan"], "`learning_rate` of MLP expects a number > 0, found nan."),
    (["--param", "learning_rate=inf"], "`learning_rate` of MLP expects a number > 0, found inf."),
])
def test_a_negative_seed_or_a_non_finite_number_is_a_usage_error(tmp_path: Path, option: list[str], message: str) -> None:
    out = tmp_path / "out.csv"
    result = invoke("run", "MLP", "--data", AIR, "-o", out, "--param", "h=2", "--param", "input_size=4",
                    "--param", "max_steps=2", *option)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "RuntimeWarning" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("option", ["--output", "--save"])
def test_an_output_path_that_is_a_folder_is_refused_before_the_fit(tmp_path: Path, option: str) -> None:
    result = invoke("run", "Naive", "--data", AIR, "--horizon", "2", option, tmp_path)
    assert result.exit_code == 2, result.output
    assert f"{tmp_path}: {option} names a folder, not a file." in result.stderr
    assert "modreg could not finish" not in result.stderr and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["run", "Naive"], ["bench", "Naive"]])
def test_an_output_path_under_a_file_is_refused_before_the_work(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "afile").write_text("kept\n")
    out = tmp_path / "afile" / "sub" / "out.csv"
    result = invoke(*command, "--data", AIR, "--horizon", "2", "-o", out)
    assert result.exit_code == 2, result.output
    assert f"{out}: --output {out}: {tmp_path / 'afile'} is a file, not a folder." in result.stderr
    assert "file exists" not in result.stderr and (tmp_path / "afile").read_text() == "kept\n"


@pytest.mark.parametrize("call", ["run", "bench"])
def test_the_api_refuses_params_given_as_one_string(call: str) -> None:
    from modreg import api
    from modreg.errors import UsageError

    with pytest.raises(UsageError, match=r"not the one string 'h=2'") as raised:
        getattr(api, call)("Naive", data=AIR, horizon=2, params="h=2")
    assert raised.value.hint == "write params=['h=2'], or a dict such as {'h': 12}."


def test_api_bench_takes_one_name_as_one_target() -> None:
    from modreg import api

    result = api.bench("Naive", data=AIR, horizon=2).to_dict()
    assert [m["target"] for m in result["models"]] == ["SeasonalNaive", "Naive"] and result["failed"] == []


def test_loading_a_folder_or_another_models_file_names_the_file_once(tmp_path: Path) -> None:
    folder = invoke("run", "Naive", "--data", AIR, "--load", tmp_path)
    assert folder.exit_code == 2 and f"{tmp_path}: this is a folder, not a model file." in folder.stderr
    saved = tmp_path / "naive.npz"
    assert invoke("run", "Naive", "--data", AIR, "--horizon", "2", "--save", saved).exit_code == 0
    other = invoke("run", "SeasonalNaive", "--data", AIR, "--load", saved)
    assert other.exit_code == 2
    assert f"error: {saved}: the file holds a Naive model, but `SeasonalNaive` runs SeasonalNaive." in other.stderr


@pytest.mark.parametrize(("args", "code", "message"), [
    (["Nope"], 3, "No registry entry or runtime model named `Nope`."),
    (["MLP", "--param", "h=abc", "--param", "input_size=4"], 2, "--param h=abc: the horizon h must be an integer >= 1."),
])
def test_bench_names_the_real_problem_not_a_missing_horizon(tmp_path: Path, args: list[str], code: int,
                                                           message: str) -> None:
    out = tmp_path / "bench.csv"
    result = invoke("bench", *args, "--data", AIR, "--max-steps", "2", "-o", out)
    assert result.exit_code == code, result.output
    assert message in result.stderr and "No target sets a horizon" not in result.stderr and not out.exists()


def test_bench_output_that_is_a_folder_is_refused_before_the_benchmark(tmp_path: Path) -> None:
    result = invoke("bench", "Naive", "--horizon", "2", "--data", AIR, "-o", tmp_path)
    assert result.exit_code == 2, result.output
    assert f"{tmp_path}: --output names a folder, not a file." in result.stderr and "bench.csv" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_bad_plot_series_leaves_no_forecasts_file(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out, picture = tmp_path / "out.csv", tmp_path / "p.svg"
    args = ["run", "Naive", "--data", AIR, "--horizon", "2", "-o", out, "--plot", picture]
    bad = invoke(*args, "--plot-series", "nope")
    assert bad.exit_code == 2 and "--plot-series nope: the data has no such series." in bad.stderr
    assert not out.exists() and not picture.exists()
    good = invoke(*args)
    assert good.exit_code == 0, good.output
    assert out.read_text().startswith("unique_id,ds,Naive\n") and picture.exists()
    assert f"wrote 2 forecasts of Naive to {out}" in good.stderr and "drew Naive's forecasts" in good.stderr


@pytest.mark.parametrize("command", ["run", "bench"])
def test_values_beyond_float32_are_refused_before_the_fit(tmp_path: Path, command: str) -> None:
    data = tmp_path / "big.csv"
    data.write_text("unique_id,ds,y\n" + "".join(f"a,{i},{(-1) ** i * 1e308}\n" for i in range(40)))
    result = invoke(command, "MLP", "--data", data, "--param", "h=2", "--param", "input_size=4", "--param",
                    "max_steps=2")
    assert result.exit_code == 2, result.output
    assert f"{data}: series 'a' has the value 1e+308 in column 'y', beyond what MLP" in result.stderr
    assert "RuntimeWarning" not in result.stderr


def test_weights_that_do_not_fit_name_the_model_file(tmp_path: Path) -> None:
    import numpy as np

    saved = tmp_path / "mlp.npz"
    fit = invoke("run", "MLP", "--data", AIR, "--save", saved, "--param", "h=2", "--param", "input_size=4",
                 "--param", "max_steps=2", "--param", "hidden_size=4")
    assert fit.exit_code == 0, fit.output
    with np.load(saved, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files if not key.endswith("out.bias")}
    np.savez(tmp_path / "cut.npz", **arrays)
    result = invoke("run", "MLP", "--data", AIR, "--load", tmp_path / "cut.npz")
    assert result.exit_code == 5, result.output
    assert f"error: {tmp_path / 'cut.npz'}: The weights do not fit" in result.stderr


def test_a_future_file_without_the_models_column_names_it_not_none(tmp_path: Path, with_x: Path) -> None:
    future, out = tmp_path / "fut.csv", tmp_path / "out.csv"
    future.write_text("unique_id,ds,z\na,2020-01-29,1\na,2020-01-30,2\n")
    result = _run_with_future(with_x, future, 2, out)
    assert result.exit_code == 2, result.output
    assert "fut.csv: the future values have no column 'x', which MLP needs for the horizon." in result.stderr
    assert "(none)" not in result.stderr and "the model's future columns: x" in result.stderr and not out.exists()


def test_a_bad_template_parameter_names_its_line(empty_registry: Path) -> None:
    template = empty_registry / "templates" / "fast.toml"
    template.parent.mkdir(exist_ok=True)
    template.write_text('name = "fast"\nsummary = "s"\n\n[params]\nh = 2\ninput_size = 4\nlearning_rate = nan\n')
    result = invoke("-r", empty_registry, "run", "MLP", "--data", AIR, "--template", "fast", "--param", "max_steps=2")
    assert result.exit_code == 2, result.output
    assert f"{template}:7: In the template `fast`: Parameter `learning_rate` of MLP expects" in result.stderr


def test_an_overflowed_forecast_is_an_error_not_a_file_of_inf(tmp_path: Path) -> None:
    data, out = tmp_path / "large.csv", tmp_path / "out.csv"
    data.write_text("unique_id,ds,y\n" + "".join(f"a,{i},{(i % 7) * 1e30}\n" for i in range(40)))
    result = invoke("run", "MLP", "--data", data, "-o", out, "--param", "h=2", "--param", "input_size=4", "--param",
                    "max_steps=2", "--param", "hidden_size=4", "--param", 'scaler_type="standard"')
    assert result.exit_code == 2, result.output
    assert f"{data}: the forecast column 'MLP' of series 'a' is" in result.stderr and not out.exists()


def test_bench_fails_a_model_whose_forecast_overflowed_rather_than_scoring_inf(tmp_path: Path) -> None:
    data = tmp_path / "large.csv"
    data.write_text("unique_id,ds,y\n" + "".join(f"a,{i},{(i % 7) * 1e30}\n" for i in range(40)))
    result = invoke("bench", "MLP", "--data", data, "--horizon", "2", "--max-steps", "2", "--param", "input_size=4",
                    "--param", "hidden_size=4", "--param", 'scaler_type="standard"')
    assert result.exit_code == 1, result.output
    assert "MLP failed (window 1): the forecast column 'MLP' of series 'a' is" in result.stderr


def test_numpy_float_warnings_stay_off_the_terminal_unless_verbose(tmp_path: Path) -> None:
    data, out = tmp_path / "large.csv", tmp_path / "out.csv"
    data.write_text("unique_id,ds,y\n" + "".join(f"a,{i},{(i % 7) * 1e30}\n" for i in range(40)))
    args = ("run", "MLP", "--data", data, "-o", out, "--param", "h=2", "--param", "input_size=4", "--param",
            "max_steps=2", "--param", "hidden_size=4", "--param", 'scaler_type="standard"')
    for verbose in (False, True):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = invoke(*(("--verbose",) if verbose else ()), *args)
        assert result.exit_code == 2, result.output  # the one sentence about the overflowed forecast
        assert any("encountered" in str(w.message) for w in caught) == verbose
