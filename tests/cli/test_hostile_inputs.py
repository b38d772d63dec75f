"""Hostile or broken inputs end in one sentence and the documented exit code, never a traceback
(issue 16, point 5): invalid YAML dates, integers over 4,300 digits, deep `--where`
expressions, malformed model files, and timestamps at the edge of what modreg can write.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.errors import ExitCode

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "registry.example"
LONG = "9" * 5000


def _modreg(registry: Path, *args: str) -> Any:
    done = runner.invoke(app, ["--registry", str(registry), *args])
    assert done.exception is None or isinstance(done.exception, SystemExit), repr(done.exception)
    assert "Traceback" not in done.output
    return done


def _one_error(done: Any) -> str:
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def _replace_line(file: Path, key: str, value: str) -> int:
    """Set `key`'s top-level value in a descriptor; return its line number."""
    lines = file.read_text().split("\n")
    number = next(i for i, line in enumerate(lines) if re.match(rf"{key}\s*[:=]", line))
    separator = ": " if file.suffix == ".yaml" else " = "
    lines[number] = f"{key}{separator}{value}"
    file.write_text("\n".join(lines))
    return number + 1


# ----- Descriptors -----


@pytest.mark.parametrize("date", ["2026-02-30", "2026-13-01"])
def test_an_invalid_yaml_date_is_a_located_problem(clone: Path, date: str) -> None:
    line = _replace_line(clone / "models" / "BiTCN.yaml", "created", date)
    done = _modreg(clone, "validate")
    assert done.exit_code == ExitCode.CHECK_FAILED
    assert f"models/BiTCN.yaml:{line}:" in done.stdout and "is not a valid date" in done.stdout
    done = _modreg(clone, "show", "BiTCN")
    assert done.exit_code == ExitCode.USAGE and f"BiTCN.yaml:{line}:" in _one_error(done)


def test_a_plugin_manifest_with_a_5000_digit_integer_is_not_a_traceback(clone: Path) -> None:
    manifest = next((clone / "plugins").glob("*/plugin.toml"))
    manifest.write_text(manifest.read_text().replace('version = "1.0.0"', f"version = {LONG}"))
    done = _modreg(clone, "run", "SeasonalETS", "--data", str(clone / "data" / "air_passengers.csv"))
    assert done.exit_code == ExitCode.NOT_FOUND and "SeasonalETS" in _one_error(done)


@pytest.mark.parametrize("file", ["BiTCN.yaml", "Naive.toml"])
def test_an_integer_over_4300_digits_is_a_located_problem(clone: Path, file: str) -> None:
    line = _replace_line(clone / "models" / file, "schema_version", LONG)
    done = _modreg(clone, "validate")
    assert done.exit_code == ExitCode.CHECK_FAILED
    assert f"models/{file}:{line}:" in done.stdout and "too long" in done.stdout
    done = _modreg(clone, "show", Path(file).stem)
    assert done.exit_code == ExitCode.USAGE and f"{file}:{line}:" in _one_error(done)


def test_update_set_with_a_5000_digit_number_is_a_usage_error(clone: Path) -> None:
    before = (clone / "models" / "Naive.toml").read_text()
    done = _modreg(clone, "update", "Naive", "--set", f"metadata.size={LONG}")
    assert done.exit_code == ExitCode.USAGE and "too long" in _one_error(done)
    done = _modreg(clone, "update", "Naive", "--set", "metadata.deep=" + "[" * 1000 + "]" * 1000)
    assert done.exit_code == ExitCode.USAGE and "nests too deeply" in _one_error(done)
    assert (clone / "models" / "Naive.toml").read_text() == before


# ----- --where -----


@pytest.mark.parametrize("expression", [
    "(" * 400 + "name = 'Naive'" + ")" * 400,
    "not " * 2000 + "name = 'Naive'",
    "tags in " + "[" * 1000 + "'x'" + "]" * 1000,
], ids=["parentheses", "nots", "lists"])
def test_a_deeply_nested_where_is_a_usage_error_at_a_column(clone: Path, expression: str) -> None:
    done = _modreg(clone, "search", "--where", expression)
    assert done.exit_code == ExitCode.USAGE
    assert re.search(r"at column \d+: the expression nests deeper than \d+ levels", _one_error(done))
    assert len(done.stderr) < 1000  # the expression is shown around the column, not whole


