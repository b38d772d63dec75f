"""Comment-preserving edits: only the changed lines differ, in TOML and in YAML."""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modreg.errors import UsageError
from modreg.registry.store.descriptor import CANONICAL_ORDER
from modreg.registry.store.edits import Op, apply_changes, delete_path, diff_data, same, set_path

EXAMPLE_MODELS = Path(__file__).resolve().parents[3] / "registry.example" / "models"

HAND_TOML = '''\
# NHITS, written by hand.
schema_version = 1
name = "NHITS"   # also the file name
version = "1.1.0"
category = "advanced"
status = "active"
summary = "Neural Hierarchical Interpolation"
tags = [
  "mlp",  # the blocks are MLPs
  "long-horizon",
]
created = 2026-11-01
updated = 2026-11-20

[runtime]                           # how `modreg run` builds it
model = "NHITS"
[runtime.params]
h = 12
input_size = 24

# Needs N-BEATS for its blocks.
[dependencies]
NBEATS = ">=1.0,<2"

# Measured with modreg bench.
[performance]
mase = 0.81

[[history]]
version = "1.0.0"
date = 2026-11-01
summary = "first version"

[metadata]                          # free-form
paper = "https://arxiv.org/abs/2201.12886"
'''

HAND_YAML = '''\
# TFT, written by hand.
schema_version: 1
name: TFT   # also the file name
version: "1.0.0"
category: transformer
status: active
summary: Temporal Fusion Transformer
tags:
  - attention   # variable selection
  - interpretable
created: 2026-11-01
updated: 2026-11-20

runtime:
  model: TFT
  params:
    h: 12     # one year of months
    hidden_size: 64

# Measured with modreg bench.
performance:
  mase: 0.9
history:
- version: 0.9.0
  date: 2026-10-01

# Links.
metadata:
  paper: https://arxiv.org/abs/1912.09363
'''


def _load(text: str, fmt: str) -> dict[str, Any]:
    return tomllib.loads(text) if fmt == "toml" else yaml.safe_load(text)


def _edit(text: str, fmt: str, change: Any) -> tuple[str, dict[str, Any]]:
    old = _load(text, fmt)
    new = copy.deepcopy(old)
    change(new)
    out = apply_changes(text, fmt, old, new, CANONICAL_ORDER)
    assert same(_load(out, fmt), new)
    return out, new


def _changed(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed lines, added lines) of a unified diff, without the headers."""
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0))
    removed = [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    return removed, added


def _comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


# ----- Operations on plain data -----


def test_diff_prefers_appends_removals_and_per_item_edits() -> None:
    assert diff_data({"t": [1, 2]}, {"t": [1, 2, 3]}) == [Op("append", ("t",), [3])]
    assert diff_data({"t": [1, 2, 3]}, {"t": [1, 3]}) == [Op("remove", ("t",), (1,))]
    assert diff_data({"h": [{"v": 1}, {"v": 2}]}, {"h": [{"v": 1}, {"v": 3}]}) == [Op("set", ("h", 1, "v"), 3)]
    assert diff_data({"h": [1, 2, 3]}, {"h": [2, 3, 4]}) == [Op("remove", ("h",), (0,)), Op("append", ("h",), [4])]
    assert diff_data({"t": [1, 2]}, {"t": [3]}) == [Op("set", ("t",), [3])]
    assert diff_data({"a": {"b": 1}, "c": 1}, {"a": {"b": 1, "d": 2}}) == [Op("delete", ("c",)), Op("set", ("a", "d"), 2)]


def test_same_tells_types_apart() -> None:
    assert not same(1, True)
    assert not same(1, 1.0)
    assert not same(dt.date(2026, 1, 1), dt.datetime(2026, 1, 1))
    assert same({"a": [1, {"b": "c"}]}, {"a": [1, {"b": "c"}]})


def test_set_and_delete_dotted_paths() -> None:
    data: dict[str, Any] = {"runtime": {"params": {"h": 12}}}
    set_path(data, "runtime.params.input_size", 24)
    set_path(data, "metadata.paper", "https://x")
    assert data == {"runtime": {"params": {"h": 12, "input_size": 24}}, "metadata": {"paper": "https://x"}}
    assert delete_path(data, "metadata.paper") and "metadata" not in data
    assert not delete_path(data, "metadata.paper")
    with pytest.raises(UsageError):
        set_path(data, "runtime.params.h.x", 1)
    with pytest.raises(UsageError):
        set_path(data, "runtime..h", 1)


# ----- TOML -----


def test_toml_edit_changes_only_the_lines_it_must() -> None:
    def change(data: dict[str, Any]) -> None:
        data["version"] = "1.2.0"
        data["tags"].append("fast")
        data["runtime"]["params"]["dropout"] = 0.1
        data["history"].append({"version": "1.1.0", "date": dt.date(2026, 11, 21), "summary": "dropout"})
        data["metadata"]["code"] = "https://github.com/cchallu/n-hits"

    out, _ = _edit(HAND_TOML, "toml", change)
    removed, added = _changed(HAND_TOML, out)
    assert removed == ['version = "1.1.0"']
    assert added == [
        'version = "1.2.0"',
        '  "fast",',
        "dropout = 0.1",
        "[[history]]",
        'version = "1.1.0"',
        "date = 2026-11-21",
        'summary = "dropout"',
        "",
        'code = "https://github.com/cchallu/n-hits"',
    ]
    assert _comments(out) == _comments(HAND_TOML)


def test_toml_new_table_goes_to_its_canonical_place_and_a_removed_one_takes_only_its_lines() -> None:
    def change(data: dict[str, Any]) -> None:
        data["status"] = "deprecated"
        data["deprecation"] = {"reason": "superseded", "replacement": "NHITS2"}
        del data["performance"]
        data["description"] = "Longer text.\nOn two lines."

    out, _ = _edit(HAND_TOML, "toml", change)
    lines = out.splitlines()
    assert lines.index("[deprecation]") < lines.index("[[history]]")
    assert lines.index("[deprecation]") > lines.index('NBEATS = ">=1.0,<2"')
    assert "# Measured with modreg bench." not in out and "[performance]" not in out
    assert "# Needs N-BEATS for its blocks." in out
    assert lines[lines.index('summary = "Neural Hierarchical Interpolation"') + 1] == 'description = """'
    removed, _ = _changed(HAND_TOML, out)
    assert removed == ['status = "active"', "# Measured with modreg bench.", "[performance]", "mase = 0.81"]


