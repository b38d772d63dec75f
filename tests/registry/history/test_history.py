"""Versions of an entry: the bump rules, the [[history]] entry and its snapshot, trimming, artifacts."""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modreg import api
from modreg.errors import Conflict, ExitCode, NotFound, UsageError
from modreg.registry.checks.artifacts import artifact_record
from modreg.registry.history.history import bumped, next_version, read_history, snapshot
from modreg.registry.store.layout import RegistryPaths
from modreg.registry.checks.validate import validate_registry
from modreg.registry.store.versions import Version

TODAY = dt.date(2026, 11, 20)
_part = st.integers(min_value=0, max_value=500)
_release = st.builds(Version, _part, _part, _part)


def _data(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "Alpha", "version": "1.2.0", "status": "active", "runtime": {"model": "ToyNet", "params": {"h": 12}}}
    return {**base, **fields}


# ----- The version rules -----


@given(_release, st.sampled_from(["major", "minor", "patch"]))
def test_a_bump_is_always_greater(current: Version, part: str) -> None:
    assert next_version(current, part=part, to=None) > current


@given(_release, _release)
def test_a_set_version_is_taken_exactly_when_greater(current: Version, wanted: Version) -> None:
    if wanted > current:
        assert next_version(current, part=None, to=str(wanted)) == wanted
    else:
        with pytest.raises(Conflict) as caught:
            next_version(current, part=None, to=str(wanted))
        assert caught.value.exit_code == ExitCode.CONFLICT and str(current) in caught.value.message


@pytest.mark.parametrize(("part", "expected"), [("major", "2.0.0"), ("minor", "1.3.0"), ("patch", "1.2.1")])
def test_each_bump(part: str, expected: str) -> None:
    assert str(next_version(Version(1, 2, 0), part=part, to=None)) == expected


def test_a_pre_release_can_be_released() -> None:
    assert str(next_version(Version.parse("2.0.0-rc.1"), part=None, to="2.0.0")) == "2.0.0"


@pytest.mark.parametrize(("part", "to"), [(None, None), ("minor", "2.0.0")])
def test_exactly_one_of_bump_and_set(part: str | None, to: str | None) -> None:
    with pytest.raises(UsageError, match="exactly one"):
        next_version(Version(1, 0, 0), part=part, to=to)


def test_a_set_version_must_be_semver() -> None:
    with pytest.raises(UsageError, match="not a semantic version"):
        next_version(Version(1, 0, 0), part=None, to="v2")


# ----- The history entry -----


def test_bumped_appends_a_history_entry_with_a_snapshot() -> None:
    new = bumped(_data(metadata={"paper": "p"}), name="Alpha", part="minor", to=None, message=" wider input ", today=TODAY)
    assert new["version"] == "1.3.0" and new["updated"] == TODAY
    outgoing, *_ = new["history"]  # the hand-written 1.2.0 had no entry: recorded before the new one
    assert outgoing["version"] == "1.2.0" and outgoing["snapshot"] == new["history"][1]["snapshot"]
    assert new["history"][1:] == [
        {
            "version": "1.3.0",
            "date": TODAY,
            "summary": "wider input",
            "snapshot": {
                "status": "active",
                "runtime": {"model": "ToyNet", "params": {"h": 12}},
                "performance": {},
                "dependencies": {},
                "metadata": {"paper": "p"},
            },
        }
    ]


def test_the_snapshot_is_a_copy() -> None:
    data = _data()
    recorded = snapshot(data)
    data["runtime"]["params"]["h"] = 99
    assert recorded["runtime"]["params"]["h"] == 12


def test_max_history_trims_the_oldest() -> None:
    data = _data(history=[{"version": f"1.{i}.0", "date": TODAY, "summary": str(i)} for i in range(3)])
    new = bumped(data, name="Alpha", part="minor", to=None, message="m", today=TODAY, max_history=2)
    assert [item["version"] for item in new["history"]] == ["1.2.0", "1.3.0"]


def test_a_message_is_required() -> None:
    with pytest.raises(UsageError, match="message"):
        bumped(_data(), name="Alpha", part="patch", to=None, message=" ", today=TODAY)


def test_an_archived_entry_takes_no_new_version() -> None:
    with pytest.raises(Conflict, match="archived"):
        bumped(_data(status="archived"), name="Alpha", part="patch", to=None, message="m", today=TODAY)


def test_artifacts_go_to_the_version_and_become_the_entry_s() -> None:
    old = {"path": "artifacts/a-1.2.0.npz", "sha256": "0" * 64}
    fresh = {"path": "artifacts/a-1.2.1.npz", "sha256": "2" * 64}
    data = _data(artifacts=[old])
    assert bumped(data, name="Alpha", part="patch", to=None, message="m", today=TODAY)["artifacts"] == [old]
    new = bumped(data, name="Alpha", part="patch", to=None, message="m", today=TODAY, artifacts=[fresh])
    assert new["artifacts"] == [fresh] and new["history"][-1]["artifacts"] == [fresh]


def test_read_history_marks_a_current_version_missing_from_history() -> None:
    history = read_history("Alpha", _data(history=[{"version": "1.0.0", "date": TODAY, "summary": "first"}]))
    assert [item.version for item in history.items] == ["1.0.0"] and history.current == "1.2.0" and not history.has_current


# ----- Artifacts and the API -----


def test_artifact_record_is_relative_to_the_root_with_its_sha256(empty_registry: Path) -> None:
    file = empty_registry / "artifacts" / "m.npz"
    file.parent.mkdir()
    file.write_bytes(b"weights")
    record = artifact_record(RegistryPaths(empty_registry), file)
    assert record == {"path": "artifacts/m.npz", "sha256": hashlib.sha256(b"weights").hexdigest()}


def test_artifact_outside_the_registry_or_missing_is_refused(empty_registry: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.npz"
    outside.write_bytes(b"x")
    with pytest.raises(UsageError, match="outside the registry"):
        artifact_record(RegistryPaths(empty_registry), outside)
    with pytest.raises(NotFound):
        artifact_record(RegistryPaths(empty_registry), empty_registry / "nope.npz")


def test_api_version_writes_a_valid_descriptor(write_entry: Callable[..., Path], empty_registry: Path) -> None:
    write_entry("Alpha", performance={"mase": 0.9})
    (empty_registry / "m.npz").write_bytes(b"w")
    mutation = api.version("Alpha", registry=empty_registry, bump="major", message="new head", artifacts=[empty_registry / "m.npz"], today=TODAY)
    assert mutation.version == "2.0.0" and mutation.changes["version"] == {"old": "1.0.0", "new": "2.0.0"}
    data = tomllib.loads((empty_registry / "models" / "Alpha.toml").read_text(encoding="utf-8"))
    assert data["history"][-1]["snapshot"]["performance"] == {"mase": 0.9}
    assert data["artifacts"] == [{"path": "m.npz", "sha256": hashlib.sha256(b"w").hexdigest()}]
    assert validate_registry(RegistryPaths(empty_registry)) == []
    with pytest.raises(Conflict):
        api.version("Alpha", registry=empty_registry, set_version="1.9.9", message="back", today=TODAY)


def test_api_version_honours_max_history(write_entry: Callable[..., Path], empty_registry: Path) -> None:
    config = empty_registry / "modreg.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("max_history = 50", "max_history = 2"), encoding="utf-8")
    write_entry("Alpha")
    for _ in range(3):
        api.version("Alpha", registry=empty_registry, bump="patch", message="fix", today=TODAY)
    history = api.history("Alpha", registry=empty_registry)
    assert [item.version for item in history.items] == ["1.0.2", "1.0.3"] and history.has_current
