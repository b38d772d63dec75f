"""Fixtures for registry tests: descriptor text builders and a toy runtime model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modreg.registry.checks import _schemacheck
from modreg.registry.store.descriptor import dumps_toml, dumps_yaml

TOY_MODELS: dict[str, dict[str, Any]] = {
    "ToyNet": {
        "category": "basic",
        "capabilities": ["multi_step"],
        "params": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "h": {"type": "integer", "minimum": 1, "description": "forecast horizon."},
                "input_size": {"type": "integer", "minimum": 1},
                "loss": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
                "dropout": {"type": "number", "minimum": 0, "maximum": 1},
            },
            "required": ["h"],
        },
    }
}


BASE_DESCRIPTOR = '''\
# The base model.
schema_version = 1
name = "Base"
version = "1.0.0"   # bump with modreg version
category = "basic"
status = "active"
summary = "A base model"
authors = ["Team <team@example.org>"]
tags = ["mlp"]
created = 2026-01-01
updated = 2026-01-01

[[history]]
version = "1.0.0"
date = 2026-01-01
summary = "first version"
'''


@pytest.fixture
def base_descriptor() -> str:
    """The hand-written text of an entry `Base` (models/Base.toml), for tests that check a file is left as it was."""
    return BASE_DESCRIPTOR


def entry(name: str = "Alpha", **fields: Any) -> dict[str, Any]:
    """A valid descriptor dict for the default registry policy, with `fields` overriding."""
    data: dict[str, Any] = {
        "schema_version": 1,
        "name": name,
        "version": "1.0.0",
        "category": "basic",
        "status": "active",
        "summary": f"The {name} model",
        "authors": ["Team <team@example.org>"],
        "tags": ["baseline"],
        "capabilities": ["multi_step"],
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def make_entry() -> Callable[..., dict[str, Any]]:
    """`entry`: a valid descriptor dict builder (fixtures keep test modules import-free)."""
    return entry


@pytest.fixture
def write_entry(empty_registry: Path) -> Callable[..., Path]:
    """Write a descriptor into the empty registry's models/ (dict -> TOML/YAML, or raw text)."""

    def write(name: str, data: dict[str, Any] | str | None = None, *, suffix: str = ".toml", **fields: Any) -> Path:
        path = empty_registry / "models" / f"{name}{suffix}"
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
            return path
        content = data if data is not None else entry(name, **fields)
        path.write_text(dumps_toml(content) if suffix == ".toml" else dumps_yaml(content), encoding="utf-8")
        return path

    return write


@pytest.fixture
def toy_models(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """Make `ToyNet` the only built-in runtime model (independent of the real runtime)."""
    monkeypatch.setattr(_schemacheck, "runtime_models", lambda: TOY_MODELS)
    return TOY_MODELS
