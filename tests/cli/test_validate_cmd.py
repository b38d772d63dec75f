"""CLI: `modreg validate` in text, json and github formats (stdout and stderr apart)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.registry.store.descriptor import dumps_toml, dumps_yaml

runner = CliRunner()


def _entry(name: str, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "schema_version": 1, "name": name, "version": "1.0.0", "category": "basic", "status": "active",
        "summary": f"The {name} model", "authors": ["Team <team@example.org>"],
    }
    data.update(fields)
    return data


@pytest.fixture
def registry(empty_registry: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry with one good TOML and one good YAML entry; cwd is its root."""
    (empty_registry / "models" / "Alpha.toml").write_text(dumps_toml(_entry("Alpha")))
    (empty_registry / "models" / "Beta.yaml").write_text(dumps_yaml(_entry("Beta", dependencies={"Alpha": "^1"})))
    monkeypatch.chdir(empty_registry)
    return empty_registry


def _break(registry: Path) -> None:
    (registry / "models" / "Gamma.toml").write_text(dumps_toml(_entry("Gamma", category="advaned", dependencies={"Alpah": "*"})))


def test_clean_registry_exits_0(registry: Path) -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.strip() == "checked 3 files: 0 errors, 0 warnings"


def test_problems_exit_1_with_every_problem_on_stdout(registry: Path) -> None:
    _break(registry)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines == [
        "models/Gamma.toml:4:1: error: `category` must be one of basic, recurrent, advanced, transformer, specialized, custom; found `advaned`",
        "    hint: did you mean `advanced`?",
        "models/Gamma.toml:12:1: error: dependency `Alpah` is not in the registry",
        "    hint: did you mean `Alpha`?",
    ]
    assert "error: validation failed: 2 errors in 4 files checked." in result.stderr
    assert "hint: fix the problems above" in result.stderr


def test_github_format_prints_annotations(registry: Path) -> None:
    _break(registry)
    result = runner.invoke(app, ["validate", "--format", "github"])
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("::error file=models/Gamma.toml,line=4,col=1::`category` must be one of")
    assert first.endswith("(hint: did you mean `advanced`?)")
    assert "::error" not in result.stderr


@pytest.mark.parametrize("args", [["validate", "--json"], ["--json", "validate"], ["validate", "--format", "json"]])
def test_json_is_one_document_on_stdout(registry: Path, args: list[str]) -> None:
    _break(registry)
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["checked_files"] == 4
    assert [p["json_path"] for p in document["problems"]] == ["category", "dependencies.Alpah"]
    assert document["problems"][0] == {
        "path": "models/Gamma.toml", "line": 4, "col": 1, "severity": "error", "json_path": "category",
        "message": "`category` must be one of basic, recurrent, advanced, transformer, specialized, custom; found `advaned`",
        "hint": "did you mean `advanced`?",
    }
    if "--format" not in args:
        assert json.loads(result.stderr)["error"]["code"] == 1


def test_warnings_pass_unless_strict(registry: Path) -> None:
    (registry / "models" / "Old.toml").write_text(
        dumps_toml(_entry("Old", status="deprecated", deprecation={"reason": "old", "sunset": dt.date(2020, 1, 1)}))
    )
    relaxed = runner.invoke(app, ["validate"])
    assert relaxed.exit_code == 0
    assert "models/Old.toml:13:1: warning: the sunset date 2020-01-01 has passed" in relaxed.stdout
    assert "0 errors, 1 warning" in relaxed.stderr
    strict = runner.invoke(app, ["validate", "--strict"])
    assert strict.exit_code == 1 and "error: the sunset date" in strict.stdout


def test_paths_limit_the_report(registry: Path) -> None:
    _break(registry)
    result = runner.invoke(app, ["validate", "models/Alpha.toml", "models/Beta.yaml"])
    assert result.exit_code == 0 and "checked 2 files" in result.stderr


def test_bad_yaml_reports_line_and_quote_hint(registry: Path) -> None:
    (registry / "models" / "Delta.yaml").write_text(
        "schema_version: 1\nname: Delta\nversion: 1.10\ncategory: basic\nstatus: active\nsummary: s\nauthors: [x]\n"
    )
    result = runner.invoke(app, ["validate", "models/Delta.yaml"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "models/Delta.yaml:3:1: error: `version` must be a string; found a number `1.1`",
        '    hint: YAML 1.1 reads `1.10` as `1.1`; quote it: version: "1.10"',
    ]


def test_quiet_drops_the_summary(registry: Path) -> None:
    result = runner.invoke(app, ["--quiet", "validate"])
    assert result.exit_code == 0 and result.stderr == ""


def test_missing_path_exits_3(registry: Path) -> None:
    result = runner.invoke(app, ["validate", "models/Nope.toml"])
    assert result.exit_code == 3
    assert result.stdout == "" and "does not exist" in result.stderr


def test_outside_a_registry_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 3 and "modreg init" in result.stderr


def test_registry_option(registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate", "--registry", str(registry)])
    assert result.exit_code == 0 and "checked 3 files" in result.stderr
