"""Output that works in pipes, CI and scripts: --format on every table, nothing cut off a
terminal, usage errors as JSON under --json, and progress lines without a terminal."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app

pytestmark = pytest.mark.usefixtures("forget_plugins")  # commands here load the example plugin
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "registry.example"
AIR = ROOT / "tests" / "data" / "air_passengers.csv"
runner = CliRunner()

# Every command that prints a table, with the arguments it needs on the example registry.
TABLE_COMMANDS = {
    "list": ["list"],
    "search": ["search", "long horizon"],
    "stats": ["stats"],
    "history": ["history", "NHITS"],
    "models": ["models"],
    "templates": ["templates"],
    "plugin-list": ["plugin", "list"],
    "plugin-verify": ["plugin", "verify"],
    "discover": ["discover", "--dry-run"],
    "audit": ["audit"],
    "bench": ["bench", "Naive", "--data", str(AIR), "--horizon", "6"],
    "plugin-health": ["plugin", "health", "seasonal_ets"],
}


def invoke(*args: str | Path, env: dict[str, str] | None = None):
    return runner.invoke(app, [str(a) for a in args], env=env)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("pipes") / "registry"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".modreg"))
    (copy / "audit.jsonl").write_text(json.dumps({
        "time": "2026-01-02T03:04:05Z", "user": "ada", "command": "update", "name": "NHITS", "version": "1.2.0",
        "changes": {"tags": {"old": ["mlp"], "new": ["mlp", "x"]}}}) + "\n", encoding="utf-8")
    return copy


@pytest.mark.parametrize("kind", sorted(TABLE_COMMANDS))
def test_every_table_command_prints_tsv_md_and_json(registry: Path, kind: str) -> None:
    args = ["--registry", registry, *TABLE_COMMANDS[kind]]
    tsv = invoke(*args, "--format", "tsv")
    assert tsv.exit_code == 0, tsv.output
    for block in tsv.stdout.strip("\n").split("\n\n"):  # several tables: `# title` on each
        header, *rows = [line for line in block.splitlines() if not line.startswith("# ")]
        assert "\t" in header and rows and all(line.count("\t") == header.count("\t") for line in rows)
    md = invoke(*args, "--format", "md")
    assert md.exit_code == 0 and any(line.startswith("|---") for line in md.stdout.splitlines())
    document = json.loads(invoke(*args, "--format", "json").stdout)
    assert (document["format"], document["kind"]) == (1, kind)


@pytest.mark.parametrize("kind", ["plugin-list", "stats"])
def test_the_kind_is_the_command_under_python_dash_m(registry: Path, kind: str) -> None:
    """`python -m modreg` makes click's program name three words; the kind stays the command's."""
    result = runner.invoke(app, ["--registry", str(registry), "--json", *TABLE_COMMANDS[kind]], prog_name="python -m modreg")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["kind"] == kind


def test_tables_are_never_cut_off_a_terminal(registry: Path) -> None:
    long = "A summary long enough to be cut on any terminal: " + "words " * 40
    target = registry.parent / "cut"
    shutil.copytree(registry, target)
    path = target / "models" / "NHITS.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'summary = "Neural Hierarchical Interpolation for Time Series: multi-rate pooling and interpolated forecasts"',
        f'summary = "{long.strip()}"'), encoding="utf-8")
    for args in (["list"], ["search", "nhits"], ["plugin", "list"], ["stats"]):
        result = invoke("--registry", target, *args, env={"COLUMNS": "60"})
        assert result.exit_code == 0 and "…" not in result.stdout, args
    assert long.strip() in invoke("--registry", target, "list", env={"COLUMNS": "60"}).stdout


def test_a_subprocess_pipe_gets_whole_values() -> None:
    done = subprocess.run([sys.executable, "-m", "modreg", "--registry", str(EXAMPLE), "plugin", "list"],
                          capture_output=True, text=True, timeout=120, env=_env(COLUMNS="40"))
    assert done.returncode == 0 and "plugins/seasonal_ets" in done.stdout and "…" not in done.stdout


def _env(**extra: str) -> dict[str, str]:
    import os

    return {**{k: v for k, v in os.environ.items() if not k.startswith("MODREG_")}, "PYTHONPATH": str(ROOT / "src"), **extra}


@pytest.mark.parametrize("args", [
    ["--json", "list", "--category"],          # an option without its value
    ["list", "--json", "--bogus"],             # an unknown option, --json after the command
    ["--json", "bogus"],                       # an unknown command
    ["--json", "bench", "Naive", "--data", str(AIR), "--executor", "cloud"],  # a bad choice
])
def test_usage_errors_are_json_on_stderr_under_json(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2 and result.stdout == ""
    document = json.loads(result.stderr)
    assert (document["format"], document["kind"], document["error"]["code"]) == (1, "error", 2)
    assert document["error"]["message"] and "--help" in document["error"]["hint"]


def test_usage_errors_stay_text_without_json() -> None:
    result = invoke("list", "--category")
    assert result.exit_code == 2 and "requires an argument" in result.stderr and not result.stderr.startswith("{")


def test_run_prints_progress_lines_without_a_terminal() -> None:
    result = invoke("run", "MLP", "--data", AIR, "--param", "h=12", "--param", "input_size=24", "--param", "max_steps=6",
                    "--param", "hidden_size=8", env={"MODREG_PROGRESS_SECONDS": "0"})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("fitting MLP: step")]
    assert len(lines) >= 3 and "step 6/6" in lines[-1] and "loss" in lines[-1]


def test_bench_prints_steps_inside_each_task_without_a_terminal() -> None:
    result = invoke("bench", "MLP", "--data", AIR, "--horizon", "12", "--windows", "2", "--param", "input_size=24",
                    "--param", "hidden_size=8", "--max-steps", "4", env={"MODREG_PROGRESS_SECONDS": "0"})
    assert result.exit_code == 0, result.output
    assert "bench: 0/4 tasks done; MLP window 1: step 4/4" in result.stderr
    assert "tasks done; MLP window 2: step" in result.stderr


def test_quiet_silences_progress() -> None:
    result = invoke("--quiet", "run", "Naive", "--data", AIR, "--horizon", "3", env={"MODREG_PROGRESS_SECONDS": "0"})
    assert result.exit_code == 0 and result.stderr == ""


@pytest.mark.parametrize("fmt", ["csv", "tsv", "md", "json", "table"])
def test_run_prints_forecasts_in_every_format(fmt: str) -> None:
    result = invoke("run", "SeasonalNaive", "--data", AIR, "--horizon", "3", "--format", fmt)
    assert result.exit_code == 0, result.output
    text = result.stdout
    expected = {"csv": "unique_id,ds,SeasonalNaive\n", "tsv": "unique_id\tds\tSeasonalNaive\n", "md": "| unique_id | ds |",
                "json": '"kind": "run"', "table": "AirPassengers  1961-01-01"}[fmt]
    assert expected in text
