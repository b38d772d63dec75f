"""Descriptors: canonical order, TOML/YAML writers, and property-based round-trips."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modreg.errors import UsageError
from modreg.registry.store.descriptor import (
    CANONICAL_ORDER,
    Descriptor,
    canonical,
    dumps_toml,
    dumps_yaml,
    load_all,
    load_descriptor,
)
from modreg.registry.store.files import parse_text, read_document
from modreg.registry.store.layout import RegistryPaths

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    _text,
    st.dates(min_value=dt.date(1000, 1, 1)),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)
_documents = st.dictionaries(_text, _values, max_size=8)
_settings = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _toml(text: str) -> Any:
    return parse_text(text, Path("x.toml"), "toml")


def _yaml(text: str) -> Any:
    return parse_text(text, Path("x.yaml"), "yaml")


def _paths(value: Any, where: tuple = ()) -> list[tuple]:
    """Every key and list-item path in `value`."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    found = []
    for key, child in children:
        found.append((*where, key))
        found.extend(_paths(child, (*where, key)))
    return found


@_settings
@given(_documents)
def test_toml_round_trip(data: dict[str, Any]) -> None:
    assert _toml(dumps_toml(data)).data == data


@_settings
@given(_documents)
def test_yaml_round_trip(data: dict[str, Any]) -> None:
    assert _yaml(dumps_yaml(data)).data == data


@_settings
@given(_documents)
def test_toml_to_yaml_to_data(data: dict[str, Any]) -> None:
    from_toml = _toml(dumps_toml(data)).data
    assert _yaml(dumps_yaml(from_toml)).data == data


@_settings
@given(_documents)
def test_every_key_and_item_has_a_position(data: dict[str, Any]) -> None:
    for doc in (_toml(dumps_toml(data)), _yaml(dumps_yaml(data))):
        missing = [path for path in _paths(data) if path not in doc.positions]
        assert missing == [], doc.text


@pytest.mark.parametrize("suffix", [".toml", ".yaml"])
def test_example_descriptors_survive_load_dump_load(example_registry: Path, suffix: str) -> None:
    files = sorted((example_registry / "models").glob(f"*{suffix}"))
    assert files, "registry.example has descriptors in both formats"
    for path in files:
        data = read_document(path).data
        assert _toml(dumps_toml(data)).data == data
        assert _yaml(dumps_yaml(data)).data == data
        assert dumps_toml(_toml(dumps_toml(data)).data) == dumps_toml(data)


def test_canonical_order() -> None:
    data = {"zeta": 1, "metadata": {}, "name": "A", "alpha": 2, "schema_version": 1, "runtime": {"params": {}, "model": "M"}}
    ordered = canonical(data)
    assert list(ordered) == ["schema_version", "name", "runtime", "metadata", "alpha", "zeta"]
    assert list(ordered["runtime"]) == ["model", "params"]
    assert CANONICAL_ORDER[:3] == ("schema_version", "name", "version")


def test_dumps_toml_writes_canonical_readable_toml(make_entry: Callable[..., dict]) -> None:
    data = make_entry("Alpha", description="line one\nline two", created=dt.date(2026, 1, 2), metadata={"paper": "x"})
    text = dumps_toml(dict(reversed(list(data.items()))))
    assert text.startswith("schema_version = 1\nname = \"Alpha\"\nversion = \"1.0.0\"\n")
    assert "created = 2026-01-02\n" in text and '"""' in text
    assert text.index("[metadata]") > text.index("created")


def test_dumps_yaml_writes_dates_and_blocks(make_entry: Callable[..., dict]) -> None:
    text = dumps_yaml(make_entry("Alpha", description="line one\nline two", created=dt.date(2026, 1, 2), version="1.10.0"))
    assert "created: 2026-01-02\n" in text
    assert "description: |-\n  line one\n  line two\n" in text
    assert _yaml(text).data["version"] == "1.10.0"


def test_dumps_toml_refuses_null() -> None:
    with pytest.raises(UsageError) as caught:
        dumps_toml({"metadata": {"owner": None}})
    assert "metadata.owner" in caught.value.message


def test_descriptor_properties(tmp_path: Path, make_entry: Callable[..., dict]) -> None:
    path = tmp_path / "Alpha.yaml"
    path.write_text(dumps_yaml(make_entry("Alpha", status=None, category="recurrent")))
    descriptor = load_descriptor(path)
    assert isinstance(descriptor, Descriptor)
    assert (descriptor.name, descriptor.version, descriptor.category, descriptor.status) == ("Alpha", "1.0.0", "recurrent", "active")
    nameless = tmp_path / "Beta.toml"
    nameless.write_text("version = 2\n")
    assert (load_descriptor(nameless).name, load_descriptor(nameless).version) == ("Beta", "2")


def test_load_all_reports_unreadable_files_and_keeps_the_rest(empty_registry: Path, make_entry: Callable[..., dict]) -> None:
    models = empty_registry / "models"
    (models / "Good.toml").write_text(dumps_toml(make_entry("Good")))
    (models / "Bad.yaml").write_text("name: Bad\nname: again\n")
    descriptors, problems = load_all(RegistryPaths(empty_registry))
    assert [d.name for d in descriptors] == ["Good"]
    assert len(problems) == 1 and problems[0].path.endswith("models/Bad.yaml") and problems[0].line == 2