def test_a_where_number_over_4300_digits_is_a_usage_error(clone: Path) -> None:
    done = _modreg(clone, "search", "--where", f"runtime.params.h = {LONG}")
    assert done.exit_code == ExitCode.USAGE and "too long" in _one_error(done)


def test_a_moderately_nested_where_still_works(clone: Path) -> None:
    done = _modreg(clone, "search", "--where", "(" * 30 + "name = 'Naive'" + ")" * 30, "--json")
    assert done.exit_code == 0 and [hit["name"] for hit in json.loads(done.stdout)["items"]] == ["Naive"]


# ----- Model files -----


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    folder = tmp_path_factory.mktemp("saved")
    done = runner.invoke(app, ["--registry", str(EXAMPLE), "run", "NLinear", "--data", str(EXAMPLE / "data" / "air_passengers.csv"),
                               "--param", "max_steps=2", "--save", str(folder / "model.npz")])
    assert done.exit_code == 0, done.output
    with np.load(folder / "model.npz") as archive:
        return {key: archive[key] for key in archive.files}


def _header(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    return json.loads(arrays["__modreg__"].tobytes())


def _with_header(arrays: dict[str, np.ndarray], header: dict[str, Any]) -> dict[str, np.ndarray]:
    return {**arrays, "__modreg__": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)}


def _context(arrays: dict[str, np.ndarray], **changes: Any) -> dict[str, np.ndarray]:
    header = copy.deepcopy(_header(arrays))
    header["meta"]["context"].update(changes)
    return _with_header(arrays, header)


def _without(arrays: dict[str, np.ndarray], key: str) -> dict[str, np.ndarray]:
    return {k: v for k, v in arrays.items() if k != key}


def _weight(arrays: dict[str, np.ndarray], value: Any) -> dict[str, np.ndarray]:
    weight = arrays["state/linear.weight"]
    changed = np.full(weight.shape, value) if isinstance(value, str) else weight.copy()
    if not isinstance(value, str):
        changed.flat[0] = value
    return {**arrays, "state/linear.weight": changed}