def test_toml_keeps_a_multiline_string_multiline() -> None:
    text = 'name = "X"\ndescription = """\nFirst line.\nSecond line."""\n'
    out, _ = _edit(text, "toml", lambda d: d.update(description="First line.\nA new second line."))
    assert out == 'name = "X"\ndescription = """\nFirst line.\nA new second line."""\n'


def test_toml_new_sub_table_and_new_array_of_tables() -> None:
    text = 'name = "X"\n\n[runtime]\nmodel = "MLP"\n\n[metadata]\npaper = "p"\n'

    def change(data: dict[str, Any]) -> None:
        data["runtime"]["params"] = {"h": 12}
        data["artifacts"] = [{"path": "a.npz", "sha256": "0" * 64}]

    out, _ = _edit(text, "toml", change)
    assert out == (
        'name = "X"\n\n[runtime]\nmodel = "MLP"\n\n[runtime.params]\nh = 12\n\n'
        f'[[artifacts]]\npath = "a.npz"\nsha256 = "{"0" * 64}"\n\n[metadata]\npaper = "p"\n'
    )


def test_toml_history_snapshots_are_multi_line_sub_tables() -> None:
    text = 'name = "X"\n\n[[history]]\nversion = "1.0.0"\n\n[metadata]\npaper = "p"\n'
    snapshot = {"runtime": {"model": "MLP", "params": {"h": 12}}}
    out, _ = _edit(text, "toml", lambda d: d["history"].append({"version": "1.1.0", "snapshot": snapshot}))
    assert "[history.snapshot.runtime]\nmodel = \"MLP\"\n\n[history.snapshot.runtime.params]\nh = 12\n\n[metadata]" in out
    assert max(len(line) for line in out.splitlines()) < 40
    assert tomllib.loads(out)["history"][1] == {"version": "1.1.0", "snapshot": snapshot}


def test_toml_appending_after_an_entry_that_ends_in_an_inline_table_keeps_a_blank_line() -> None:
    text = 'name = "X"\n\n[[history]]\nversion = "1.0.0"\nsnapshot = { runtime = { model = "MLP" } }\n'
    entry = {"version": "1.1.0", "snapshot": {"runtime": {"model": "MLP"}}}
    out, _ = _edit(text, "toml", lambda d: d["history"].append(entry))
    assert out == text + '\n[[history]]\nversion = "1.1.0"\n\n[history.snapshot.runtime]\nmodel = "MLP"\n'


# ----- YAML -----


