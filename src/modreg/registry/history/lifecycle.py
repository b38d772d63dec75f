"""The model lifecycle: active -> deprecated -> archived, restore, and the rules for delete.

Every status change is a row of `TRANSITIONS` (command -> {from status: to status}); a command
on an entry whose status has no row is refused with a `Conflict` that names both statuses and
what the command allows. The functions here work on plain descriptor data and return the new
data; `modreg.api` runs them inside a `mutate.transaction`, so the checks that read other
entries (the replacement, the dependents) happen under the registry lock.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modreg.errors import Conflict, NotFound, UsageError

if TYPE_CHECKING:
    from modreg.registry.store.layout import RegistryPaths
    from modreg.registry.mutation.transaction import Mutation

__all__ = [
    "STATUSES",
    "TRANSITIONS",
    "Deletion",
    "Dependent",
    "archived",
    "check_replacement",
    "check_transition",
    "dependents",
    "deprecated",
    "parse_date",
    "refuse_if_needed",
    "restored",
    "status_of",
]

STATUSES = ("active", "deprecated", "archived")

TRANSITIONS: dict[str, dict[str, str]] = {
    "deprecate": {"active": "deprecated", "deprecated": "deprecated"},  # again: amend the notice
    "archive": {"deprecated": "archived"},
    "restore": {"deprecated": "active", "archived": "active"},
    "version": {"active": "active", "deprecated": "deprecated"},  # archived entries are frozen
}

_ADVICE: dict[tuple[str, str], str] = {
    ("archive", "active"): "deprecate it first, so its users get a warning: `modreg deprecate {name} --reason ...`.",
    ("archive", "archived"): "it is archived already; `modreg restore {name}` brings it back.",
    ("restore", "active"): "it is active already; nothing to restore.",
    ("deprecate", "archived"): "restore it first (`modreg restore {name}`), then deprecate it.",
    ("version", "archived"): "archived entries are frozen; `modreg restore {name}` first.",
}


def status_of(data: dict[str, Any], name: str) -> str:
    """The entry's status (`active` when absent); UsageError for a value outside STATUSES."""
    status = data.get("status", "active")
    if status not in STATUSES:
        raise UsageError(
            f"`{name}` has the status `{status}`, which is not a lifecycle status.",
            hint=f"set status to one of: {', '.join(STATUSES)} (then run `modreg validate`).",
        )
    return status


def check_transition(command: str, name: str, data: dict[str, Any]) -> str:
    """The status `command` moves the entry to; Conflict when its table has no row for it."""
    current = status_of(data, name)
    table = TRANSITIONS[command]
    if current in table:
        return table[current]
    targets = set(table.values())
    if targets == set(table):  # the command keeps the status: it applies only in some
        message = f"`{command}` does not apply to `{name}` while it is {current}; it applies while {' or '.join(table)}."
    else:
        allowed = ", ".join(f"{before} -> {after}" for before, after in table.items())
        target = targets.pop()
        moves = f"from {current} to {target}" if current != target else f"to {target}: it is {target} already"
        message = f"`{command}` cannot move `{name}` {moves}; it allows {allowed}."
    advice = _ADVICE.get((command, current), "`modreg show {name}` shows its status.")
    raise Conflict(message, hint=advice.format(name=name))


# ----- The transitions, on plain data -----


def deprecated(
    data: dict[str, Any],
    *,
    name: str,
    reason: str,
    replacement: str | None,
    sunset: dt.date | None,
    today: dt.date,
) -> dict[str, Any]:
    """`data` deprecated: status, a [deprecation] table (since today), `updated`.

    Deprecating a deprecated entry amends its notice: the new reason, and the replacement and
    sunset when given (else the old ones); `since` is kept.
    """
    check_transition("deprecate", name, data)
    if not reason.strip():
        raise UsageError("A deprecation needs a reason.", hint='e.g. --reason "superseded by NHITS".')
    if sunset is not None and sunset <= today:
        raise UsageError(
            f"The sunset date {sunset.isoformat()} is not in the future.",
            hint=f"give a date after {today.isoformat()}, e.g. {(today + dt.timedelta(days=90)).isoformat()}.",
        )
    new = copy.deepcopy(data)
    old = data.get("deprecation") if isinstance(data.get("deprecation"), dict) and data.get("status") == "deprecated" else {}
    notice: dict[str, Any] = {"reason": reason.strip()}
    for key, given in (("replacement", replacement), ("since", None), ("sunset", sunset)):
        value = given if given is not None else old.get(key)
        if value is not None:
            notice[key] = value
    notice.setdefault("since", today)
    new["status"] = "deprecated"
    new["deprecation"] = _ordered_notice(notice)
    new["updated"] = today
    return new


