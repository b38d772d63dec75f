"""The audit log: one JSON line per mutation, readable back, safe to append from many processes."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
from pathlib import Path

import pytest

from modreg.registry.store.audit import append_audit, make_entry, read_audit, summarize_changes
from modreg.registry.store.layout import RegistryPaths


@pytest.fixture
def paths(empty_registry: Path) -> RegistryPaths:
    return RegistryPaths(empty_registry)


def test_entries_round_trip_and_filter_by_name(paths: RegistryPaths) -> None:
    append_audit(paths, make_entry("register", "NHITS", {"created": "models/NHITS.toml"}, "0.1.0"))
    append_audit(paths, make_entry("update", "DLinear", {"tags": {"old": [], "new": ["x"]}}, "1.0.0"))
    append_audit(paths, make_entry("update", "nhits", {"summary": {"old": "a", "new": "b"}}, None))
    everything = read_audit(paths)
    assert [e.command for e in everything] == ["register", "update", "update"]
    assert [e.name for e in read_audit(paths, "NHITS")] == ["NHITS", "nhits"]
    assert everything[1].changes == {"tags": {"old": [], "new": ["x"]}}
    assert everything[0].version == "0.1.0"


def test_a_line_holds_utc_time_user_and_sorted_keys(paths: RegistryPaths) -> None:
    append_audit(paths, make_entry("update", "NHITS", {"updated": {"old": dt.date(2026, 1, 1), "new": dt.date(2026, 2, 1)}}, "1.0.0"))
    line = paths.audit_log.read_text(encoding="utf-8")
    assert line.endswith("\n") and line.count("\n") == 1
    raw = json.loads(line)
    assert list(raw) == sorted(raw)
    assert raw["time"].endswith("Z")
    assert dt.datetime.fromisoformat(raw["time"].replace("Z", "+00:00")).tzinfo is not None
    assert raw["user"]
    assert raw["changes"]["updated"] == {"old": "2026-01-01", "new": "2026-02-01"}


def test_no_log_yet_reads_as_empty(paths: RegistryPaths) -> None:
    assert read_audit(paths) == []


def test_a_corrupt_line_is_a_problem_naming_the_line_and_the_rest_is_read(paths: RegistryPaths) -> None:
    append_audit(paths, make_entry("update", "NHITS", {}, None))
    with paths.audit_log.open("a", encoding="utf-8") as handle:
        handle.write('{"time": "x", "user"\n')
    append_audit(paths, make_entry("update", "LSTM", {}, None))
    log = read_audit(paths)
    assert [entry.name for entry in log] == ["NHITS", "LSTM"]
    assert [problem.line for problem in log.problems] == [2] and not log.torn_only


def _append_many(root: str, worker: int) -> None:
    paths = RegistryPaths(Path(root))
    for index in range(25):
        append_audit(paths, make_entry("update", f"M{worker}", {"n": index, "pad": "x" * 500}, None))


def test_concurrent_appends_never_interleave(paths: RegistryPaths) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(str(paths.root), w)) for w in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    entries = read_audit(paths)
    assert len(entries) == 150
    for worker in range(6):
        assert [e.changes["n"] for e in entries if e.name == f"M{worker}"] == list(range(25))


def test_summary_names_dotted_keys_and_shortens_long_values() -> None:
    old = {"summary": "s", "runtime": {"params": {"h": 12}}, "history": [{"version": "1.0.0"}], "gone": 1}
    new = {"summary": "x" * 200, "runtime": {"params": {"h": 24, "dropout": 0.1}}, "history": [{"version": "1.0.0"}, {"version": "1.1.0"}]}
    changes = summarize_changes(old, new)
    assert changes["runtime.params.h"] == {"old": 12, "new": 24}
    assert changes["runtime.params.dropout"] == {"new": 0.1}
    assert changes["gone"] == {"old": 1}
    assert changes["history"] == {"old": "1 entries", "new": "2 entries"}
    assert len(changes["summary"]["new"]) == 80
    assert "tags" not in changes
