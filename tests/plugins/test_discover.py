"""`discover`: models found in plugins and packages, descriptors written for new ones."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from modreg.errors import ExitCode, NotFound
from modreg.plugins.discover import discover_models
from modreg.registry.store.layout import RegistryPaths
from modreg.registry.checks.validate import validate_registry

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import DemoPlugin, InstalledPlugin

TODAY = dt.date(2026, 11, 25)


def _discover(registry: Path, target: str | None = None, **options: bool):
    return discover_models(RegistryPaths(registry), target, today=TODAY, **options)


def test_discover_lists_the_models_of_the_registry_plugins(demo: DemoPlugin) -> None:
    result = _discover(demo.registry)
    [model] = result.models
    assert (model.name, model.category, model.capabilities, model.source, model.status) == (
        "DemoModel", "custom", ("univariate",), "demo", "found")
    assert model.summary == "Repeats the last value of every series." and result.ok
    assert not (demo.registry / "models" / "DemoModel.toml").exists()


def test_discover_registers_a_descriptor_for_each_new_model(demo: DemoPlugin) -> None:
    [model] = _discover(demo.registry, register=True).models
    assert model.status == "registered" and model.entry == "models/DemoModel.toml"
    data = tomllib.loads((demo.registry / "models" / "DemoModel.toml").read_text())
    assert data == {
        "schema_version": 1, "name": "DemoModel", "version": "1.0.0", "category": "custom", "status": "active",
        "summary": "Repeats the last value of every series.", "authors": ["Demo Author <demo@example.org>"],
        "tags": ["demo"], "capabilities": ["univariate"], "created": TODAY, "updated": TODAY,
        "runtime": {"model": "DemoModel", "params": {"h": 3}},
        "history": [{"version": "1.0.0", "date": TODAY, "summary": "first version", "snapshot": {
            "status": "active", "runtime": {"model": "DemoModel", "params": {"h": 3}}, "performance": {},
            "dependencies": {}, "metadata": {}}}],
    }
    assert [p for p in validate_registry(RegistryPaths(demo.registry)) if p.severity == "error"] == []
    audit = [json.loads(line) for line in (demo.registry / "audit.jsonl").read_text().splitlines()]
    assert (audit[-1]["command"], audit[-1]["name"]) == ("discover", "DemoModel")


def test_existing_entries_are_left_as_they_are_and_reported(demo: DemoPlugin) -> None:
    _discover(demo.registry, register=True)
    entry = demo.registry / "models" / "DemoModel.toml"
    entry.write_text(entry.read_text().replace('summary = "Repeats', 'summary = "Hand-edited: repeats'))
    before = entry.read_text()
    [model] = _discover(demo.registry, register=True).models
    assert (model.status, model.entry) == ("exists", "models/DemoModel.toml") and entry.read_text() == before


def test_dry_run_shows_the_new_file_and_writes_nothing(demo: DemoPlugin) -> None:
    [model] = _discover(demo.registry, dry_run=True).models
    assert model.status == "would register" and model.mutation is not None
    assert model.mutation.diff.startswith("--- /dev/null\n+++ b/models/DemoModel.toml")
    assert not (demo.registry / "models" / "DemoModel.toml").exists()


def test_a_broken_plugin_is_reported_and_the_others_are_discovered(make_plugin: Callable[..., DemoPlugin]) -> None:
    good = make_plugin("good", model="GoodModel")
    broken = make_plugin("broken", model="BrokenModel")
    (broken.folder / "extra.py").write_text("")
    result = _discover(good.registry, register=True)
    assert [m.name for m in result.models] == ["GoodModel"] and not result.ok
    [failure] = result.failures
    assert failure.exit_code == ExitCode.INTEGRITY and "extra.py" in failure.message and broken.ran() == 0


def test_a_plugin_folder_can_be_named(make_plugin: Callable[..., DemoPlugin]) -> None:
    make_plugin("one", model="OneModel")
    two = make_plugin("two", model="TwoModel")
    assert [m.name for m in _discover(two.registry, str(two.folder)).models] == ["TwoModel"]


def test_a_package_is_imported_and_its_builtin_models_registered(empty_registry: Path) -> None:
    result = discover_models(RegistryPaths(empty_registry), "modreg.runtime.models.naive", register=True,
                             authors=["Me <me@example.org>"], tags=["baseline"], today=TODAY)
    assert sorted((m.name, m.status) for m in result.models) == [("Naive", "registered"), ("SeasonalNaive", "registered")]
    data = tomllib.loads((empty_registry / "models" / "SeasonalNaive.toml").read_text())
    assert data["runtime"] == {"model": "SeasonalNaive", "params": {"h": 12}}
    assert data["summary"] == "Seasonal naive forecast: each future value equals the value one season earlier."
    assert (data["authors"], data["tags"]) == (["Me <me@example.org>"], ["modreg", "baseline"])
    assert validate_registry(RegistryPaths(empty_registry)) == []


def test_every_builtin_model_is_registered_or_skipped_with_its_reason(empty_registry: Path) -> None:
    result = discover_models(RegistryPaths(empty_registry), "modreg.runtime.models", register=True, today=TODAY)
    status = {m.name: m.status for m in result.models}
    assert {name for name, s in status.items() if s != "registered"} == {"Ensemble"}  # nothing failed
    [ensemble] = [m for m in result.models if m.name == "Ensemble"]
    assert ensemble.status == "skipped" and "needs `members`, which has no default" in ensemble.error.message
    deepar = tomllib.loads((empty_registry / "models" / "DeepAR.toml").read_text())["runtime"]["params"]
    assert deepar["loss"]["distribution"] == "StudentT" and "quantiles" not in deepar["loss"]  # its null left out
    assert validate_registry(RegistryPaths(empty_registry)) == []


def test_an_installed_plugin_package_can_be_registered(install_plugin: Callable[..., InstalledPlugin],
                                                       empty_registry: Path) -> None:
    plugin = install_plugin()
    [model] = _discover(empty_registry, plugin.package, register=True).models
    assert model.status == "registered" and validate_registry(RegistryPaths(empty_registry)) == []
    data = tomllib.loads((empty_registry / "models" / "EPModel.toml").read_text())
    assert data["authors"] == ["EP Author <ep@example.org>"] and data["runtime"]["model"] == "EPModel"


def test_a_model_modreg_run_could_not_find_again_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           install_plugin: Callable[..., InstalledPlugin],
                                                           empty_registry: Path) -> None:
    plugin = install_plugin("LooseModel")
    (plugin.site / f"{plugin.distribution.replace('-', '_')}-1.2.0.dist-info" / "entry_points.txt").write_text("")
    [model] = _discover(empty_registry, plugin.package, register=True).models
    assert model.status == "skipped" and "cannot find by itself" in model.error.message
    assert list((empty_registry / "models").iterdir()) == []


def test_an_unknown_package_is_not_found(empty_registry: Path) -> None:
    with pytest.raises(NotFound, match="No package or module named `no_such_package_xyz`"):
        _discover(empty_registry, "no_such_package_xyz")
