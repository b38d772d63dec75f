"""Edits keep a hand-written file's layout: line endings, BOM, final newline, markers, comments.

Each case here failed before its fix: CRLF files came back LF throughout (every line in the
diff), a missing final newline was added, a value holding U+2028 broke the edit, a new key in a TOML table went below the comment
leading the next table, YAML lost its
`...` end marker and (under `%YAML 1.1`) rewrote untouched `yes` as `true`, an indented comment
after a block's last key was cut off from its block, and quoted dotted keys were not understood.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import tomllib
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from modreg.errors import UsageError
from modreg.registry.store.descriptor import CANONICAL_ORDER
from modreg.registry.store.edits import apply_changes, delete_path, same, set_path

TOML = """\
# header
schema_version = 1
name = "Hand"   # the name
version = "1.0.0"
category = "custom"
tags = ["a", "b"]  # tags
description = '''
Literal text.'''
updated = 2026-01-02
runtime.model = "Naive"
runtime.params.h = 12

[dependencies]
NBEATS = ">=1.0,<2"  # eol
# after the last dependency

[metadata]
note = "x"
"quoted key" = 1
# end of file
"""

YAML = """\
%YAML 1.1
---
# header
name: Hand   # the name
version: "1.0.0"
tags: [a, b]
updated: 2026-01-02
dependencies:
  NBEATS: ">=1.0,<2"
  # after the last dependency
metadata:
  flag: yes
  count: 1
