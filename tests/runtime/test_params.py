"""Parameter schemas from signatures, validation messages, coercion and --param parsing."""

from __future__ import annotations

from typing import Any, Literal, Optional

import jsonschema
import pytest

from modreg.errors import UsageError
from modreg.runtime.components import LossSpec
from modreg.runtime.factory import validate_params
from modreg.runtime.models.mlp import MLP
from modreg.runtime.params import (
    ParameterError, defaults_of, describe, parse_cli_param, schema_for, type_schema, validate_against,
)


class _Example:
    """An example.

    Args:
        size: how big.
        mode (str): which mode.
    """

    param_bounds = {"size": {"minimum": 1}}

    def __init__(self, size: int, mode: Literal["a", "b"] = "a", ratio: float = 0.5, flags: tuple[int, ...] = (1, 2),
                 pair: tuple[float, float] | None = None, loss: LossSpec = "mae", on: bool = False) -> None:
        self.size, self.mode, self.ratio, self.flags, self.pair, self.loss, self.on = size, mode, ratio, flags, pair, loss, on


def test_schema_from_signature_types_defaults_bounds_and_docs() -> None:
    schema = schema_for(_Example)
    jsonschema.Draft202012Validator.check_schema(schema)
    props = schema["properties"]
    assert schema["required"] == ["size"] and schema["additionalProperties"] is False
    assert props["size"] == {"type": "integer", "minimum": 1, "description": "how big."}
    assert props["mode"] == {"type": "string", "enum": ["a", "b"], "default": "a", "description": "which mode."}
    assert props["flags"] == {"type": "array", "items": {"type": "integer"}, "default": [1, 2]}
    assert props["pair"]["anyOf"][1] == {"type": "null"} and props["pair"]["anyOf"][0]["maxItems"] == 2
    assert props["loss"]["x-component"] == "loss" and "mae" in props["loss"]["anyOf"][0]["enum"]
    assert props["on"] == {"type": "boolean", "default": False}


def test_model_schema_is_valid_and_bounded() -> None:
    schema = schema_for(MLP)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["required"] == ["h", "input_size"]
    assert schema["properties"]["h"]["minimum"] == 1
    assert schema["properties"]["hidden_size"]["default"] == 1024
    assert schema["properties"]["precision"]["enum"] == ["float32", "float64"]
    assert "number of series per training step" in schema["properties"]["batch_size"]["description"]
    assert jsonschema.Draft202012Validator(schema).is_valid({"h": 12, "input_size": 24, "loss": {"type": "huber"}})
    assert not jsonschema.Draft202012Validator(schema).is_valid({"h": 12, "input_size": 24, "loss": "maee"})


def test_unsupported_signatures_are_refused() -> None:
    class Star:
        def __init__(self, **kwargs: Any) -> None: ...

    class Bare:
        def __init__(self, x) -> None: ...  # type: ignore[no-untyped-def]

    class Weird:
        def __init__(self, x: complex) -> None: ...

    for cls, match in ((Star, "explicitly"), (Bare, "no type hint"), (Weird, "unsupported")):
        with pytest.raises(TypeError, match=match):
            schema_for(cls)


def test_type_schema_of_optional_and_any() -> None:
    assert type_schema(Optional[int]) == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert type_schema(Any) == {}
    assert type_schema(int | str) == {"anyOf": [{"type": "integer"}, {"type": "string"}]}


def test_validation_coerces_to_the_annotated_types() -> None:
    out = validate_against(_Example, {"size": 3.0, "ratio": 1, "flags": [4, 5], "pair": [1, 2.5]}, owner="Ex")
    assert out == {"size": 3, "ratio": 1.0, "flags": (4, 5), "pair": (1.0, 2.5)}
    assert isinstance(out["ratio"], float) and isinstance(out["size"], int)


