"""registry.checks.members: an Ensemble entry's members checked like dependencies, at their lines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from modreg.registry.checks.members import member_entries, runtime_model
from modreg.registry.checks.validate import validate_registry
from modreg.registry.store.layout import RegistryPaths
from tests.conftest import EXAMPLE_REGISTRY


def _ensemble(*members: dict) -> dict:
    return {"runtime": {"model": "Ensemble", "params": {"h": 4, "members": list(members)}}}


def test_member_entries_and_runtime_model() -> None:
    data = _ensemble({"entry": "NHITS"}, {"model": "MLP"}, {"entry": "MLP", "params": {}})
    assert member_entries(data) == ((0, "NHITS"), (2, "MLP"))
    assert runtime_model(data) == "Ensemble" and runtime_model({"name": "x"}) is None
    assert member_entries({"runtime": {"model": "NHITS", "params": {"members": [{"entry": "x"}]}}}) == ()


@pytest.fixture
def registry(tmp_path: Path) -> RegistryPaths:
    root = tmp_path / "registry"
    shutil.copytree(EXAMPLE_REGISTRY, root)
    return RegistryPaths(root)


def _problems(paths: RegistryPaths, old: str, new: str) -> list:
    path = paths.root / "models" / "NeuralEnsemble.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(p.line, p.severity, p.message) for p in validate_registry(paths) if p.path.endswith("NeuralEnsemble.toml")], lines


def test_the_example_ensemble_is_valid(registry: RegistryPaths) -> None:
    assert [p for p in validate_registry(registry) if p.severity == "error"] == []


@pytest.mark.parametrize(("new", "message"), [
    ('model = "NHIT"', "ensemble member 1 names the unknown runtime model `NHIT`"),
    ('model = "Ensemble"', "ensemble member 1 is an Ensemble itself; ensembles do not nest"),
    ('model = "MLP"\ntemplate = "nope"', "ensemble member 1 uses the unknown template `nope`"),
    ('entry = "Naive"\nseeds = 0', "`runtime.params.members[0].seeds`: must be at least 1"),
])
def test_runtime_model_members_are_checked_in_the_file(registry: RegistryPaths, new: str, message: str) -> None:
    found, lines = _problems(registry, 'entry = "NHITS"', new)
    first = lines.index("[[runtime.params.members]]")
    at = lines.index(new.splitlines()[-1], first) + 1  # the member's own line
    assert any(line == at and severity == "error" and text.startswith(message) for line, severity, text in found), found


def test_a_member_without_runtime_is_an_error(registry: RegistryPaths) -> None:
    plain = registry.root / "models" / "Plain.toml"
    text = (registry.root / "models" / "Naive.toml").read_text(encoding="utf-8").replace('name = "Naive"', 'name = "Plain"')
    plain.write_text(text.split("[runtime]")[0] + "[metadata]\nnote = \"no runtime\"\n", encoding="utf-8")
    found, lines = _problems(registry, 'entry = "MLP"', 'entry = "Plain"')
    at = lines.index('entry = "Plain"') + 1
    assert (at, "error", "ensemble member `Plain` has no [runtime] table, so it cannot run") in found


@pytest.mark.parametrize(("new", "message"), [
    ('entry = "NHITS"\nmodel = "NHITS"', "ensemble member 1 names both a runtime model and a registry entry"),
    ('name = "x"', "ensemble member 1 names neither a runtime model nor an entry"),
])
def test_a_member_names_one_model_or_entry(registry: RegistryPaths, new: str, message: str) -> None:
    found, _ = _problems(registry, 'entry = "NHITS"', new)
    assert [text for _, severity, text in found if severity == "error"] == [message]