BROKEN = {
    "unknown format": lambda a: _with_header(a, {**_header(a), "format": "x"}),
    "format zero": lambda a: _with_header(a, {**_header(a), "format": 0}),
    "missing meta": lambda a: _with_header(a, {k: v for k, v in _header(a).items() if k != "meta"}),
    "meta not a table": lambda a: _with_header(a, {**_header(a), "meta": [1]}),
    "unknown frequency": lambda a: _context(a, freq="fortnightly"),
    "missing lengths": lambda a: _without(a, "context/lengths"),
    "wrong lengths": lambda a: {**a, "context/lengths": np.array([5])},
    "string lengths": lambda a: {**a, "context/lengths": np.array(["x"])},
    "missing exogenous key": lambda a: _context(a, exog=["price"]),
    "string weights": lambda a: _weight(a, "w"),
    "NaN weights": lambda a: _weight(a, np.nan),
    "infinite weights": lambda a: _weight(a, np.inf),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_malformed_model_file_is_an_integrity_error(case: str, saved: dict[str, np.ndarray], tmp_path: Path) -> None:
    path = tmp_path / "broken.npz"
    np.savez(path, **BROKEN[case](saved))
    done = _modreg(EXAMPLE, "run", "NLinear", "--data", str(EXAMPLE / "data" / "air_passengers.csv"), "--load", str(path))
    assert done.exit_code == ExitCode.INTEGRITY, done.output
    assert str(path) in _one_error(done)


def test_a_member_whose_header_declares_more_than_it_holds_is_corrupt(saved: dict[str, np.ndarray],
                                                                      tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "liar.npz"
    np.savez(path, **saved)
    with zipfile.ZipFile(path, "a") as archive, archive.open("state/extra.npy", "w") as member:
        np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": (10**9,)})
        member.write(bytes(80))
    done = _modreg(EXAMPLE, "run", "NLinear", "--data", str(EXAMPLE / "data" / "air_passengers.csv"), "--load", str(path))
    assert done.exit_code == ExitCode.INTEGRITY and "declares 8,000,000,000 bytes of data but holds 80" in done.stderr


def test_a_well_formed_model_file_still_loads(saved: dict[str, np.ndarray], tmp_path: Path) -> None:
    path = tmp_path / "good.npz"
    np.savez(path, **saved)
    done = _modreg(EXAMPLE, "run", "NLinear", "--data", str(EXAMPLE / "data" / "air_passengers.csv"), "--load", str(path))
    assert done.exit_code == 0 and done.stdout.count("\n") == 13


# ----- Timestamps at the edge -----


def _csv(tmp_path: Path, stamps: list[str]) -> Path:
    path = tmp_path / "series.csv"
    path.write_text("ds,y\n" + "".join(f"{stamp},{index % 5 + 1}\n" for index, stamp in enumerate(stamps)))
    return path


def test_integer_timestamps_near_the_int64_maximum_do_not_wrap(tmp_path: Path) -> None:
    top = 2**63 - 1
    data = _csv(tmp_path, [str(top - 20 + i) for i in range(20)])
    done = _modreg(EXAMPLE, "run", "Naive", "--data", str(data), "--horizon", "5")
    assert done.exit_code == ExitCode.USAGE and "would pass the last timestamp" in _one_error(done)
    assert "-9223372036854775808" not in done.stdout


def test_integer_steps_wider_than_int64_are_refused_at_their_line(tmp_path: Path) -> None:
    data = _csv(tmp_path, [str(-(2**63)), "0", str(2**63 - 1)])
    done = _modreg(EXAMPLE, "run", "Naive", "--data", str(data), "--horizon", "1")
    assert done.exit_code == ExitCode.USAGE and "series.csv:3:" in _one_error(done)


@pytest.mark.parametrize("stamps", [
    [f"9999-{month:02d}-01" for month in range(1, 13)],
    [f"9999-12-{day:02d}" for day in range(1, 31)],
    [f"9999-12-31 23:{minute:02d}" for minute in range(40, 60)],
], ids=["months", "days", "minutes"])
def test_forecasts_past_9999_12_are_refused(tmp_path: Path, stamps: list[str]) -> None:
    data = _csv(tmp_path, stamps)
    done = _modreg(EXAMPLE, "run", "Naive", "--data", str(data), "--horizon", "3")
    assert done.exit_code == ExitCode.USAGE and "would pass the last timestamp" in _one_error(done)
    assert "10000-" not in done.stdout


def test_a_forecast_up_to_9999_12_31_is_written_and_read_back(tmp_path: Path) -> None:
    data = _csv(tmp_path, [f"9999-12-{day:02d}" for day in range(1, 30)])
    out = tmp_path / "forecast.csv"
    done = _modreg(EXAMPLE, "run", "Naive", "--data", str(data), "--horizon", "2", "--output", str(out))
    assert done.exit_code == 0 and out.read_text().splitlines()[-1].startswith("series,9999-12-31,")


HEX = "0x" + "f" * 5000  # parses (hexadecimal has no digit limit) but could not be printed


@pytest.mark.parametrize("file", ["BiTCN.yaml", "Naive.toml"])
def test_a_hexadecimal_integer_too_long_to_print_is_a_located_problem(clone: Path, file: str) -> None:
    line = _replace_line(clone / "models" / file, "version", HEX)
    done = _modreg(clone, "validate")
    assert done.exit_code == ExitCode.CHECK_FAILED and f"models/{file}:{line}:" in done.stdout
    assert "too long" in done.stdout


@pytest.mark.parametrize("model", ["Naive", "NHITS"])  # Naive: the path that drops an ignored seed
def test_run_param_with_a_hexadecimal_or_decimal_integer_too_long_is_a_usage_error(clone: Path, model: str) -> None:
    for number in (HEX, LONG):
        done = _modreg(clone, "run", model, "--data", str(clone / "data" / "air_passengers.csv"), "--param", f"h={number}")
        assert done.exit_code == ExitCode.USAGE and "too long" in _one_error(done)


def test_update_set_with_a_hexadecimal_integer_too_long_is_a_usage_error(clone: Path) -> None:
    before = (clone / "models" / "Naive.toml").read_bytes()
    done = _modreg(clone, "update", "Naive", "--set", f"metadata.x={HEX}")
    assert done.exit_code == ExitCode.USAGE and "too long" in _one_error(done)
    assert (clone / "models" / "Naive.toml").read_bytes() == before