# end of file
...
"""


def _load(text: str, fmt: str) -> dict[str, Any]:
    text = text.removeprefix("\ufeff")
    return tomllib.loads(text) if fmt == "toml" else yaml.safe_load(text)


def _edit(text: str, fmt: str, change: Any) -> str:
    old = _load(text, fmt)
    new = copy.deepcopy(old)
    change(new)
    out = apply_changes(text, fmt, old, new, CANONICAL_ORDER)
    assert same(_load(out, fmt), new)
    return out


def _changed_lines(before: str, after: str) -> list[str]:
    """The -/+ lines of a diff that keeps line ends (so a CRLF -> LF change shows)."""
    diff = difflib.unified_diff(_lines(before), _lines(after), n=0)
    return [line for line in diff if line[:1] in "-+" and not line.startswith(("---", "+++"))]


def _lines(text: str) -> list[str]:
    """Lines split at \\n only, each with its end (a CR stays on its line)."""
    return [line + "\n" for line in text.split("\n")[:-1]] + ([text.rsplit("\n", 1)[-1]] if not text.endswith("\n") else [])


def _set_tag_and_date(data: dict[str, Any]) -> None:
    data["tags"].append("c")
    data["updated"] = dt.date(2030, 1, 2)


@pytest.mark.parametrize("fmt", ["toml", "yaml"])
def test_crlf_file_keeps_crlf_and_only_the_changed_lines_differ(fmt: str) -> None:
    text = (TOML if fmt == "toml" else YAML).replace("\n", "\r\n")
    out = _edit(text, fmt, _set_tag_and_date)
    assert out.count("\r\n") == out.count("\n")
    assert len(_changed_lines(text, out)) == 4


def test_mixed_line_ends_keep_each_unchanged_line_as_it_was() -> None:
    lines = TOML.split("\n")
    text = "\r\n".join(lines[:5]) + "\r\n" + "\n".join(lines[5:])
    out = _edit(text, "toml", _set_tag_and_date)
    assert len(_changed_lines(text, out)) == 4


@pytest.mark.parametrize("fmt", ["toml", "yaml"])
def test_missing_final_newline_and_bom_are_kept(fmt: str) -> None:
    text = "\ufeff" + (TOML if fmt == "toml" else YAML).rstrip("\n")
    out = _edit(text, fmt, _set_tag_and_date)
    assert out.startswith("\ufeff") and not out.endswith("\n")
    assert len(_changed_lines(text, out)) == 4


def test_nothing_to_change_gives_the_text_back_unchanged() -> None:
    text = TOML.rstrip("\n").replace("\n", "\r\n")
    assert apply_changes(text, "toml", _load(text, "toml"), _load(text, "toml"), CANONICAL_ORDER) == text


@pytest.mark.parametrize("fmt", ["toml", "yaml"])
@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85"])
def test_a_value_holding_a_unicode_line_separator_survives_an_edit(fmt: str, char: str) -> None:
    if fmt == "toml":
        text = TOML.replace('note = "x"', f'note = "x{char}y"')
    else:
        text = YAML.replace("count: 1", f'count: 1\n  sep: "a{char}b"')
    out = _edit(text, fmt, _set_tag_and_date)
    assert len(_changed_lines(text, out)) == 4


def test_toml_new_key_goes_after_the_last_value_above_the_comments_that_end_its_table() -> None:
    text = TOML.replace("# after the last dependency\n", "# after the last dependency\n\n# Links.")
    out = _edit(text, "toml", lambda data: data["dependencies"].update(NHITS="^1"))
    assert '# eol\nNHITS = "^1"\n# after the last dependency\n\n# Links.\n[metadata]' in out
    assert _changed_lines(text, out) == ['+NHITS = "^1"\n']


def test_yaml_end_marker_and_directive_survive_an_edit_of_the_last_entry() -> None:
    out = _edit(YAML, "yaml", lambda data: data["metadata"].update(count=2))
    assert _changed_lines(YAML, out) == ["-  count: 1\n", "+  count: 2\n"]
    assert out.endswith("# end of file\n...\n") and out.startswith("%YAML 1.1\n---\n")


def test_yaml_indented_comment_stays_with_its_block_when_an_entry_is_added_after_it() -> None:
    out = _edit(YAML, "yaml", lambda data: data.update(deprecation={"reason": "old"}))
    assert '  NBEATS: ">=1.0,<2"\n  # after the last dependency\ndeprecation:\n' in out
    assert _changed_lines(YAML, out) == ["+deprecation:\n", "+  reason: old\n"]


def test_quoted_dotted_keys_reach_keys_holding_dots_and_spaces() -> None:
    data: dict[str, Any] = {"metadata": {"quoted key": 1}}
    set_path(data, 'metadata."quoted key"', 2)
    set_path(data, "dependencies.'my.model'", ">=1")
    set_path(data, 'metadata."say \\"hi\\""', True)
    assert data == {"metadata": {"quoted key": 2, 'say "hi"': True}, "dependencies": {"my.model": ">=1"}}
    assert delete_path(data, "dependencies.'my.model'") and "dependencies" not in data
    out = _edit(TOML, "toml", lambda new: set_path(new, 'metadata."quoted key"', 2))
    assert _changed_lines(TOML, out) == ['-"quoted key" = 1\n', '+"quoted key" = 2\n']


@pytest.mark.parametrize("bad", ["a..b", "a.", ".a", 'a."b', "", 'a."\\q"'])
def test_malformed_dotted_keys_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError):
        set_path({}, bad, 1)


# ----- Random comments at random allowed places -----

_TOML_SLOTS = [i for i, line in enumerate(TOML.split("\n")[:-1]) if "'''" not in line and line != "Literal text.'''"]
_YAML_SLOTS = [i for i, line in enumerate(YAML.split("\n")[:-1]) if i >= 2]


def _with_comments(text: str, slots: list[int], chosen: list[int], eol: bool, indent: bool) -> str:
    """`text` with `# cN` comment lines inserted before the chosen lines (and after the
    chosen lines' ends when `eol` and the line takes one)."""
    lines = text.split("\n")
    for n, index in enumerate(sorted(set(chosen), reverse=True)):
        line = lines[index]
        pad = line[: len(line) - len(line.lstrip())] if indent else ""
        if eol and ("=" in line or ":" in line) and "#" not in line and not line.rstrip().endswith(("'''", "[")):
            lines[index] = f"{line}  # e{n}"
        lines.insert(index, f"{pad}# c{n}")
    return "\n".join(lines)


@settings(max_examples=60, deadline=None)
@given(
    fmt=st.sampled_from(["toml", "yaml"]),
    chosen=st.lists(st.integers(0, 100), max_size=6),
    eol=st.booleans(),
    indent=st.booleans(),
    crlf=st.booleans(),
    final_newline=st.booleans(),
    tag=st.sampled_from(["c", "no", "010", "naïve 🚀"]),
    deprecate=st.booleans(),
)
def test_random_comments_line_ends_and_edits_keep_every_comment(
    fmt: str, chosen: list[int], eol: bool, indent: bool, crlf: bool, final_newline: bool, tag: str, deprecate: bool
) -> None:
    base, slots = (TOML, _TOML_SLOTS) if fmt == "toml" else (YAML, _YAML_SLOTS)
    text = _with_comments(base, slots, [slots[i % len(slots)] for i in chosen], eol, indent)
    text = text if final_newline else text.rstrip("\n")
    text = text.replace("\n", "\r\n") if crlf else text

    def change(data: dict[str, Any]) -> None:
        data["tags"].append(tag)
        data["metadata"]["note2"] = tag
        if deprecate:
            data["deprecation"] = {"reason": "superseded", "since": dt.date(2026, 12, 1)}

    out = _edit(text, fmt, change)
    comments = [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]
    kept = [line.split("#", 1)[1] for line in out.splitlines() if "#" in line]
    assert [c for c in kept if c in comments] == comments
    assert out.endswith("\n") == final_newline
    assert (out.count("\r\n") == out.count("\n")) if crlf else "\r" not in out
    removed = [line for line in _changed_lines(text, out) if line.startswith("-")]
    assert all("tags" in line for line in removed), removed


def test_yaml_in_flow_style_is_edited_in_flow_style() -> None:
    text = "{name: Flow, version: '0.1.0', tags: [x], metadata: {k: 1}}  # all flow\n"
    out = _edit(text, "yaml", lambda data: data.update(tags=["x", "y"], updated=dt.date(2030, 1, 2)))
    assert out.startswith("{") and "tags: [x, y]" in out and "# all flow" in out


def test_toml_new_key_in_a_table_split_by_dotted_keys_and_a_sub_table() -> None:
    text = '[metadata]\nsub.a = 1  # a\n[metadata.tbl]\nx = 1\n# tbl end\n\n# about deps\n[dependencies]\nA = "1"\n'
    out = _edit(text, "toml", lambda data: data["metadata"]["tbl"].update(y=2))
    assert _changed_lines(text, out) == ["+y = 2\n"]
    out = _edit(text, "toml", lambda data: data["metadata"].update(z=2))
    assert [line for line in _changed_lines(text, out) if line.strip("+-\n")] == ["+z = 2\n"]


def test_yaml_long_lines_of_an_edited_entry_are_not_folded() -> None:
    text = "name: X\nmetadata:\n  long: " + " ".join(["word"] * 1200) + '\n  quoted: "' + " ".join(["w"] * 3000) + '"\n  n: 1\n'
    out = _edit(text, "yaml", lambda data: data["metadata"].update(n=2))
    assert _changed_lines(text, out) == ["-  n: 1\n", "+  n: 2\n"]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("final", [True, False])
def test_toml_deprecate_then_restore_gives_the_file_back_when_the_notice_was_last(newline: str, final: bool) -> None:
    text = 'name = "X"\nstatus = "active"  # s'.replace("\n", newline) + (newline if final else "")
    old = _load(text, "toml")
    new = {**old, "status": "deprecated", "deprecation": {"reason": "r"}}
    deprecated = apply_changes(text, "toml", old, new, CANONICAL_ORDER)
    assert apply_changes(deprecated, "toml", new, old, CANONICAL_ORDER) == text


def test_toml_new_history_entry_goes_above_the_comment_leading_the_next_table() -> None:
    text = '[[history]]\nversion = "1.0.0"\n# after the last entry\n\n# Links.\n[metadata]\na = 1\n'
    out = _edit(text, "toml", lambda data: data["history"].append({"version": "1.1.0"}))
    assert out == '[[history]]\nversion = "1.0.0"\n\n[[history]]\nversion = "1.1.0"\n# after the last entry\n\n# Links.\n[metadata]\na = 1\n'


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("params = { h = 12, loss = { type = \"mae\" } }  # p", "params = { h = 12, loss = { type = \"mae\" }, x = 3 }  # p"),
        ("params = {h=12}", "params = {h=12, x = 3}"),
        ("params = {}", "params = { x = 3 }"),
    ],
)
def test_toml_key_added_to_an_inline_table_keeps_its_spacing(line: str, expected: str) -> None:
    text = f'[runtime]\nmodel = "N"\n{line}\n'
    out = _edit(text, "toml", lambda data: data["runtime"]["params"].update(x=3))
    assert _changed_lines(text, out) == [f"-{line}\n", f"+{expected}\n"]