def _ordered_notice(notice: dict[str, Any]) -> dict[str, Any]:
    order = ("reason", "replacement", "since", "sunset")
    return {key: notice[key] for key in order if key in notice}


def archived(data: dict[str, Any], *, name: str, today: dt.date) -> dict[str, Any]:
    """`data` archived; the [deprecation] table stays, as the record of why."""
    check_transition("archive", name, data)
    return {**copy.deepcopy(data), "status": "archived", "updated": today}


def restored(data: dict[str, Any], *, name: str, today: dt.date) -> dict[str, Any]:
    """`data` active again, its [deprecation] table removed."""
    check_transition("restore", name, data)
    new = {key: copy.deepcopy(value) for key, value in data.items() if key != "deprecation"}
    return {**new, "status": "active", "updated": today}


def check_replacement(paths: RegistryPaths, name: str, replacement: str) -> str:
    """The replacement's name as registered; it must exist, differ from `name`, and be active.

    Raises:
        UsageError: the entry would replace itself.
        NotFound: no such entry (with the closest name).
        Conflict: the replacement is not active.
    """
    from modreg.registry.search.entries import find_entry
    from modreg.registry.store.files import read_document

    if replacement.casefold() == name.casefold():
        raise UsageError(f"`{name}` cannot be its own replacement.", hint="name another, active entry, or leave --replacement out.")
    try:
        path = find_entry(paths, replacement)
    except NotFound as error:
        raise NotFound(f"The replacement `{replacement}` is not in the registry.", hint=error.hint) from None
    status = read_document(path).data.get("status", "active")
    if status != "active":
        raise Conflict(
            f"The replacement `{path.stem}` is {status} itself; a replacement must be active.",
            hint=f"name an active entry, or `modreg restore {path.stem}` first.",
        )
    return path.stem


def parse_date(text: str | dt.date, option: str) -> dt.date:
    """A date from `YYYY-MM-DD` text (or a date, returned as it is); UsageError otherwise."""
    if isinstance(text, dt.date):
        return text
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option}: `{text}` is not a date.", hint="write it as YYYY-MM-DD, e.g. 2027-03-01.") from None


# ----- Delete -----


@dataclass(frozen=True)
class Dependent:
    """An entry that refers to another one: by a dependency (with its range) or as replacement."""

    name: str
    relation: str  # "dependency" | "replacement"
    detail: str = ""

    def describe(self) -> str:
        if self.relation == "dependency":
            return f"{self.name} (depends on it: {self.detail})"
        return f"{self.name} (names it as replacement)"


@dataclass(frozen=True)
class Deletion:
    """What `delete` did: the mutation (with the file kept in the trash) and, under --force,
    the entries left referring to the deleted one."""

    mutation: Mutation
    dependents: list[Dependent]


def dependents(paths: RegistryPaths, name: str) -> list[Dependent]:
    """Every other entry whose dependencies include `name`, or that names it as replacement."""
    from modreg.registry.store.descriptor import load_all

    found = []
    descriptors, _ = load_all(paths)
    for descriptor in descriptors:
        if descriptor.path.stem == name:
            continue
        data = descriptor.data
        needs = data.get("dependencies") if isinstance(data.get("dependencies"), dict) else {}
        if name in needs:
            found.append(Dependent(descriptor.path.stem, "dependency", str(needs[name])))
        notice = data.get("deprecation") if isinstance(data.get("deprecation"), dict) else {}
        if notice.get("replacement") == name:
            found.append(Dependent(descriptor.path.stem, "replacement"))
    return sorted(found, key=lambda d: (d.name.casefold(), d.relation))


def refuse_if_needed(name: str, found: list[Dependent]) -> None:
    """Conflict listing the dependents of `name`, when there are any."""
    if not found:
        return
    listed = "; ".join(d.describe() for d in found)
    raise Conflict(
        f"`{name}` is still needed by {len(found)} entr{'y' if len(found) == 1 else 'ies'}: {listed}; nothing was deleted.",
        hint=f"change those entries first, or pass --force to delete `{name}` anyway (validate will then report them).",
    )
