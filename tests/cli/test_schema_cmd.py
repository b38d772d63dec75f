"""CLI: `modreg schema NAME` prints the shipped JSON Schemas and runtime parameter schemas."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from modreg.cli import app
from modreg.registry.checks import _schemacheck
from modreg.registry.store.names import NAME_PATTERN
from modreg.registry.store.versions import SEMVER_PATTERN

runner = CliRunner()


@pytest.mark.parametrize("name", ["descriptor", "config", "plugin", "template"])
def test_file_schemas_are_valid_draft_2020_12(name: str) -> None:
    result = runner.invoke(app, ["schema", name])
    assert result.exit_code == 0 and result.stderr == ""
    schema = json.loads(result.stdout)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False


def test_descriptor_schema_matches_the_design() -> None:
    schema = json.loads(runner.invoke(app, ["schema", "descriptor"]).stdout)
    assert schema["properties"]["category"]["enum"] == ["basic", "recurrent", "advanced", "transformer", "specialized", "custom"]
    assert schema["properties"]["status"]["enum"] == ["active", "deprecated", "archived"]
    assert schema["$defs"]["name"]["pattern"] == NAME_PATTERN
    assert schema["$defs"]["semver"]["pattern"] == SEMVER_PATTERN
    assert schema["$defs"]["precision"]["enum"] == ["float32", "float64"]
    assert set(schema["required"]) == {"schema_version", "name", "version", "category", "status"}


def test_runtime_model_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    params = {"type": "object", "properties": {"h": {"type": "integer"}}}
    monkeypatch.setattr(_schemacheck, "runtime_models", lambda: {"ToyNet": {"params": params}})
    result = runner.invoke(app, ["schema", "ToyNet"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == params


def test_unknown_name_exits_3_with_a_suggestion() -> None:
    result = runner.invoke(app, ["schema", "descripter"])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "No schema named `descripter`" in result.stderr
    assert "hint: did you mean `descriptor`?" in result.stderr


def test_unknown_name_under_json_is_a_json_error() -> None:
    result = runner.invoke(app, ["--json", "schema", "nope"])
    assert result.exit_code == 3
    assert json.loads(result.stderr)["error"]["code"] == 3
