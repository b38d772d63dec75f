"""CLI: register, show, list, update through typer's CliRunner (stdout and stderr apart)."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from modreg.cli import app
from modreg.registry.store.audit import read_audit
from modreg.registry.store.init import init_registry
from modreg.registry.store.layout import RegistryPaths

runner = CliRunner()
TODAY = dt.date.today().isoformat()

ALPHA = '''\
# Alpha: hand-written.
schema_version = 1
name = "Alpha"
version = "1.0.0"
category = "basic"
status = "active"
summary = "The alpha model"   # keep it short
authors = ["Team <team@example.org>"]
tags = ["baseline", "mlp"]
created = 2026-01-01
updated = 2026-01-01

[metadata]
paper = "https://example.org/alpha"   # the paper

[[history]]
version = "1.0.0"
date = 2026-01-01
summary = "first version"
'''

BETA = '''\
# Beta: hand-written YAML.
schema_version: 1
name: Beta
version: "2.0.0"
category: recurrent
status: active
summary: The beta model
authors:
  - Team <team@example.org>
tags: [lstm]
created: 2026-01-02
updated: 2026-01-02
'''

OLD = '''\
schema_version = 1
name = "Old"
version = "0.9.0"
category = "basic"
status = "deprecated"
summary = "The old model"
authors = ["Team <team@example.org>"]

[deprecation]
reason = "superseded"
replacement = "Alpha"
sunset = 2099-01-01
'''


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    paths = init_registry(tmp_path / "reg")
    for name, text in (("Alpha.toml", ALPHA), ("Beta.yaml", BETA), ("Old.toml", OLD)):
        (paths.models / name).write_text(text, encoding="utf-8")
    return paths.root


def invoke(reg: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--registry", str(reg), *args])


def _text(reg: Path, name: str) -> str:
    return (reg / "models" / name).read_text(encoding="utf-8")


# ----- register -----


def test_register_from_options_writes_a_canonical_file(reg: Path) -> None:
    result = invoke(
        reg, "register", "Gamma", "--category", "custom", "--summary", "The gamma model",
        "--author", "Me <me@example.org>", "--tag", "x", "--tag", "y", "--capability", "multi_step",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "created Gamma" in result.stderr
    data = tomllib.loads(_text(reg, "Gamma.toml"))
    assert data["tags"] == ["x", "y"] and data["version"] == "0.1.0" and data["status"] == "active"
    assert data["created"].isoformat() == TODAY == data["updated"].isoformat()
    assert read_audit(RegistryPaths(reg), "Gamma")[0].command == "register"


def test_register_yaml_with_a_runtime_model_and_typed_params(reg: Path) -> None:
    result = invoke(
        reg, "register", "Delta", "-c", "basic", "--summary", "d", "--author", "Me <me@example.org>",
        "--runtime-model", "MLP", "--param", "h=12", "--param", "input_size=24", "--format", "yaml",
    )
    assert result.exit_code == 0, result.stderr
    data = yaml.safe_load(_text(reg, "Delta.yaml"))
    assert data["runtime"] == {"model": "MLP", "params": {"h": 12, "input_size": 24}}


def test_register_dry_run_prints_the_new_file_as_a_diff(reg: Path) -> None:
    result = invoke(reg, "register", "Gamma", "-c", "custom", "--summary", "g", "--author", "A <a@b.org>", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("--- /dev/null\n+++ b/models/Gamma.toml\n")
    assert '+name = "Gamma"' in result.stdout
    assert not (reg / "models" / "Gamma.toml").exists()


@pytest.mark.parametrize("name", ["Alpha", "alpha", "BETA"])
def test_register_refuses_an_existing_name_in_any_case_or_format(reg: Path, name: str) -> None:
    result = invoke(reg, "register", name, "-c", "custom", "--summary", "s", "--author", "A <a@b.org>")
    assert result.exit_code == 4
    assert result.stdout == ""
    assert "already exists" in result.stderr and "hint:" in result.stderr


def test_register_error_is_json_on_stderr_under_json(reg: Path) -> None:
    result = invoke(reg, "--json", "register", "alpha", "-c", "custom")
    assert result.exit_code == 4 and result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert error["code"] == 4 and "Alpha" in error["message"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["register", "Gamma", "-c", "custom", "--summary", "s", "--author", "A <a@b.org>", "--param", "h=1"], "--runtime-model"),
        (["register", "Gamma", "-c", "custom", "--summary", "s"], "authors"),
        (["register", "Gamma", "-c", "fancy", "--summary", "s", "--author", "A <a@b.org>"], "category"),
        (["register", "Gamma", "-c", "basic", "--summary", "s", "--author", "A <a@b.org>", "--runtime-model", "MLP", "--param", "h=0"], "h"),
        (["register", "Gamma", "Delta", "-c", "custom"], "--from"),
        (["register", "../evil", "-c", "custom"], "not a valid model name"),
        (["register", "-c", "custom"], "NAME"),
        (["register", "--from", "x.toml", "--category", "custom"], "not both"),
    ],
)
def test_register_usage_errors_exit_2(reg: Path, args: list[str], needle: str) -> None:
    result = invoke(reg, *args)
    assert result.exit_code == 2, result.stderr
    assert needle in result.stderr and result.stdout == ""
    assert not (reg / "models" / "Gamma.toml").exists()


def test_register_from_files_processes_every_file_and_reports_each(reg: Path, tmp_path: Path) -> None:
    good = tmp_path / "Gamma.yaml"
    good.write_text("# my own notes\nschema_version: 1\nname: Gamma\nversion: '1.0.0'\ncategory: custom\nstatus: active\nsummary: g\nauthors: [A <a@b.org>]\n")
    taken = tmp_path / "alpha.toml"
    taken.write_text(ALPHA.replace('name = "Alpha"', 'name = "alpha"'))
    invalid = tmp_path / "Bad.toml"
    invalid.write_text('schema_version = 1\nname = "Bad"\nversion = "1.0.0"\ncategory = "nope"\nstatus = "active"\nsummary = "b"\nauthors = ["A <a@b.org>"]\n')
    missing = tmp_path / "Missing.toml"
    result = invoke(reg, "--json", "register", "--from", str(good), str(taken), str(invalid), str(missing))
    assert result.exit_code == 1  # different failures: 4 (taken), 2 (invalid), 3 (missing)
    results = json.loads(result.stdout)["items"]
    assert [r["ok"] for r in results] == [True, False, False, False]
    assert [r["error"]["code"] for r in results[1:]] == [4, 2, 3]
    assert results[2]["error"]["line"] == 4  # the bad category, in the file given
    adopted = _text(reg, "Gamma.yaml")
    assert adopted.startswith("# my own notes\n") and f"created: {TODAY}" in adopted
    assert not (reg / "models" / "Bad.toml").exists()
    assert len(result.stderr.strip().splitlines()) == 3


def test_register_from_with_one_kind_of_failure_exits_with_its_code(reg: Path, tmp_path: Path) -> None:
    taken = tmp_path / "Alpha.toml"
    taken.write_text(ALPHA)
    result = invoke(reg, "register", "--from", str(taken))
    assert result.exit_code == 4
    assert "already exists" in result.stderr


def test_register_from_an_invalid_file_lists_each_problem_at_the_file_given(reg: Path, tmp_path: Path) -> None:
    invalid = tmp_path / "Bad.toml"
    invalid.write_text('name = "Bad"\n')
    result = invoke(reg, "register", "--from", str(invalid))
    assert result.exit_code == 2
    listed = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(listed) > 1 and all(line.startswith(f"{invalid}:1:1: ") for line in listed)
    assert "models/Bad.toml" not in result.stderr and not (reg / "models" / "Bad.toml").exists()


def test_register_from_a_file_already_in_models_is_a_conflict(reg: Path) -> None:
    result = invoke(reg, "register", "--from", str(reg / "models" / "Beta.yaml"))
    assert result.exit_code == 4
    assert "already in the registry's models/ folder" in result.stderr


# ----- show -----


def test_show_prints_a_readable_view(reg: Path) -> None:
    result = invoke(reg, "show", "Alpha")
    assert result.exit_code == 0 and result.stderr == ""
    first = result.stdout.splitlines()[0]
    assert "Alpha" in first and "1.0.0" in first and "basic" in first
    assert "The alpha model" in result.stdout
    assert "baseline, mlp" in result.stdout and "https://example.org/alpha" in result.stdout


def test_show_json_is_one_document_with_the_descriptor(reg: Path) -> None:
    result = invoke(reg, "show", "Beta", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["name"] == "Beta" and document["file_format"] == "yaml" and document["kind"] == "show" and document["path"] == "models/Beta.yaml"
    assert document["descriptor"]["tags"] == ["lstm"]
    assert document["descriptor"]["created"] == "2026-01-02"


def test_show_unknown_name_exits_3_with_did_you_mean(reg: Path) -> None:
    result = invoke(reg, "show", "alpah")
    assert result.exit_code == 3 and result.stdout == ""
    assert "No model named `alpah`" in result.stderr and "did you mean `Alpha`?" in result.stderr


def test_show_of_a_deprecated_entry_warns_with_replacement_and_sunset(reg: Path) -> None:
    result = invoke(reg, "show", "Old", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["name"] == "Old"
    assert "deprecated (superseded)" in result.stderr
    assert "use Alpha instead" in result.stderr and "sunset 2099-01-01" in result.stderr


# ----- list -----


def test_list_shows_a_table_sorted_by_name(reg: Path) -> None:
    result = invoke(reg, "list")
    assert result.exit_code == 0 and result.stderr == ""
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["name", "version", "category", "status", "summary"]
    assert [row.split()[:4] for row in rows] == [
        ["Alpha", "1.0.0", "basic", "active"],
        ["Beta", "2.0.0", "recurrent", "active"],
        ["Old", "0.9.0", "basic", "deprecated"],
    ]
    assert rows[0].endswith("The alpha model")


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--category", "recurrent"], ["Beta"]),
        (["--status", "deprecated"], ["Old"]),
        (["--tag", "mlp"], ["Alpha"]),
        (["--tag", "mlp", "--tag", "lstm"], []),
        ([], ["Alpha", "Beta", "Old"]),
    ],
)
def test_list_filters_and_json(reg: Path, args: list[str], names: list[str]) -> None:
    result = invoke(reg, "list", "--json", *args)
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert [row["name"] for row in document["items"]] == names
    assert document["unreadable"] == []


def test_list_warns_about_unreadable_files_and_lists_the_rest(reg: Path) -> None:
    (reg / "models" / "Broken.toml").write_text('name = "Broken"\nname = "twice"\n')
    result = invoke(reg, "list", "--json")
    assert result.exit_code == 0
    assert [row["name"] for row in json.loads(result.stdout)["items"]] == ["Alpha", "Beta", "Old"]
    assert "Broken.toml:2" in result.stderr and "skipped" in result.stderr


def test_list_with_no_match_says_so(reg: Path) -> None:
    result = invoke(reg, "list", "--category", "transformer")
    assert result.exit_code == 0 and result.stdout == ""
    assert "No models match." in result.stderr


# ----- update -----


def test_update_changes_only_the_lines_it_must_and_sets_updated(reg: Path) -> None:
    result = invoke(reg, "update", "Alpha", "--tag", "fast", "--remove-tag", "mlp")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and "updated Alpha" in result.stderr
    expected = ALPHA.replace('tags = ["baseline", "mlp"]', 'tags = ["baseline", "fast"]').replace(
        "updated = 2026-01-01", f"updated = {TODAY}"
    )
    assert _text(reg, "Alpha.toml") == expected


def test_update_set_parses_toml_values_and_nests_dotted_keys(reg: Path) -> None:
    result = invoke(
        reg, "update", "Alpha", "--set", "metadata.year=2022", "--set", "metadata.score=0.5", "--set", "metadata.ok=true",
        "--set", 'metadata.title="A title"', "--set", "metadata.sizes=[1, 2]", "--set", "metadata.code=https://x.org/a",
        "--set", "runtime.model=MLP", "--set", "runtime.params.h=12", "--set", "runtime.params.input_size=24",
        "--unset", "metadata.paper",
    )
    assert result.exit_code == 0, result.stderr
    data = tomllib.loads(_text(reg, "Alpha.toml"))
    assert data["metadata"] == {"year": 2022, "score": 0.5, "ok": True, "title": "A title", "sizes": [1, 2], "code": "https://x.org/a"}
    assert data["runtime"] == {"model": "MLP", "params": {"h": 12, "input_size": 24}}
    assert "# Alpha: hand-written." in _text(reg, "Alpha.toml")


def test_update_yaml_keeps_comments_and_quoting(reg: Path) -> None:
    result = invoke(reg, "update", "Beta", "--summary", "A better summary", "--author", "Other <o@example.org>")
    assert result.exit_code == 0, result.stderr
    text = _text(reg, "Beta.yaml")
    assert text.startswith("# Beta: hand-written YAML.\n")
    assert "summary: A better summary\n" in text and "  - Other <o@example.org>\n" in text
    assert 'version: "2.0.0"' in text


def test_update_keeps_an_updated_date_set_explicitly(reg: Path) -> None:
    result = invoke(reg, "update", "Alpha", "--summary", "Backfilled", "--set", "updated=2026-03-01")
    assert result.exit_code == 0, result.stderr
    assert "updated = 2026-03-01\n" in _text(reg, "Alpha.toml")


def test_update_dry_run_prints_the_diff_and_writes_nothing(reg: Path) -> None:
    result = invoke(reg, "update", "Alpha", "--summary", "New", "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.startswith("--- a/models/Alpha.toml\n+++ b/models/Alpha.toml\n")
    assert '-summary = "The alpha model"   # keep it short' in result.stdout
    assert '+summary = "New"   # keep it short' in result.stdout
    assert "dry run" in result.stderr
    assert _text(reg, "Alpha.toml") == ALPHA
    assert not (reg / "audit.jsonl").exists()


def test_update_json_is_the_mutation(reg: Path) -> None:
    result = invoke(reg, "--json", "update", "Alpha", "--tag", "fast")
    assert result.exit_code == 0 and result.stderr == ""
    mutation = json.loads(result.stdout)
    assert mutation["action"] == "update" and mutation["written"] is True
    assert mutation["changes"]["tags"] == {"old": ["baseline", "mlp"], "new": ["baseline", "mlp", "fast"]}


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["update", "Alpha"], 2, "Nothing to update"),
        (["update", "Alpha", "--remove-tag", "nope"], 2, "`nope` is not in tags"),
        (["update", "Alpha", "--set", "novalue"], 2, "KEY=VALUE"),
        (["update", "Alpha", "--set", "metadata.x=[1, 2"], 2, "not a valid TOML value"),
        (["update", "Alpha", "--set", "category=fancy"], 2, "category"),
        (["update", "Alpha", "--unset", "metadata.nothing"], 2, "is not set"),
        (["update", "Alpah", "--tag", "x"], 3, "did you mean `Alpha`?"),
    ],
)
def test_update_errors(reg: Path, args: list[str], code: int, needle: str) -> None:
    result = invoke(reg, *args)
    assert result.exit_code == code, result.stderr
    assert needle in result.stderr and result.stdout == ""
    assert _text(reg, "Alpha.toml") == ALPHA


def test_update_waits_for_the_lock_then_exits_4_naming_the_holder(reg: Path, lock_held_elsewhere) -> None:
    with lock_held_elsewhere(reg) as holder:
        result = invoke(reg, "update", "Alpha", "--tag", "x", "--lock-timeout", "0.2")
    assert result.exit_code == 4
    assert f"locked by process {holder}" in result.stderr
    assert _text(reg, "Alpha.toml") == ALPHA
