"""The JSON contract: every command's --json document is an object with `format` and `kind`,
and validates against the schema `modreg schema output.<kind>` publishes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from modreg.api.contract import OUTPUT_KINDS, output_schema
from modreg.cli import app

pytestmark = pytest.mark.usefixtures("forget_plugins")  # commands here load the example plugin
ROOT = Path(__file__).resolve().parents[2]
AIR = "data/air_passengers.csv"
runner = CliRunner()

# kind -> the command line that makes it (run in a copy of the example registry).
COMMANDS: dict[str, list[str]] = {
    "init": ["init", "fresh"],
    "validate": ["validate"],
    "index": ["index", "--check"],
    "report": ["report", "--check"],
    "build": ["build", "--check"],
    "stats": ["stats"],
    "show": ["show", "NHITS"],
    "list": ["list"],
    "search": ["search", "long horizon", "--limit", "3"],
    "register": ["register", "Fresh", "--category", "custom", "--summary", "A fresh entry", "--description", "Fresh.",
                 "--author", "A <a@example.org>", "--tag", "x", "--capability", "univariate", "--dry-run"],
    "update": ["update", "NHITS", "--tag", "energy", "--dry-run"],
    "version": ["version", "NHITS", "--bump", "patch", "-m", "a fix", "--dry-run"],
    "deprecate": ["deprecate", "LSTM", "--reason", "GRU is faster", "--replacement", "GRU", "--dry-run"],
    "archive": ["archive", "RNN", "--dry-run"],
    "restore": ["restore", "RNN", "--dry-run"],
    "delete": ["delete", "TCN", "--dry-run"],
    "history": ["history", "NHITS"],
    "diff": ["diff", "NHITS", "1.0.0", "1.1.0"],
    "diff-git": ["diff", "--git", "HEAD"],
    "audit": ["audit"],
    "models": ["models"],
    "templates": ["templates"],
    "run": ["run", "SeasonalNaive", "--data", AIR, "--horizon", "3"],
    "bench": ["bench", "Naive", "--data", AIR, "--horizon", "6", "--windows", "2"],
    "plugin-list": ["plugin", "list"],
    "plugin-verify": ["plugin", "verify"],
    "plugin-health": ["plugin", "health", "seasonal_ets"],
    "plugin-lock": ["plugin", "lock", "seasonal_ets", "--dry-run"],
    "discover": ["discover", "--dry-run"],
    "error": ["show", "NoSuchModel"],
}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import subprocess

    copy = tmp_path_factory.mktemp("contract") / "registry"
    shutil.copytree(ROOT / "registry.example", copy, ignore=shutil.ignore_patterns(".modreg"))
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e.org", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e.org",
           "PATH": "/usr/bin:/bin"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "registry"]):
        subprocess.run(["git", *args], cwd=copy, env=env, check=True, capture_output=True)
    return copy


def test_every_kind_has_a_command_here_and_a_valid_schema() -> None:
    assert set(COMMANDS) == set(OUTPUT_KINDS)
    for kind in OUTPUT_KINDS:
        Draft202012Validator.check_schema(output_schema(kind))


@pytest.mark.parametrize("kind", sorted(COMMANDS))
def test_every_json_document_validates_against_its_published_schema(kind: str, registry: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(registry)
    if kind == "audit":  # a change on a copy, so that the log has an entry
        copy = registry.parent / "audited"
        shutil.copytree(registry, copy)
        monkeypatch.chdir(copy)
        assert runner.invoke(app, ["update", "NHITS", "--tag", "audited"]).exit_code == 0
    result = runner.invoke(app, ["--json", *COMMANDS[kind]])
    text = result.stderr if kind == "error" else result.stdout
    assert (result.exit_code != 0) == (kind == "error"), result.output
    document = json.loads(text)
    assert isinstance(document, dict) and (document["format"], document["kind"]) == (1, kind)
    published = json.loads(runner.invoke(app, ["schema", f"output.{kind}"]).stdout)
    errors = sorted(Draft202012Validator(published).iter_errors(document), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def test_a_register_batch_and_the_bench_output_file_validate_too(registry: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(registry)
    batch = runner.invoke(app, ["--json", "register", "--from", "models/NHITS.toml", "--dry-run"])
    Draft202012Validator(output_schema("register")).validate(json.loads(batch.stdout))
    target = tmp_path / "bench.json"
    assert runner.invoke(app, ["bench", "Naive", "--data", AIR, "--horizon", "6", "--output", str(target)]).exit_code == 0
    written = json.loads(target.read_text(encoding="utf-8"))
    Draft202012Validator(output_schema("bench")).validate(written)
    assert written["forecast_columns"][:4] == ["unique_id", "ds", "cutoff", "y"]


def test_the_same_key_means_the_same_thing_everywhere() -> None:
    """Keys shared by several kinds have one type: `written` a boolean, `items` a list, ..."""
    types: dict[str, set[str]] = {}
    for kind in OUTPUT_KINDS:
        schema = output_schema(kind)
        for variant in schema.get("oneOf", [schema]):
            for key, spec in variant["properties"].items():
                types.setdefault(key, set()).add(json.dumps(spec.get("type") or spec.get("const", "any")))
    mixed = {key: found for key, found in types.items() if len(found) > 1 and key not in ("kind",)}
    assert not mixed, mixed
    assert types["items"] == {'"array"'} and types["written"] == {'"boolean"'}
