"""The --where language: every operator, precedence, lists, versions, and errors with columns."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modreg.errors import UsageError
from modreg.registry.search.query import BoolOp, Comparison, Not, evaluate, fields_of, parse_where

ENTRY = {
    "name": "NHITS",
    "version": "1.10.0",
    "category": "advanced",
    "tags": ["energy", "mlp"],
    "updated": dt.date(2026, 11, 20),
    "performance": {"mase": 0.81, "smape": 4.9},
    "runtime": {"params": {"input_size": 24, "h": 12}},
}


def _semver(text: str) -> tuple[int, ...]:
    parts = tuple(int(p) for p in text.split("."))
    if not parts:
        raise ValueError(text)
    return parts + (0,) * (3 - len(parts))


def matches(expr: str) -> bool:
    return evaluate(parse_where(expr), ENTRY, parse_version=_semver)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("name = NHITS", True),
        ("name == 'NHITS'", True),
        ("name != 'NHITS'", False),
        ("performance.mase < 0.9", True),
        ("performance.mase <= 0.81", True),
        ("performance.mase > 0.81", False),
        ("performance.mase >= 0.81", True),
        ("runtime.params.input_size = 24", True),
        ("name ~ 'N*S'", True),
        ("name ~ 'D*'", False),
        ("tags = energy", True),
        ("tags in ['retail', 'energy']", True),
        ("tags not in ['retail', 'energy']", False),
        ("category in [basic, advanced]", True),
        ("version > 1.9.0", True),
        ("version < 1.10.1", True),
        ("updated >= '2026-11-01'", True),
        ("metadata.paper = 'x'", False),
        ("not metadata.paper = 'x'", True),
    ],
)
def test_each_operator(expr: str, expected: bool) -> None:
    assert matches(expr) is expected


def test_and_binds_tighter_than_or() -> None:
    assert matches("name = X and name = Y or category = advanced")
    assert not matches("name = X and (name = Y or category = advanced)")


def test_not_binds_tighter_than_and() -> None:
    assert not matches("not category = advanced and name = NHITS")
    assert matches("not (category = basic and name = NHITS)")


def test_parentheses_build_the_tree() -> None:
    expr = parse_where("a = 1 and (b = 2 or not c = 3)")
    assert isinstance(expr, BoolOp) and expr.op == "and"
    inner = expr.operands[1]
    assert isinstance(inner, BoolOp) and inner.op == "or"
    assert isinstance(inner.operands[1], Not)


def test_fields_of_reports_columns() -> None:
    assert fields_of(parse_where("a = 1 or bb.c > 2")) == [("a", 1), ("bb.c", 10)]


@pytest.mark.parametrize(
    ("expr", "col"),
    [("a <", 4), ("(a = 1", 7), ("a = 1 b", 7), ("", 1), ("and = 1", 1), ("a = 1 and", 10), ("a $ 1", 3), ("a in 1", 6)],
)
def test_bad_expressions_point_at_the_column(expr: str, col: int) -> None:
    with pytest.raises(UsageError) as caught:
        parse_where(expr)
    assert caught.value.col == col
    assert f"column {col}" in caught.value.message


_names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: s not in {"and", "or", "not", "in", "true", "false"}
)
_values = st.one_of(st.integers(-1000, 1000), _names)
_ops = st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "~"])


@st.composite
def _expressions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 2 or draw(st.booleans()):
        value = draw(_values)
        text = str(value) if isinstance(value, int) else f"'{value}'"
        return f"{draw(_names)} {draw(_ops)} {text}"
    kind = draw(st.sampled_from(["and", "or", "not", "paren"]))
    if kind == "not":
        return f"not {draw(_expressions(depth + 1))}"
    if kind == "paren":
        return f"({draw(_expressions(depth + 1))})"
    return f"{draw(_expressions(depth + 1))} {kind} {draw(_expressions(depth + 1))}"


@given(_expressions())
def test_generated_expressions_parse(text: str) -> None:
    expr = parse_where(text)
    assert isinstance(expr, (Comparison, Not, BoolOp))
    assert evaluate(expr, {}) in (True, False)
