"""Fuzzing the CLI's parsers (issue 16): generated descriptors (TOML and YAML), `--where`
expressions and series CSVs go through the commands that read them, in a temporary registry.

Whatever the input, a command never ends in a traceback, exits with a documented code, and
writes nothing outside the temporary registry (the working folder and $HOME are watched).
300 examples in all (60 TOML and 60 YAML descriptors, 100 expressions, 80 CSVs), about 35 s
of CPU; `pytest --hypothesis-show-statistics` prints the counts.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from modreg.cli import app
from modreg.errors import ExitCode

runner = CliRunner()
DOCUMENTED = {int(code) for code in ExitCode}
SETTINGS = settings(deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
EXAMPLE = Path(__file__).resolve().parents[1] / "registry.example"


class Sandbox:
    """A registry in a temporary folder; the working folder and $HOME are empty folders beside it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.registry = root / "registry"
        self.outside = root / "outside"
        self.outside.mkdir()
        done = runner.invoke(app, ["init", str(self.registry)])
        assert done.exit_code == 0, done.output
        shutil.copy(EXAMPLE / "models" / "Naive.toml", self.registry / "models" / "Naive.toml")

    def invoke(self, *args: str) -> Any:
        done = runner.invoke(app, ["--registry", str(self.registry), *args])
        assert done.exception is None or isinstance(done.exception, SystemExit), (args, repr(done.exception))
        assert "Traceback" not in done.output, done.output
        assert done.exit_code in DOCUMENTED, (done.exit_code, done.output)
        if done.exit_code:
            assert [line for line in done.stderr.splitlines() if line.startswith("error:")], done.stderr
        assert sorted(p.name for p in self.root.iterdir()) == ["outside", "registry"]
        assert not any(self.outside.iterdir())
        return done


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with tempfile.TemporaryDirectory() as folder:
        box = Sandbox(Path(folder))
        monkeypatch.chdir(box.outside)
        monkeypatch.setenv("HOME", str(box.outside))
        yield box


# ----- Descriptors -----

class Long:
    """An integer of 4,400 digits, written out only by the emitters (Python's repr refuses it)."""

    digits = "9" * 4400

    def __repr__(self) -> str:
        return "Long()"


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Long, lambda dumper, _: dumper.represent_scalar("tag:yaml.org,2002:int", Long.digits))
_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,10}", fullmatch=True)
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
_SCALARS = st.one_of(
    _TEXT,
    st.integers(),
    st.sampled_from([Long(), 2**63, -(2**63) - 1, 2**64 + 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
)
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_NAMES, inner, max_size=4)), max_leaves=12)
_FIELDS = st.sampled_from(["name", "version", "category", "status", "summary", "description", "authors", "tags",
                           "capabilities", "created", "updated", "runtime", "dependencies", "deprecation",
                           "performance", "artifacts", "history", "metadata", "schema_version", "extra"])
_JUNK = st.text(st.sampled_from(list("[]{}=\"'#.:-,\n\t 0123456789aZ&*!|>%@`\\")), max_size=40)
_HOSTILE = st.sampled_from(["2026-02-30", "2026-13-01", "2026-01-01 25:00:00", "9" * 4400, "-" + "9" * 4400,
                            "0x" + "f" * 4000, "1e99999", "[" * 200 + "]" * 200, "{a = " * 40 + "1" + "}" * 40,
                            "&a [1, 2]", "*a", "!!python/name:os.system", "{<<: {a: 1}}", '"\\u001b[2J"', "'" * 3])


def _base() -> dict[str, Any]:
    return {"schema_version": 1, "name": "Fuzz", "version": "1.0.0", "category": "basic", "status": "active",
            "summary": "A generated entry", "description": "Prose.", "authors": ["A <a@example.org>"],
            "tags": ["x"], "capabilities": ["univariate"], "created": dt.date(2026, 1, 1),
            "updated": dt.date(2026, 1, 2)}


def _toml_value(value: Any) -> str:
    if isinstance(value, Long):
        return Long.digits
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _toml(data: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(key)} = {_toml_value(value)}\n" for key, value in data.items())


def _yaml(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False)


@st.composite
def descriptors(draw: st.DrawFn, fmt: str) -> str:
    data = _base()
    for field in draw(st.lists(_FIELDS, max_size=4, unique=True)):
        data[field] = draw(_VALUES)
    text = _toml(data) if fmt == "toml" else _yaml(data)
    for key, literal in draw(st.lists(st.tuples(_FIELDS, _HOSTILE), max_size=2)):  # lines only text can hold
        text = "\n".join(line for line in text.split("\n") if not line.startswith((key, f'"{key}"')))
        text += f"\n{key} = {literal}\n" if fmt == "toml" else f"\n{key}: {literal}\n"
    if draw(st.booleans()):  # splice raw syntax characters in somewhere
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(_JUNK) + text[at:]
    return text


