"""Entry names that are safe as file names everywhere, and the reasons others are not."""

from __future__ import annotations

import pytest

from modreg.errors import UsageError
from modreg.registry.store.names import check_name, require_safe_name


@pytest.mark.parametrize("name", ["NHITS", "my-model", "lstm.v2", "A", "x_1", "a" * 64, "Conv", "COM10", "NULL"])
def test_safe_names_pass(name: str) -> None:
    assert check_name(name) is None
    assert require_safe_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "non-empty"),
        ("..", "`..`"),
        ("a..b", "`..`"),
        ("a/b", "path separator"),
        ("a\\b", "path separator"),
        ("CON", "reserved device name"),
        ("con", "reserved device name"),
        ("nul.txt", "reserved device name"),
        ("Com1", "reserved device name"),
        ("LPT9.model", "reserved device name"),
        ("aux", "reserved device name"),
        ("model.", "ends with a dot"),
        ("Cafe\u0301", "NFC"),
        ("1model", "start with a letter"),
        ("_model", "start with a letter"),
        ("has space", "start with a letter"),
        ("a" * 65, "at most 64"),
        ("modèle", "ASCII"),
    ],
)
def test_unsafe_names_say_why(name: str, reason: str) -> None:
    found = check_name(name)
    assert found is not None and reason in found


def test_require_safe_name_raises_usage_error_with_hint() -> None:
    with pytest.raises(UsageError) as caught:
        require_safe_name("CON", path="models/CON.toml")
    assert "reserved device name" in caught.value.message
    assert caught.value.hint and "NHITS" in caught.value.hint
    assert caught.value.path == "models/CON.toml"


def test_non_strings_are_unsafe() -> None:
    assert check_name(5) is not None  # type: ignore[arg-type]
