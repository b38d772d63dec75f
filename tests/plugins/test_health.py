"""`plugin health`: each plugin in a child process, killed at its timeout."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from modreg.errors import ExitCode
from modreg.plugins.health import check_health
from modreg.plugins.health_child import health_params
from modreg.registry.store.layout import RegistryPaths

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import DemoPlugin, InstalledPlugin

EXAMPLE = Path(__file__).resolve().parents[2] / "registry.example"


def test_the_example_plugin_is_healthy() -> None:
    [report] = check_health(RegistryPaths(EXAMPLE), "seasonal_ets", timeout=60)
    assert report.status == "healthy" and report.ok and report.error is None
    [model] = report.models
    assert model.name == "SeasonalETS" and model.ok
    assert model.params == {"h": 12, "season_length": 12, "seasonal": "multiplicative"}


def test_a_hanging_plugin_is_killed_at_the_timeout(make_plugin: Callable[..., DemoPlugin], tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    hang = f"open({str(pid_file)!r}, 'w').write(str(__import__('os').getpid())); __import__('time').sleep(3600)"
    plugin = make_plugin(fit_body=hang)
    started = time.monotonic()
    [report] = check_health(RegistryPaths(plugin.registry), "demo", timeout=3)
    assert time.monotonic() - started < 15
    assert report.status == "timeout" and "did not finish within 3 s" in report.error.message
    assert report.error.exit_code == ExitCode.CHECK_FAILED
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the child is gone, not left sleeping


def test_a_model_that_fails_to_fit_makes_the_plugin_unhealthy(make_plugin: Callable[..., DemoPlugin]) -> None:
    plugin = make_plugin(fit_body="raise ValueError('cannot fit this')")
    [report] = check_health(RegistryPaths(plugin.registry), timeout=60)
    assert report.status == "failed" and report.error.exit_code == ExitCode.CHECK_FAILED
    [model] = report.models
    assert not model.ok and model.error == "ValueError: cannot fit this"
    assert "DemoModel failed its health check: ValueError: cannot fit this" in report.error.message


def test_a_tampered_plugin_fails_its_health_check_with_the_integrity_error(demo: DemoPlugin) -> None:
    (demo.folder / "helpers.py").write_text("import os\n")
    [report] = check_health(RegistryPaths(demo.registry), "demo", timeout=60)
    assert report.status == "failed" and report.error.exit_code == ExitCode.INTEGRITY
    assert "helpers.py does not match its sha256" in report.error.message and demo.ran() == 0


def test_health_params_complete_the_example_with_fallbacks() -> None:
    assert health_params("MLP", {"hidden_size": 8}) == {"hidden_size": 8, "h": 12, "input_size": 24, "max_steps": 5}
    assert health_params("Naive", {}) == {"h": 12}


def test_an_installed_plugin_is_checked_in_the_child_too(install_plugin: Callable[..., InstalledPlugin]) -> None:
    install_plugin()
    [report] = check_health(None, "ep-epmodel", timeout=60)
    assert report.source == "entry_point" and report.status == "healthy"
    assert [(m.name, m.ok, m.params) for m in report.models] == [("EPModel", True, {"h": 12})]
