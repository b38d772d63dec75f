"""What `register` and `update` do to a descriptor, as functions on plain data.

The mutation machinery (`mutate.py`) turns their results into a comment-preserving edit or a
new file in canonical order; only `adopt` reads a file (the one being registered).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg.errors import Conflict, UsageError
from modreg.registry.store.edits import delete_path, same, set_path, split_key
from modreg.registry.store.lock import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from modreg.registry.store.layout import RegistryPaths
    from modreg.registry.mutation.transaction import Mutation

__all__ = ["Update", "adopt", "adopted", "new_entry"]


def new_entry(
    name: str,
    *,
    category: str,
    today: dt.date,
    version: str = "0.1.0",
    summary: str | None = None,
    description: str | None = None,
    authors: Sequence[str] = (),
    tags: Sequence[str] = (),
    capabilities: Sequence[str] = (),
    runtime_model: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A new active entry; empty fields are left out, `created` and `updated` are `today`."""
    if params and runtime_model is None:
        raise UsageError("--param needs --runtime-model: parameters belong to a runtime model.", hint="add --runtime-model NAME (see `modreg models`).")
    data: dict[str, Any] = {
        "schema_version": 1,
        "name": name,
        "version": version,
        "category": category,
        "status": "active",
        "summary": summary,
        "description": description,
        "authors": _unique(authors),
        "tags": _unique(tags),
        "capabilities": _unique(capabilities),
        "created": today,
        "updated": today,
    }
    if runtime_model is not None:
        data["runtime"] = {"model": runtime_model, **({"params": dict(params)} if params else {})}
    return {key: value for key, value in data.items() if value not in (None, [])}


def adopted(data: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """A hand-written descriptor as registered: `created`/`updated` filled in when missing."""
    filled = dict(data)
    filled.setdefault("created", today)
    filled.setdefault("updated", filled["created"] if isinstance(filled["created"], dt.date) else today)
    return filled


@dataclass(frozen=True)
class Update:
    """The changes `modreg update` makes; `apply` sets `updated` when anything changed."""

    summary: str | None = None
    description: str | None = None
    add_tags: Sequence[str] = ()
    remove_tags: Sequence[str] = ()
    add_capabilities: Sequence[str] = ()
    remove_capabilities: Sequence[str] = ()
    add_authors: Sequence[str] = ()
    remove_authors: Sequence[str] = ()
    set_values: Mapping[str, Any] = field(default_factory=dict)
    unset: Sequence[str] = ()

    def is_empty(self) -> bool:
        return not any(getattr(self, name) not in (None, (), [], {}) for name in self.__dataclass_fields__)

    def apply(self, data: dict[str, Any], today: dt.date) -> dict[str, Any]:
        """`data` with the changes made (a new dict); raises UsageError for a missing item."""
        before = data
        data = copy.deepcopy(data)
        for key in ("summary", "description"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        for key, added, removed in (
            ("tags", self.add_tags, self.remove_tags),
            ("capabilities", self.add_capabilities, self.remove_capabilities),
            ("authors", self.add_authors, self.remove_authors),
        ):
            _edit_list(data, key, added, removed)
        for dotted, value in self.set_values.items():
            set_path(data, dotted, value)
        for dotted in self.unset:
            if not delete_path(data, dotted):
                raise UsageError(f"`{dotted}` is not set, so it cannot be unset.", hint="`modreg show NAME` lists what is set.")
        if not same(data, before) and ["updated"] not in (split_key(key) for key in self.set_values):
            data["updated"] = today
        return data


def _edit_list(data: dict[str, Any], key: str, added: Sequence[str], removed: Sequence[str]) -> None:
    if not added and not removed:
        return
    current = data.get(key, [])
    if not isinstance(current, list):
        raise UsageError(f"`{key}` is not a list in this descriptor, so items cannot be added or removed.", hint=f"fix `{key}` by hand first.")
    missing = [item for item in removed if item not in current]
    if missing:
        have = ", ".join(map(str, current)) or "none"
        raise UsageError(f"`{missing[0]}` is not in {key}, so it cannot be removed.", hint=f"the {key} are: {have}.")
    kept = [item for item in current if item not in removed]
    data[key] = _unique([*kept, *added])
    if not data[key]:
        del data[key]


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def adopt(
    paths: RegistryPaths, source: Path, today: dt.date, *, dry_run: bool = False, lock_timeout: float = DEFAULT_TIMEOUT
) -> Mutation:
    """Register the hand-written descriptor `source` as it is (comments and all).

    Only `created`/`updated` are added when missing, by a comment-preserving edit; the file is
    validated like any new entry and copied to models/<name><suffix>.
    """
    from modreg.registry.store.descriptor import CANONICAL_ORDER
    from modreg.registry.store.edits import apply_changes
    from modreg.registry.store.files import read_document
    from modreg.registry.mutation.transaction import create_entry

    if source.resolve().parent == paths.models.resolve():
        raise Conflict(
            f"{source} is already in the registry's models/ folder.",
            hint="nothing to adopt: `modreg validate` checks it, `modreg update` changes it.",
            path=source,
        )
    doc = read_document(source)
    data = adopted(doc.data, today)
    text = apply_changes(doc.text, doc.fmt, doc.data, data, CANONICAL_ORDER)
    return create_entry(
        paths, data, doc.fmt, command="register", text=text, source=source, dry_run=dry_run, lock_timeout=lock_timeout
    )