def test_yaml_edit_changes_only_the_lines_it_must() -> None:
    def change(data: dict[str, Any]) -> None:
        data["version"] = "1.1.0"
        data["tags"].append("no")
        data["runtime"]["params"]["dropout"] = 0.1
        data["history"].append({"version": "1.0.0", "date": dt.date(2026, 11, 2)})
        data["metadata"]["code"] = "https://github.com/x"

    out, _ = _edit(HAND_YAML, "yaml", change)
    removed, added = _changed(HAND_YAML, out)
    assert removed == ['version: "1.0.0"']
    assert added == [
        'version: "1.1.0"',
        '  - "no"',
        "    dropout: 0.1",
        "- version: 1.0.0",
        "  date: 2026-11-02",
        "  code: https://github.com/x",
    ]
    assert _comments(out) == _comments(HAND_YAML)


def test_yaml_comment_above_the_next_section_stays_there() -> None:
    out, _ = _edit(HAND_YAML, "yaml", lambda d: d["runtime"]["params"].update(dropout=0.1))
    lines = out.splitlines()
    assert lines[lines.index("# Measured with modreg bench.") + 1] == "performance:"
    assert lines[lines.index("    dropout: 0.1") - 1] == "    hidden_size: 64"


def test_yaml_removals_and_new_keys_in_canonical_place() -> None:
    def change(data: dict[str, Any]) -> None:
        data["tags"].remove("interpretable")
        del data["performance"]
        del data["runtime"]["params"]["hidden_size"]
        data["status"] = "deprecated"
        data["deprecation"] = {"reason": "superseded", "replacement": "TFT2"}
        data["description"] = "Two\nlines.\n"

    out, _ = _edit(HAND_YAML, "yaml", change)
    removed, _ = _changed(HAND_YAML, out)
    assert removed == [
        "status: active",
        "  - interpretable",
        "    hidden_size: 64",
        "# Measured with modreg bench.",
        "performance:",
        "  mase: 0.9",
    ]
    assert "description: |\n  Two\n  lines.\n" in out
    assert out.index("runtime:") < out.index("deprecation:") < out.index("history:")


def test_yaml_strings_that_yaml_1_1_would_misread_are_quoted() -> None:
    out, new = _edit(HAND_YAML, "yaml", lambda d: d["metadata"].update(flag="yes", code="010", ratio="1.10"))
    assert 'flag: "yes"' in out and yaml.safe_load(out)["metadata"] == new["metadata"]


# ----- Every example descriptor -----


def _examples() -> list[Path]:
    return sorted(EXAMPLE_MODELS.glob("*.*"))


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.name)
def test_example_descriptors_edit_cleanly(path: Path) -> None:
    fmt = "toml" if path.suffix == ".toml" else "yaml"
    text = path.read_text(encoding="utf-8")
    assert apply_changes(text, fmt, _load(text, fmt), _load(text, fmt), CANONICAL_ORDER) == text

    def change(data: dict[str, Any]) -> None:
        data["updated"] = dt.date(2030, 1, 2)
        data.setdefault("metadata", {})["reviewed"] = True

    out, _ = _edit(text, fmt, change)
    removed, added = _changed(text, out)
    assert len(removed) == 1 and "updated" in removed[0]
    assert len(added) == 2 + ("metadata" not in _load(text, fmt))
    assert _comments(out) == _comments(text)


_WORDS = st.sampled_from(["energy", "retail", "fast", "no", "on", "010", "1.10", "a b", "naïve", "x: y", "#hash"])
_SCALARS = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    _WORDS,
    st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)),
)
_KEYS = st.sampled_from(["paper", "code", "note", "h2", "score"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fmt=st.sampled_from(["toml", "yaml"]),
    add_tags=st.lists(_WORDS, max_size=3),
    drop_first_tag=st.booleans(),
    metadata=st.dictionaries(_KEYS, _SCALARS, max_size=3),
    params=st.dictionaries(st.sampled_from(["h", "input_size", "dropout"]), _SCALARS, max_size=2),
    deprecate=st.booleans(),
)
def test_random_edits_read_back_as_intended_and_keep_every_comment(
    fmt: str, add_tags: list[str], drop_first_tag: bool, metadata: dict[str, Any], params: dict[str, Any], deprecate: bool
) -> None:
    text = HAND_TOML if fmt == "toml" else HAND_YAML

    def change(data: dict[str, Any]) -> None:
        if drop_first_tag:
            data["tags"].pop(0)
        data["tags"].extend(tag for tag in add_tags if tag not in data["tags"])
        data["metadata"].update(metadata)
        data["runtime"]["params"].update(params)
        if deprecate:
            data["deprecation"] = {"reason": "superseded", "since": dt.date(2026, 12, 1)}

    out, _ = _edit(text, fmt, change)
    kept = _comments(text)
    if drop_first_tag:
        kept = [c for c in kept if c not in ("# the blocks are MLPs", "# variable selection")]
    assert [c for c in _comments(out) if c in kept] == kept
