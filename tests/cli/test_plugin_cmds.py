"""CLI: `plugin list/verify/lock/health`, `discover`, and `run` with a plugin's model."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "registry.example"
AIR = ROOT / "tests" / "data" / "air_passengers.csv"

runner = CliRunner()


def invoke(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


pytestmark = pytest.mark.usefixtures("forget_plugins")  # conftest's: every test here loads plugins


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """A writable copy of the example registry (with the seasonal_ets plugin)."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "registry"))


def _flip(registry: Path) -> Path:
    path = registry / "plugins" / "seasonal_ets" / "_smoothing.py"
    path.write_text(path.read_text().replace("0.02, 0.98", "0.02, 0.99"))
    return path


# ----- plugin list / verify -----


def test_the_example_plugin_verifies() -> None:
    result = invoke("--registry", EXAMPLE, "plugin", "verify")
    assert result.exit_code == 0, result.output
    assert "seasonal_ets" in result.stdout and "verified" in result.stdout


def test_plugin_list_json_shows_source_models_and_status() -> None:
    result = invoke("--registry", EXAMPLE, "--json", "plugin", "list")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    [plugin] = [p for p in document["items"] if p["source"] == "registry"]
    assert (plugin["name"], plugin["location"], plugin["models"], plugin["status"], plugin["version"]) == (
        "seasonal_ets", "plugins/seasonal_ets", ["SeasonalETS"], "verified", "1.0.0")


def test_verify_refuses_a_changed_file_with_exit_5_naming_it(registry: Path) -> None:
    path = _flip(registry)
    result = invoke("--registry", registry, "plugin", "verify")
    assert result.exit_code == 5
    assert f"error: {path}: plugin `seasonal_ets`: _smoothing.py does not match its sha256 in plugin.toml." in result.stderr
    assert "hint: run `modreg plugin lock seasonal_ets`" in result.stderr and "refused" in result.stdout


def test_verify_reports_every_plugin_and_exits_with_the_worst_code(registry: Path) -> None:
    second = registry / "plugins" / "second"
    shutil.copytree(registry / "plugins" / "seasonal_ets", second)
    manifest = second / "plugin.toml"
    manifest.write_text(manifest.read_text().replace('name = "seasonal_ets"', 'name = "second"')
                        .replace('min_runtime_version = "0.1.0"', 'min_runtime_version = "42.0.0"'))
    _flip(registry)
    result = invoke("--registry", registry, "--json", "plugin", "verify")
    assert result.exit_code == 5
    statuses = {p["name"]: (p["status"], p["error"]["code"]) for p in json.loads(result.stdout)["items"]}
    assert statuses == {"seasonal_ets": ("refused", 5), "second": ("refused", 1)}
    assert "needs modreg 42.0.0 or newer" in result.stderr


def test_verify_an_unknown_plugin_suggests_the_close_one() -> None:
    result = invoke("--registry", EXAMPLE, "plugin", "verify", "seasonal_et")
    assert result.exit_code == 3 and "did you mean `seasonal_ets`?" in result.stderr


# ----- plugin lock -----


def test_lock_dry_run_prints_the_diff_then_lock_makes_verify_pass(registry: Path) -> None:
    _flip(registry)
    manifest = registry / "plugins" / "seasonal_ets" / "plugin.toml"
    before = manifest.read_text()
    dry = invoke("--registry", registry, "plugin", "lock", "seasonal_ets", "--dry-run")
    assert dry.exit_code == 0 and '+"_smoothing.py" = ' in dry.stdout and manifest.read_text() == before
    done = invoke("--registry", registry, "plugin", "lock", "seasonal_ets")
    assert done.exit_code == 0 and "locked 3 files of seasonal_ets" in done.stderr
    assert manifest.read_text().startswith("# The example plugin")
    assert invoke("--registry", registry, "plugin", "verify", "seasonal_ets").exit_code == 0


# ----- plugin health -----


def test_the_example_plugin_is_healthy() -> None:
    result = invoke("--registry", EXAMPLE, "--json", "plugin", "health", "seasonal_ets", "--timeout", "60")
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.stdout)["items"]
    assert report["status"] == "healthy" and report["models"][0]["name"] == "SeasonalETS"


def test_health_of_a_tampered_plugin_fails_with_its_integrity_error(registry: Path) -> None:
    _flip(registry)
    result = invoke("--registry", registry, "plugin", "health")
    assert result.exit_code == 5 and "_smoothing.py does not match its sha256" in result.stderr
    assert "failed" in result.stdout


# ----- run -----


def test_run_forecasts_with_the_plugin_model_of_an_entry() -> None:
    result = invoke("--registry", EXAMPLE, "run", "SeasonalETS", "--data", AIR)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 12 and rows[0]["ds"] == "1961-01-01" and 400 < float(rows[0]["SeasonalETS"]) < 500


def test_run_refuses_a_tampered_plugin_before_its_code_runs(registry: Path) -> None:
    path = _flip(registry)
    result = invoke("--registry", registry, "run", "SeasonalETS", "--data", AIR)
    assert result.exit_code == 5 and str(path) in result.stderr
    assert "modreg_plugins.seasonal_ets.seasonal_ets" not in sys.modules


# ----- discover -----


def test_discover_registers_new_models_and_reports_existing_ones(registry: Path) -> None:
    (registry / "models" / "SeasonalETS.toml").unlink()
    result = invoke("--registry", registry, "discover", "--register", "--tag", "plugin")
    assert result.exit_code == 0, result.output
    assert "registered" in result.stdout and (registry / "models" / "SeasonalETS.toml").is_file()
    assert invoke("--registry", registry, "validate").exit_code == 0
    again = invoke("--registry", registry, "--json", "discover", "--register")
    [model] = json.loads(again.stdout)["items"]
    assert again.exit_code == 0 and (model["status"], model["entry"]) == ("exists", "models/SeasonalETS.toml")


def test_discover_dry_run_prints_the_new_descriptor(registry: Path) -> None:
    (registry / "models" / "SeasonalETS.toml").unlink()
    result = invoke("--registry", registry, "discover", "--dry-run", "--tag", "plugin")
    assert result.exit_code == 0 and "+++ b/models/SeasonalETS.toml" in result.stdout
    assert not (registry / "models" / "SeasonalETS.toml").exists()


def test_discover_an_unknown_package_exits_3() -> None:
    result = invoke("discover", "no_such_package_xyz")
    assert result.exit_code == 3 and "No package or module named `no_such_package_xyz`" in result.stderr


@pytest.mark.parametrize("command", [["plugin", "list"], ["plugin", "verify"], ["plugin", "lock"], ["plugin", "health"],
                                     ["discover"]])
def test_every_plugin_command_has_help(command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.stdout and len(result.stdout.splitlines()) > 5