@pytest.mark.parametrize("fmt", ["toml", "yaml"])
@settings(SETTINGS, max_examples=60)
@given(data=st.data())
def test_generated_descriptors_never_crash_validate_show_or_build(sandbox: Sandbox, fmt: str, data: st.DataObject) -> None:
    text = data.draw(descriptors(fmt))
    file = sandbox.registry / "models" / f"Fuzz.{fmt}"
    file.write_text(text, encoding="utf-8")
    try:
        sandbox.invoke("validate")
        sandbox.invoke("show", "Fuzz")
        built = sandbox.invoke("build")
        assert built.exit_code in (0, 1, 2, 5)
    finally:
        file.unlink()


# ----- --where -----

_WHERE_TOKENS = st.sampled_from(["name", "tags", "performance.mase", "runtime.params.h", "created", "version",
                                 "=", "==", "!=", "<", "<=", ">", ">=", "~", "in", "not", "and", "or", "(", ")",
                                 "[", "]", ",", "'Naive'", '"x"', "'N*'", "1", "-2.5e3", "true", "1.0.0",
                                 "2026-01-12"])
_WHERE_NOISE = st.one_of(st.just(""), st.text(max_size=20),
                         st.sampled_from(["9" * 4400, "'unterminated", "\\", "\x1b[2J", "é", "[" * 1000]))


@settings(SETTINGS, max_examples=100)
@given(tokens=st.lists(_WHERE_TOKENS, max_size=25), noise=_WHERE_NOISE,
       nesting=st.one_of(st.integers(0, 70), st.sampled_from([400, 1000, 5000])), nots=st.sampled_from([0, 0, 3, 5000]))
def test_generated_where_expressions_never_crash_search(sandbox: Sandbox, tokens: list[str], noise: str,
                                                        nesting: int, nots: int) -> None:
    expression = "not " * nots + "(" * nesting + " ".join(tokens) + noise + ")" * nesting
    done = sandbox.invoke("search", "--where", expression)
    assert done.exit_code in (0, ExitCode.USAGE)


# ----- CSVs -----

_DS = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.integers(-(2**70), 2**70).map(str),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(str),
    st.datetimes(min_value=dt.datetime(9990, 1, 1)).map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
    st.sampled_from(["2026-02-30", "2026-13-01", "10000-01-01", "", "x", "1e3", "2026-01"]),
)
_Y = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers().map(str),
               st.sampled_from(["", "nan", "inf", "x", "1e999", "9" * 5000]))


@st.composite
def csvs(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["integers", "dates", "random"]))
    count = draw(st.integers(1, 30))
    if kind == "integers":  # a regular series near the edges of what timestamps hold
        start = draw(st.sampled_from([2**63 - 40, 2**63 - 10, -(2**63), 0]))
        step = draw(st.sampled_from([1, 2**40, 2**62]))
        stamps = [str(start + i * step) for i in range(count)]
    elif kind == "dates":
        last = draw(st.dates(min_value=dt.date(9999, 1, 1), max_value=dt.date(9999, 12, 31)))
        stamps = [str(last - dt.timedelta(days=count - 1 - i)) for i in range(count)]
    else:
        stamps = draw(st.lists(_DS, min_size=0, max_size=30))
    y = _Y if kind == "random" else st.integers(-1000, 1000).map(str)  # the edge series have good values
    values = draw(st.lists(y, min_size=len(stamps), max_size=len(stamps)))
    header = draw(st.sampled_from(["ds,y", "unique_id,ds,y", "y", "ds,y,extra", "ds;y", ""]))
    rows = []
    for index, (stamp, value) in enumerate(zip(stamps, values, strict=True)):
        columns = {"ds,y": [stamp, value], "unique_id,ds,y": [f"s{index % 2}", stamp, value], "y": [value],
                   "ds,y,extra": [stamp, value, "1"], "ds;y": [f"{stamp};{value}"], "": [stamp, value]}[header]
        rows.append(",".join(columns))
    return "\n".join([header, *rows]) + draw(st.sampled_from(["\n", "", "\r\n", "\n\n,,\n"]))


@settings(SETTINGS, max_examples=80)
@given(text=csvs(), horizon=st.sampled_from(["1", "3", "12", "100000"]))
def test_generated_csvs_never_crash_run(sandbox: Sandbox, text: str, horizon: str) -> None:
    data = sandbox.registry / "data.csv"
    data.write_text(text, encoding="utf-8")
    try:
        done = sandbox.invoke("run", "Naive", "--data", str(data), "--horizon", horizon)
        assert done.exit_code in (0, ExitCode.USAGE, ExitCode.NOT_FOUND)
        if done.exit_code == 0:  # forecasts follow the data, and what modreg writes, modreg reads back
            assert "10000-" not in done.stdout
            inputs = [int(stamp) for stamp in re.findall(r"^(?:s\d,)?(-?\d+),", text, re.MULTILINE)]
            outputs = [int(stamp) for stamp in re.findall(r"^[^,\n]*,(-?\d+),", done.stdout, re.MULTILINE)]
            assert not inputs or not outputs or min(outputs) > max(inputs)
            back = sandbox.registry / "back.csv"
            back.write_text(done.stdout.replace(",Naive\n", ",y\n", 1), encoding="utf-8")
            assert sandbox.invoke("run", "Naive", "--data", str(back), "--horizon", "1").exit_code in (0, ExitCode.USAGE)
            back.unlink()
    finally:
        data.unlink()