def test_toml_new_key_is_indented_as_its_neighbours() -> None:
    text = '[runtime]\n\tmodel = "N"  # m\n\n[metadata]\n  a = 1\n'
    out = _edit(text, "toml", lambda data: (data["runtime"].update(precision="float64"), data["metadata"].update(b=2)))
    assert _changed_lines(text, out) == ['+\tprecision = "float64"\n', "+  b = 2\n"]


@pytest.mark.parametrize("fmt", ["toml", "yaml"])
def test_a_new_entry_holding_a_unicode_line_separator_is_written_whole(fmt: str) -> None:
    text = TOML if fmt == "toml" else YAML
    out = _edit(text, fmt, lambda data: data.update(deprecation={"reason": "old\u2028new"}))
    assert len(_changed_lines(text, out)) == (3 if fmt == "toml" else 2)


def test_toml_new_key_above_a_sub_table_adds_no_blank_line() -> None:
    text = '[runtime]\nmodel = "N"  # m\n[runtime.params]\nh = 1\n'
    out = _edit(text, "toml", lambda data: data["runtime"].update(template="quick"))
    assert _changed_lines(text, out) == ['+template = "quick"\n']


def test_update_setting_a_quoted_updated_keeps_the_date_given() -> None:
    from modreg.registry.mutation.changes import Update

    data = {"name": "X", "updated": dt.date(2026, 1, 1)}
    changed = Update(set_values={'"updated"': dt.date(2026, 2, 2), "metadata.a": 1}).apply(data, dt.date(2030, 1, 1))
    assert changed["updated"] == dt.date(2026, 2, 2)


