"""The lifecycle: every transition of the table allowed and refused, replacements, sunsets, delete."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modreg import api
from modreg.errors import Conflict, ExitCode, NotFound, UsageError
from modreg.registry.store.layout import RegistryPaths
from modreg.registry.history.lifecycle import TRANSITIONS, archived, check_transition, dependents, deprecated, restored
from modreg.registry.checks.validate import validate_registry

TODAY = dt.date(2026, 11, 20)
NOTICE = {"reason": "superseded", "replacement": "Beta", "since": dt.date(2026, 10, 1)}


def _data(status: str) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "Alpha", "version": "1.0.0", "status": status}
    if status != "active":
        data["deprecation"] = dict(NOTICE)
    return data


# ----- The table -----

ALLOWED = [(command, before, after) for command, rows in TRANSITIONS.items() for before, after in rows.items()]
REFUSED = [
    (command, status)
    for command, rows in TRANSITIONS.items()
    for status in ("active", "deprecated", "archived")
    if status not in rows
]


@pytest.mark.parametrize(("command", "before", "after"), ALLOWED)
def test_each_allowed_transition_gives_its_status(command: str, before: str, after: str) -> None:
    assert check_transition(command, "Alpha", _data(before)) == after


@pytest.mark.parametrize(("command", "status"), REFUSED)
def test_each_refused_transition_is_a_conflict_naming_the_statuses(command: str, status: str) -> None:
    with pytest.raises(Conflict) as caught:
        check_transition(command, "Alpha", _data(status))
    message = caught.value.message
    assert f"`{command}`" in message and "`Alpha`" in message and status in message
    assert all(allowed in message for allowed in TRANSITIONS[command])
    assert caught.value.hint


def test_the_refusals_are_the_ones_the_lifecycle_promises() -> None:
    assert sorted(REFUSED) == [
        ("archive", "active"), ("archive", "archived"), ("deprecate", "archived"), ("restore", "active"), ("version", "archived"),
    ]


def test_an_unknown_status_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="retired"):
        check_transition("archive", "Alpha", {"status": "retired"})


# ----- The transitions on data -----


def test_deprecate_writes_the_notice_in_canonical_order() -> None:
    new = deprecated(_data("active"), name="Alpha", reason=" old ", replacement="Beta", sunset=dt.date(2027, 3, 1), today=TODAY)
    assert new["status"] == "deprecated" and new["updated"] == TODAY
    assert list(new["deprecation"].items()) == [
        ("reason", "old"), ("replacement", "Beta"), ("since", TODAY), ("sunset", dt.date(2027, 3, 1)),
    ]


def test_deprecating_again_amends_the_notice_and_keeps_since() -> None:
    new = deprecated(_data("deprecated"), name="Alpha", reason="really old", replacement=None, sunset=dt.date(2027, 1, 1), today=TODAY)
    assert new["deprecation"] == {"reason": "really old", "replacement": "Beta", "since": dt.date(2026, 10, 1), "sunset": dt.date(2027, 1, 1)}


@pytest.mark.parametrize("sunset", [TODAY, TODAY - dt.timedelta(days=1)])
def test_a_sunset_not_in_the_future_is_refused(sunset: dt.date) -> None:
    with pytest.raises(UsageError, match="not in the future"):
        deprecated(_data("active"), name="Alpha", reason="x", replacement=None, sunset=sunset, today=TODAY)


def test_a_blank_reason_is_refused() -> None:
    with pytest.raises(UsageError, match="reason"):
        deprecated(_data("active"), name="Alpha", reason="  ", replacement=None, sunset=None, today=TODAY)


def test_archive_keeps_the_notice_and_restore_clears_it() -> None:
    gone = archived(_data("deprecated"), name="Alpha", today=TODAY)
    assert gone["status"] == "archived" and gone["deprecation"] == NOTICE
    back = restored(gone, name="Alpha", today=TODAY)
    assert back["status"] == "active" and "deprecation" not in back and back["updated"] == TODAY


# ----- Through the API, on a registry -----


@pytest.fixture
def registry(write_entry: Callable[..., Path], empty_registry: Path) -> Path:
    """Alpha and Beta (active), Gamma depending on Alpha, Old deprecated in favour of Alpha."""
    write_entry("Alpha")
    write_entry("Beta")
    write_entry("Gamma", dependencies={"Alpha": ">=1.0,<2"})
    write_entry("Old", status="deprecated", deprecation={"reason": "old", "replacement": "Alpha"})
    return empty_registry


def _read(registry: Path, name: str) -> dict[str, Any]:
    return tomllib.loads((registry / "models" / f"{name}.toml").read_text(encoding="utf-8"))


def test_deprecate_archive_restore_round_trip(registry: Path) -> None:
    api.deprecate("Beta", registry=registry, reason="use Alpha", replacement="Alpha", sunset="2099-01-01", today=TODAY)
    assert _read(registry, "Beta")["deprecation"]["sunset"] == dt.date(2099, 1, 1)
    api.archive("Beta", registry=registry, today=TODAY)
    assert _read(registry, "Beta")["status"] == "archived"
    api.restore("Beta", registry=registry, today=TODAY)
    data = _read(registry, "Beta")
    assert data["status"] == "active" and "deprecation" not in data
    assert not [p for p in validate_registry(RegistryPaths(registry)) if p.severity == "error"]
    assert [e.command for e in api.audit("Beta", registry=registry)] == ["deprecate", "archive", "restore"]


def test_the_replacement_must_exist(registry: Path) -> None:
    with pytest.raises(NotFound, match="replacement `Alpa`") as caught:
        api.deprecate("Beta", registry=registry, reason="x", replacement="Alpa")
    assert "Alpha" in (caught.value.hint or "")


def test_the_replacement_must_be_active(registry: Path) -> None:
    with pytest.raises(Conflict, match="`Old` is deprecated itself"):
        api.deprecate("Beta", registry=registry, reason="x", replacement="Old")


def test_an_entry_cannot_replace_itself(registry: Path) -> None:
    with pytest.raises(UsageError, match="its own replacement"):
        api.deprecate("Beta", registry=registry, reason="x", replacement="beta")


def test_a_bad_sunset_date_is_a_usage_error(registry: Path) -> None:
    with pytest.raises(UsageError, match="not a date"):
        api.deprecate("Beta", registry=registry, reason="x", sunset="next spring")


def test_deprecating_the_replacement_of_another_entry_is_refused(registry: Path) -> None:
    with pytest.raises(Conflict, match="would break") as caught:
        api.deprecate("Alpha", registry=registry, reason="x")
    assert caught.value.exit_code == ExitCode.CONFLICT
    assert _read(registry, "Alpha")["status"] == "active"


def test_dependents_lists_dependencies_and_replacements(registry: Path) -> None:
    found = dependents(RegistryPaths(registry), "Alpha")
    assert [(d.name, d.relation, d.detail) for d in found] == [("Gamma", "dependency", ">=1.0,<2"), ("Old", "replacement", "")]


def test_delete_with_dependents_is_refused_and_lists_them(registry: Path) -> None:
    with pytest.raises(Conflict) as caught:
        api.delete("Alpha", registry=registry)
    assert caught.value.exit_code == ExitCode.CONFLICT
    assert "Gamma (depends on it: >=1.0,<2)" in caught.value.message and "Old (names it as replacement)" in caught.value.message
    assert (registry / "models" / "Alpha.toml").exists()


def test_delete_keeps_the_file_in_the_trash(registry: Path) -> None:
    before = (registry / "models" / "Beta.toml").read_text(encoding="utf-8")
    deletion = api.delete("Beta", registry=registry)
    kept = deletion.mutation.trash
    assert kept is not None and kept.parent == registry / ".modreg" / "trash" and kept.name.startswith("Beta.")
    assert kept.read_text(encoding="utf-8") == before and not (registry / "models" / "Beta.toml").exists()
    assert deletion.dependents == [] and api.audit("Beta", registry=registry)[-1].changes == {"deleted": "models/Beta.toml"}


def test_deleting_the_same_name_twice_in_a_second_keeps_both_files(registry: Path) -> None:
    first = api.delete("Beta", registry=registry).mutation.trash
    assert first is not None
    first.rename(registry / "models" / "Beta.toml")  # brought back as the message says
    (registry / ".modreg" / "trash" / first.name).write_text("an older copy", encoding="utf-8")
    second = api.delete("Beta", registry=registry).mutation.trash
    assert second is not None and second != first and len(list((registry / ".modreg" / "trash").iterdir())) == 2


def test_forced_delete_leaves_dangling_links_for_validate(registry: Path) -> None:
    deletion = api.delete("Alpha", registry=registry, force=True)
    assert [d.name for d in deletion.dependents] == ["Gamma", "Old"]
    messages = [p.message for p in validate_registry(RegistryPaths(registry)) if p.severity == "error"]
    assert "dependency `Alpha` is not in the registry" in messages
    assert "replacement `Alpha` is not in the registry" in messages


def test_dry_run_delete_touches_nothing(registry: Path) -> None:
    deletion = api.delete("Beta", registry=registry, dry_run=True)
    assert deletion.mutation.diff.startswith("--- a/models/Beta.toml\n+++ /dev/null")
    assert (registry / "models" / "Beta.toml").exists() and not (registry / ".modreg" / "trash").exists()
