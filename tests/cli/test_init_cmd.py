"""CLI: `modreg init` writes an empty, valid registry and refuses to overwrite one."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from modreg.cli import app

runner = CliRunner()


def test_init_creates_the_registry_files(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "reg")])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and "Initialised an empty modreg registry" in result.stderr
    root = tmp_path / "reg"
    for folder in ("models", "plugins", "templates"):
        assert (root / folder).is_dir()
    assert "audit.jsonl merge=union" in (root / ".gitattributes").read_text()
    assert "index/** linguist-generated=true" in (root / ".gitattributes").read_text()
    assert (root / ".gitignore").read_text() == ".modreg/\n"
    assert "[validation]" in (root / "modreg.toml").read_text()


def test_init_defaults_to_the_working_directory(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.stderr
    assert (Path.cwd() / "modreg.toml").is_file()


def test_a_new_registry_validates_and_lists_clean(tmp_path: Path) -> None:
    root = tmp_path / "reg"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    validated = runner.invoke(app, ["--registry", str(root), "validate"])
    assert validated.exit_code == 0, validated.stdout + validated.stderr
    listed = runner.invoke(app, ["--registry", str(root), "list", "--json"])
    assert json.loads(listed.stdout) == {"format": 1, "kind": "list", "items": [], "unreadable": []}


def test_init_refuses_an_existing_registry_with_exit_4(tmp_path: Path) -> None:
    root = tmp_path / "reg"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    config = (root / "modreg.toml").read_text()
    result = runner.invoke(app, ["init", str(root)])
    assert result.exit_code == 4 and result.stdout == ""
    assert "already a modreg registry" in result.stderr and "hint:" in result.stderr
    assert (root / "modreg.toml").read_text() == config


def test_init_json_prints_the_root(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "reg"), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"format": 1, "kind": "init", "root": str((tmp_path / "reg").resolve()),
                                         "created": True, "git_hooks": False}