@pytest.mark.parametrize(
    ("params", "message", "hint"),
    [
        ({"size": 2, "sise": 3}, "Runtime model Ex has no parameter `sise`", "did you mean `size`?"),
        ({"mode": "a"}, "Runtime model Ex needs parameter `size`", "--param size=..."),
        ({"size": 0}, "Parameter `size` of Ex expects an integer >= 1, found 0.", "modreg schema Ex"),
        ({"size": "big"}, "expects an integer >= 1, found 'big' (a string)", None),
        ({"size": 1, "mode": "c"}, "expects one of 'a', 'b', found 'c'", None),
        ({"size": 1, "on": 1}, "expects true or false, found 1", None),
        ({"size": 1, "flags": [1, "x"]}, "expects a list of integers", None),
        ({"size": 1, "loss": {"type": "huber", "delta": 0}}, "Parameter `delta` of Ex.loss expects a number > 0", None),
        ({"size": 1, "loss": "maee"}, "unknown loss 'maee'", "did you mean 'mae'?"),
    ],
)
def test_validation_errors_name_the_parameter(params: dict[str, Any], message: str, hint: str | None) -> None:
    with pytest.raises(ParameterError) as caught:
        validate_against(_Example, params, owner="Ex")
    assert message in caught.value.message
    if hint is not None:
        assert hint in (caught.value.hint or "")


def test_parameter_error_knows_its_parameter() -> None:
    with pytest.raises(ParameterError) as caught:
        validate_params("MLP", {"h": 12, "input_size": 24, "loss": {"type": "quantile"}})
    assert caught.value.param == "loss" and "needs parameter `q`" in caught.value.message


def test_partial_validation_allows_missing_required() -> None:
    assert validate_params("MLP", {"max_steps": 5}, partial=True) == {"max_steps": 5}
    with pytest.raises(UsageError, match="needs parameter `h`"):
        validate_params("MLP", {"max_steps": 5})


def test_describe_schemas_in_words() -> None:
    assert describe({"type": "number", "exclusiveMinimum": 0, "maximum": 1}) == "a number > 0 and <= 1"
    assert describe({"anyOf": [{"type": "integer"}, {"type": "null"}]}) == "an integer or nothing (omit it)"
    assert describe({"type": "array", "prefixItems": [{"type": "number"}] * 2, "minItems": 2, "maxItems": 2}) == \
        "a list of 2 numbers"
    assert describe(schema_for(MLP)["properties"]["loss"]).startswith("a loss name (huber, mae, mape, mase, mqloss")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max_steps=200", ("max_steps", 200)),
        ("learning_rate=1e-4", ("learning_rate", 1e-4)),
        ("start_padding_enabled=true", ("start_padding_enabled", True)),
        ("loss=mae", ("loss", "mae")),
        ("loss='mae'", ("loss", "mae")),
        (" n = [2, 2, 1] ", ("n", [2, 2, 1])),
        ('loss={type="huber", delta=0.5}', ("loss", {"type": "huber", "delta": 0.5})),
        ("name=a=b", ("name", "a=b")),
    ],
)
def test_parse_cli_param_reads_toml_values(text: str, expected: tuple[str, Any]) -> None:
    assert parse_cli_param(text) == expected


@pytest.mark.parametrize("text", ["max_steps", "=3", ""])
def test_parse_cli_param_needs_key_and_equals(text: str) -> None:
    with pytest.raises(UsageError, match="key=value"):
        parse_cli_param(text)


def test_defaults_of_lists_signature_defaults() -> None:
    defaults = defaults_of(MLP)
    assert defaults["hidden_size"] == 1024 and "h" not in defaults and defaults["loss"] == "mae"


@pytest.mark.parametrize("params", [
    {"size": 2, "ratio": float("nan")}, {"size": 2, "ratio": float("inf")}, {"size": 2, "pair": (1.0, float("-inf"))},
    {"size": 2, "loss": {"type": "huber", "delta": float("nan")}},
])
def test_non_finite_numbers_are_refused_even_where_bounds_would_let_them_through(params: dict[str, Any]) -> None:
    with pytest.raises(ParameterError, match=r"found (nan|inf|-inf|a list)"):
        validate_against(_Example, params, owner="_Example")


def test_random_seed_must_be_non_negative_for_every_model() -> None:
    assert schema_for(MLP)["properties"]["random_seed"]["minimum"] == 0
    with pytest.raises(ParameterError, match=r"`random_seed` of MLP expects an integer >= 0, found -5"):
        validate_params("MLP", {"h": 2, "input_size": 4, "random_seed": -5})


def test_a_list_parameter_states_its_size_and_item_bounds() -> None:
    with pytest.raises(ParameterError, match=r"`level` of MLP.loss expects a non-empty list of integers > 0 and < 100, "
                                             r"found a list \[150\]"):
        validate_params("MLP", {"h": 2, "input_size": 4, "loss": {"type": "mqloss", "level": [150]}})
    assert describe({"type": "array", "items": {"type": "number"}, "minItems": 3}) == "a list of at least 3 numbers"
