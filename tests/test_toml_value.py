"""`modreg._toml_value`: command-line values read as TOML, shared by `update --set` and `--param`."""

from __future__ import annotations

from typing import Any

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from modreg._toml_value import toml_value
from modreg.errors import UsageError
from modreg.runtime.params import parse_cli_param

scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
    st.text(max_size=20),
    st.dates(),
)
values = st.one_of(scalars, st.lists(st.integers(-1000, 1000), max_size=5),
                   st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), scalars, max_size=3))


def _spelt(value: Any) -> str:
    """`value` as TOML spells it on the right of `v = ` (a table inline)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {_spelt(item)}" for key, item in value.items()) + "}"
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


@given(values)
def test_every_toml_value_reads_back_as_itself(value: Any) -> None:
    read = toml_value(_spelt(value), "--set x")
    assert read == value and type(read) is type(value)


@pytest.mark.parametrize("word", ["mae", "auto", "robust", "N-BEATS"])
def test_a_bare_word_stays_text(word: str) -> None:
    assert toml_value(word, "--param loss") == word


@pytest.mark.parametrize(("text", "needle"), [
    ("[1, 2", "is not a valid TOML value"),
    ("{type = \"huber\"", "is not a valid TOML value"),
    ("\"open", "is not a valid TOML value"),
    ("9" * 5000, "the number is too long"),
    ("0x" + "f" * 4000, "the number is too long"),
    ("[" * 100_000, "nests too deeply"),
])
def test_malformed_values_are_usage_errors_naming_the_option(text: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle) as caught:
        toml_value(text, "--param loss")
    assert str(caught.value).startswith("--param loss:")


def test_run_params_and_set_values_read_alike() -> None:
    assert parse_cli_param("n_blocks=[1, 1, 1]") == ("n_blocks", toml_value("[1, 1, 1]", "--set n_blocks"))
    with pytest.raises(UsageError, match="not a valid TOML value"):
        parse_cli_param("n_blocks=[1, 1")
