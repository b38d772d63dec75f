"""Reading TOML and YAML safely: positions, limits, duplicates, anchors, syntax errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from modreg.errors import NotFound, UsageError
from modreg.registry.store.files import (
    MAX_BYTES,
    MAX_DEPTH,
    SourceDoc,
    display_path,
    locate,
    parse_text,
    read_document,
    read_documents,
)

TOML_TEXT = """\
schema_version = 1
name = "NHITS"   # comment
tags = ["a", "b",
  "c"]
created = 2026-11-01
"quoted key" = 1
desc = \"\"\"
line [ one
line } two\"\"\"

[runtime]
model = "NHITS"
[runtime.params]
h = 12
loss = { type = "huber", delta = 0.5 }

[dependencies]
DLinear = ">=1.0,<2"
a.b.c = 3

[[history]]
version = "1.0.0"
snapshot = { runtime = { params = { h = 6 } } }

[[history]]
version = "1.1.0"
[history.extra]
note = "nested under the second element"
"""

YAML_TEXT = """\
name: NHITS
tags: [a, b]
runtime:
  model: NHITS
  params:
    h: 12
history:
  - version: "1.0.0"
    date: 2026-11-01
  - version: "1.1.0"
"""


def _toml(text: str) -> SourceDoc:
    return parse_text(text, Path("models/x.toml"), "toml")


def _yaml(text: str) -> SourceDoc:
    return parse_text(text, Path("models/x.yaml"), "yaml")


def _error(text: str, fmt: str) -> UsageError:
    with pytest.raises(UsageError) as caught:
        parse_text(text, Path(f"models/x.{fmt}"), fmt)  # type: ignore[arg-type]
    return caught.value


# ----- positions -----


@pytest.mark.parametrize(
    ("path", "position"),
    [
        (("schema_version",), (1, 1)),
        (("name",), (2, 1)),
        (("tags", 0), (3, 9)),
        (("tags", 2), (4, 3)),
        (("created",), (5, 1)),
        (("quoted key",), (6, 1)),
        (("runtime",), (11, 2)),
        (("runtime", "model"), (12, 1)),
        (("runtime", "params", "h"), (14, 1)),
        (("runtime", "params", "loss", "delta"), (15, 26)),
        (("dependencies", "DLinear"), (18, 1)),
        (("dependencies", "a", "b", "c"), (19, 5)),
        (("history", 0), (21, 3)),
        (("history", 0, "snapshot", "runtime", "params", "h"), (23, 37)),
        (("history", 1, "version"), (26, 1)),
        (("history", 1, "extra", "note"), (28, 1)),
    ],
)
def test_toml_positions(path: tuple, position: tuple[int, int]) -> None:
    doc = _toml(TOML_TEXT)
    assert doc.positions[path] == position


def test_toml_positions_with_spaced_headers_and_comments() -> None:
    doc = _toml('[ runtime . params ]  # comment\nh=1\n[[ history ]]\nv = [ # items\n  1,\n  # gap\n  2,\n]\n')
    assert doc.positions[("runtime", "params", "h")] == (2, 1)
    assert doc.positions[("history", 0, "v", 1)] == (7, 3)


def test_toml_data_and_metadata() -> None:
    doc = _toml(TOML_TEXT)
    assert doc.data["created"] == dt.date(2026, 11, 1)
    assert doc.data["history"][1]["extra"]["note"].startswith("nested")
    assert doc.fmt == "toml" and len(doc.sha256) == 64
    assert ("desc",) in doc.positions and len(doc.positions) > 20


@pytest.mark.parametrize(
    ("path", "position"),
    [
        (("name",), (1, 1)),
        (("tags", 1), (2, 11)),
        (("runtime", "params", "h"), (6, 5)),
        (("history", 0), (8, 5)),
        (("history", 1, "version"), (10, 5)),
    ],
)
def test_yaml_positions(path: tuple, position: tuple[int, int]) -> None:
    assert _yaml(YAML_TEXT).positions[path] == position


def test_locate_falls_back_to_the_nearest_ancestor() -> None:
    doc = _yaml(YAML_TEXT)
    assert locate(doc, ("runtime", "params", "missing")) == (5, 3)
    assert locate(doc, ("nothing", "here")) == (1, 1)
    assert locate(doc, ()) == (1, 1)


# ----- duplicates -----


@pytest.mark.parametrize(
    ("text", "line", "col", "key"),
    [
        ("a = 1\nb = 2\na = 3\n", 3, 1, "a"),
        ("[t]\nx = 1\n[t]\ny = 2\n", 3, 2, "t"),
        ("[t]\nx = 1\nx = 2\n", 3, 1, "t.x"),
        ("a.b = 1\na = 2\n", 2, 1, "a"),
        ("x = { a = 1, a = 2 }\n", 1, 14, "x.a"),
    ],
)
def test_duplicate_toml_keys_name_the_key_and_both_lines(text: str, line: int, col: int, key: str) -> None:
    error = _error(text, "toml")
    assert f"duplicate key `{key}`" in error.message
    assert (error.line, error.col) == (line, col)
    assert "first defined on line" in error.message


def test_duplicate_yaml_key_has_line_and_column() -> None:
    error = _error("a: 1\nb:\n  c: 2\n  c: 3\n", "yaml")
    assert error.message == "duplicate key `c` (first defined on line 3)."
    assert (error.line, error.col) == (4, 3)


# ----- YAML safety -----


@pytest.mark.parametrize(
    ("text", "line", "col", "words"),
    [
        ("a: &x 1\nb: *x\n", 1, 4, "anchors"),
        ("a: [1]\nb: *x\n", 2, 4, "alias"),
        ("base: {a: 1}\nother:\n  <<: {b: 2}\n", 3, 3, "merge keys"),
        ("a: !!python/object:os.system x\n", 1, 4, "tag"),
        ("a: !!binary aGVsbG8=\n", 1, 4, "tag"),
        ("a: !!set {x, y}\n", 1, 4, "tag"),
        ("1: one\n", 1, 1, "quote it"),
        ("no: false\n", 1, 1, "not as a string"),
        ("? [a, b]\n: 1\n", 1, 3, "plain string"),
        ("- a\n- b\n", 1, 1, "top level"),
        ("a: 1\nnotes: a\x1bb\n", 2, 9, "control characters"),  # was a ReaderError traceback
        ("a: \x07\n", 1, 4, "U+0007"),
    ],
)
def test_unsafe_yaml_is_refused_with_position(text: str, line: int, col: int, words: str) -> None:
    error = _error(text, "yaml")
    assert words in error.message or words in (error.hint or "")
    assert (error.line, error.col) == (line, col)


def test_yaml_billion_laughs_is_refused_before_expansion() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]" for i in range(8)]
    assert "anchors" in _error("\n".join(lines), "yaml").message


def test_yaml_surprises_are_recorded() -> None:
    doc = _yaml("a: no\nb: 010\nc: 'no'\nd: 1:30\ne: true\nf: 10\n")
    assert doc.data == {"a": False, "b": 8, "c": "no", "d": 90, "e": True, "f": 10}
    assert [(path, literal) for path, literal, _ in doc.surprises] == [(("a",), "no"), (("b",), "010"), (("d",), "1:30")]


def test_multiple_yaml_documents_are_refused() -> None:
    error = _error("a: 1\n---\nb: 2\n", "yaml")
    assert error.line == 2


def test_empty_yaml_is_an_empty_mapping() -> None:
    assert _yaml("# only a comment\n").data == {}


# ----- limits -----


@pytest.mark.parametrize(
    "text",
    [
        "x: " + "[" * 100_000 + "]" * 100_000,
        "x: " + "{a: " * 40 + "1" + "}" * 40,
        "".join(" " * i + "a:\n" for i in range(40)) + " " * 40 + "a: 1\n",
        "x:\n" + "".join(" " * (2 * i) + "- \n" for i in range(1, 40)) + "  " * 40 + "- 1\n",
        "x:\n  " + "- " * 50 + "1\n",
    ],
)
def test_too_deep_yaml_is_refused_before_parsing(text: str) -> None:
    error = _error(text, "yaml")
    assert f"deeper than {MAX_DEPTH}" in error.message
    assert error.line is not None


def test_too_deep_yaml_points_at_the_line() -> None:
    text = "ok: 1\nnested: " + "[" * 40 + "]" * 40 + "\n"
    assert _error(text, "yaml").line == 2


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 100_000 + "]" * 100_000,
        "x = " + "{ a = " * 40 + "1" + " }" * 40,
        "a" + ".a" * 40 + " = 1\n",
        "[" + ".".join(["t"] * 40) + "]\nx = 1\n",
    ],
)
def test_too_deep_toml_is_refused(text: str) -> None:
    assert f"deeper than {MAX_DEPTH}" in _error(text, "toml").message


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    many = "[" * 100
    assert _toml(f'a = "{many}"\nb = \'{many}\'\nc = """\n{many}\n"""\n').data["a"] == many
    doc = _yaml(f"a: \"{many}\"\nb: '{many}'\nc: |\n  {many}\n  ]]]\nd: it's [plain text\n" + "".join(f"e{i}: [1, [2]]\n" for i in range(40)))
    assert doc.data["a"] == many and doc.data["d"] == "it's [plain text"


def test_deep_block_scalar_text_is_not_nesting() -> None:
    body = "".join("  " + " " * i + "text\n" for i in range(60))
    assert _yaml("description: |\n" + body + "name: x\n").data["name"] == "x"


def test_too_big_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text("a = 1\n" + "#" * MAX_BYTES, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        read_document(path)
    assert "more than the limit" in caught.value.message
    with pytest.raises(UsageError):
        parse_text("a = 1\n" + "#" * MAX_BYTES, path, "toml")


# ----- syntax and encoding -----


def test_toml_syntax_error_has_line_and_column() -> None:
    error = _error('name = "x"\nversion = 1.0.0\n', "toml")
    assert error.message.startswith("TOML syntax error")
    assert error.line == 2 and error.col is not None
    assert error.path == "models/x.toml"


def test_toml_syntax_error_at_end_of_document_points_at_the_last_line() -> None:
    assert _error('a = 1\nb = "unterminated', "toml").line == 2


def test_yaml_syntax_error_has_line_and_column() -> None:
    error = _error("name: x\n  bad: indent\n", "yaml")
    assert error.message.startswith("YAML syntax error")
    assert (error.line, error.col) == (2, 6)


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_bytes(b'a = "ok"\nb = "\xff"\n')
    with pytest.raises(UsageError) as caught:
        read_document(path)
    assert "UTF-8" in caught.value.message and caught.value.line == 2


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_bytes(b'\xef\xbb\xbfa = 1\n')
    assert read_document(path).data == {"a": 1}


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        read_document(tmp_path / "nope.toml")
    with pytest.raises(UsageError):
        read_document(tmp_path / "x.json")


def test_read_documents_keeps_errors_in_place(tmp_path: Path) -> None:
    good, bad = tmp_path / "a.toml", tmp_path / "b.yaml"
    good.write_text("a = 1\n")
    bad.write_text("a: &x 1\n")
    results = read_documents([good, bad])
    assert isinstance(results[0], SourceDoc) and isinstance(results[1], UsageError)


def test_display_path_is_relative_to_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "models" / "a.toml") == "models/a.toml"
    assert display_path("/elsewhere/a.toml") == "/elsewhere/a.toml"


def test_a_byte_order_mark_is_read_past_and_kept_in_the_text(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_bytes(b"\xef\xbb\xbfname = 'x'\nsummary = 's'\n")
    doc = read_document(path)
    assert doc.data == {"name": "x", "summary": "s"} and doc.text.startswith("\ufeff")
    assert locate(doc, ("name",)) == (1, 1) and locate(doc, ("summary",)) == (2, 1)


def test_a_utf16_file_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes("name: x\n".encode("utf-16"))
    with pytest.raises(UsageError, match="is UTF-16") as raised:
        read_document(path)
    assert raised.value.hint == "save the file as UTF-8."
