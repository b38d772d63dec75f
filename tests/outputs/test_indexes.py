"""The index files: goldens for registry.example, determinism, canonical JSON, each file's content."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modreg.outputs import entries_from_descriptors
from modreg.registry.store.canonical import Memoized, NonFiniteNumber, dumps_canonical, jsonable
from modreg.registry.store.facets import DataEntry
from modreg.outputs.indexes import INDEX_FILES, build_indexes, version_history
from modreg.outputs.stats import LEADERBOARD_SIZE, build_statistics
from modreg.registry.search.cache import RegistryCache
from modreg.registry.store.descriptor import load_all
from modreg.registry.store.layout import RegistryPaths

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "example"


def _example_entries(root: Path) -> list[DataEntry]:
    descriptors, problems = load_all(RegistryPaths(root))
    assert problems == []
    return entries_from_descriptors(descriptors, root)


def entry(name: str, **data: Any) -> DataEntry:
    return DataEntry.of(f"models/{name}.toml", {"name": name, **data}, f"sha-of-{name}-{len(data)}")


# ----- goldens -----


@pytest.mark.parametrize("relative", INDEX_FILES)
def test_example_registry_matches_its_golden(example_registry: Path, update_goldens: bool, relative: str) -> None:
    text = build_indexes(_example_entries(example_registry))[relative]
    golden = GOLDEN / relative
    if update_goldens:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8", newline="\n")
    assert golden.is_file(), f"{golden} is missing: run `pytest --update-goldens`"
    assert text == golden.read_text(encoding="utf-8"), f"{relative} differs from its golden: check it, then `pytest --update-goldens`"


# ----- determinism -----


def test_same_descriptors_same_bytes_in_any_order_with_or_without_memo(example_registry: Path) -> None:
    entries = _example_entries(example_registry)
    first = build_indexes(entries)
    shuffled = entries[:]
    random.Random(3).shuffle(shuffled)
    memo: dict[str, str] = {}
    assert build_indexes(shuffled) == first
    assert build_indexes(entries, memo=memo) == first
    assert build_indexes(shuffled, memo=memo) == first  # now from the memo
    assert len(memo) == 3 * len(entries)


def test_the_cache_gives_the_same_bytes_as_the_files(example_registry: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(example_registry, root, ignore=shutil.ignore_patterns(".modreg"))
    expected = build_indexes(_example_entries(root))
    for _ in range(2):  # cold (fragments rendered while parsing), then warm
        with RegistryCache(RegistryPaths(root)) as cache:
            cache.refresh()
            memo = cache.fragments()
            assert build_indexes(cache.select(with_data=True).entries, memo=memo) == expected
            cache.save_fragments(memo)


def test_every_file_is_canonical_json(example_registry: Path) -> None:
    for relative, text in build_indexes(_example_entries(example_registry)).items():
        assert text.endswith("}\n") and "\r" not in text, relative
        assert json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n" == text


# ----- canonical JSON -----

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_dumps_canonical_is_json_dumps_sorted_indented(value: Any) -> None:
    expected = json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert dumps_canonical(value) == expected
    memo: dict[str, str] = {}
    wrapped = {"a": Memoized(value), "b": [Memoized(value)]}
    plain = dumps_canonical({"a": value, "b": [value]})
    assert dumps_canonical(wrapped, memo=memo) == plain == dumps_canonical(wrapped, memo=memo)


def test_dates_become_iso_text_and_nan_is_refused_with_its_path() -> None:
    import datetime as dt

    assert dumps_canonical({"d": dt.date(2026, 1, 2)}) == '{\n  "d": "2026-01-02"\n}\n'
    assert jsonable({"t": (dt.datetime(2026, 1, 2, 3, 4),)}) == {"t": ["2026-01-02T03:04:00"]}
    with pytest.raises(NonFiniteNumber) as raised:
        dumps_canonical({"models": {"A": {"performance": {"mase": math.nan}}}})
    assert raised.value.where == "models.A.performance.mase"


# ----- the content of each file -----


def test_version_history_is_semantic_oldest_first_ending_with_the_current() -> None:
    data = {
        "version": "1.10.0",
        "updated": "2026-05-01",
        "history": [
            {"version": "1.9.0", "date": "2026-03-01", "summary": "nine"},
            {"version": "1.2.0", "date": "2026-01-01", "summary": "two"},
        ],
    }
    assert version_history(data) == [
        {"version": "1.2.0", "date": "2026-01-01", "summary": "two", "current": False},
        {"version": "1.9.0", "date": "2026-03-01", "summary": "nine", "current": False},
        {"version": "1.10.0", "date": "2026-05-01", "summary": None, "current": True},
    ]


def test_model_and_metadata_indexes() -> None:
    entries = [
        entry("B", version="1.0.0", category="basic", tags=["x", "y"], authors=["Ann"], runtime={"model": "MLP"}),
        entry("A", version="2.0.0", category="advanced", status="deprecated", tags=["y"], deprecation={"replacement": "B"}),
    ]
    outputs = build_indexes(entries)
    rows = json.loads(outputs["index/model_index.json"])["models"]
    assert [row["name"] for row in rows] == ["A", "B"]
    assert rows[0]["replacement"] == "B" and rows[1]["runtime_model"] == "MLP" and rows[1]["file"] == "models/B.toml"
    metadata = json.loads(outputs["index/metadata_index.json"])
    assert metadata["tags"] == {"x": ["B"], "y": ["A", "B"]}
    assert metadata["statuses"] == {"active": ["B"], "deprecated": ["A"]}
    assert metadata["runtime_models"] == {"MLP": ["B"]} and metadata["authors"] == {"Ann": ["B"]}
    registry = json.loads(outputs["index/registry.json"])
    assert registry["count"] == 2 and registry["models"]["A"]["deprecation"] == {"replacement": "B"}


def test_statistics_counts_tags_deprecations_and_leaderboards() -> None:
    entries = [
        entry(f"M{i:02d}", category="basic", tags=["common", f"t{i % 3}"], performance={"dataset": "air", "horizon": 12, "mase": 1 - i / 100})
        for i in range(LEADERBOARD_SIZE + 2)
    ]
    entries.append(entry("Old", category="custom", status="deprecated", deprecation={"replacement": "M00", "sunset": "2027-01-01"}))
    stats = build_statistics(entries)
    assert stats["total"] == LEADERBOARD_SIZE + 3
    assert stats["by_category"] == {"basic": LEADERBOARD_SIZE + 2, "custom": 1}
    assert stats["by_category_status"]["custom"] == {"deprecated": 1}
    assert stats["tags"]["top"][0] == {"tag": "common", "count": LEADERBOARD_SIZE + 2}
    assert stats["deprecations"] == [
        {"name": "Old", "status": "deprecated", "reason": None, "replacement": "M00", "since": None, "sunset": "2027-01-01"}
    ]
    (board,) = stats["leaderboards"]
    assert (board["dataset"], board["horizon"], board["metric"], board["entries"]) == ("air", 12, "mase", LEADERBOARD_SIZE + 2)
    assert [row["name"] for row in board["ranking"][:2]] == [f"M{LEADERBOARD_SIZE + 1:02d}", f"M{LEADERBOARD_SIZE:02d}"]
    assert len(board["ranking"]) == LEADERBOARD_SIZE


def test_odd_values_do_not_break_the_builders() -> None:
    odd = entry("Odd", version=3, tags="solo", authors=None, history="none", performance={"mase": "n/a"})
    outputs = build_indexes([odd])
    row = json.loads(outputs["index/model_index.json"])["models"][0]
    assert row["version"] == "3" and row["tags"] == ["solo"] and row["authors"] == []
    assert json.loads(outputs["index/registry_statistics.json"])["leaderboards"] == []
