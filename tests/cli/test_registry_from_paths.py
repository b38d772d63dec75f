"""`validate FILE...` and `build --check FILE...` find each file's registry from its path
(the nearest modreg.toml above it), as pre-commit hooks call them: no --registry needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository root (no modreg.toml) holding two registries in subfolders; cwd is the root."""
    for name in ("one", "two"):
        shutil.copytree(ROOT / "registry.example", tmp_path / name, ignore=shutil.ignore_patterns(".modreg"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_validate_finds_the_registry_of_each_file(repo: Path) -> None:
    result = runner.invoke(app, ["validate", "one/models/NHITS.toml", "two/models/LSTM.toml"])
    assert result.exit_code == 0, result.output
    assert "checked 2 files: 0 errors" in result.stderr


def test_validate_reports_a_problem_at_the_file_in_its_registry(repo: Path) -> None:
    path = repo / "two" / "models" / "LSTM.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('category = "recurrent"', 'category = "recurent"'), encoding="utf-8")
    result = runner.invoke(app, ["validate", "--format", "github", "one/models/NHITS.toml", "two/models/LSTM.toml"])
    assert result.exit_code == 1
    assert "::error file=two/models/LSTM.toml,line=" in result.stdout and "one/models" not in result.stdout


def test_a_file_outside_any_registry_is_not_found(repo: Path) -> None:
    (repo / "notes.toml").write_text("x = 1\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", "notes.toml"])
    assert result.exit_code == 3 and "No modreg registry found" in result.stderr


def test_build_check_names_the_stale_registry_and_the_command_that_fixes_it(repo: Path) -> None:
    assert runner.invoke(app, ["build", "--check", "one/models/NHITS.toml", "two/modreg.toml"]).exit_code == 0
    path = repo / "two" / "models" / "NHITS.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('"mlp", ', '"mlp", "energy", '), encoding="utf-8")
    result = runner.invoke(app, ["build", "--check", "two/models/NHITS.toml"])
    assert result.exit_code == 1 and "run `modreg -r two build`" in result.stderr
    both = runner.invoke(app, ["build", "--check", "one/models/NHITS.toml", "two/models/NHITS.toml"])
    assert both.exit_code == 1 and "stale: index/registry.json" in both.stderr


def test_an_explicit_registry_still_wins(repo: Path) -> None:
    result = runner.invoke(app, ["--registry", "one", "validate", "one/models/NHITS.toml"])
    assert result.exit_code == 0, result.output