def test_a_file_edited_as_a_whole_keeps_its_last_character_without_a_final_newline() -> None:
    text = 'name = "X"\n"a\\"b" = 12'  # a key the line scanner does not read: tomlkit edits the whole text
    out = _edit(text, "toml", lambda data: data.update(name="Y"))
    assert out == 'name = "Y"\n"a\\"b" = 12'


@pytest.mark.parametrize("value", ["x\ny", "x\r\ny", "x\x01y", "tab\there"])
def test_strings_with_line_breaks_or_control_characters_replace_literal_and_block_ones(value: str) -> None:
    toml = "name = \"X\"\ndescription = '''\nold'''\n[metadata]\na = 'lit'\n"
    out = _edit(toml, "toml", lambda data: (data.update(description=value), data["metadata"].update(a=value, b=value)))
    assert out.startswith('name = "X"\n')
    yml = "name: X\nsummary: 'lit'\ndescription: |\n  old\nmetadata:\n  a: >\n    folded\n"
    out = _edit(yml, "yaml", lambda data: (data.update(summary=value, description=value), data["metadata"].update(a=value, b=value)))
    assert out.startswith("name: X\n")


def test_a_new_toml_descriptor_keeps_a_carriage_return() -> None:
    from modreg.registry.store.descriptor import dumps_toml

    data = {"name": "X", "description": "first\r\nsecond", "summary": "a\nb"}
    assert tomllib.loads(dumps_toml(data)) == data
