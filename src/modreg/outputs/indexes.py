"""The JSON index files under `index/`, built as pure functions of the descriptors.

    index/registry.json             every descriptor, keyed by name
    index/model_index.json          one searchable row per model
    index/version_history.json      every model's versions, oldest first
    index/metadata_index.json       tag / capability / author / category / status -> names
    index/registry_statistics.json  counts, top tags, deprecations, leaderboards

Everything is canonical JSON (`dumps_canonical`) with no clock in it: the same descriptors
give the same bytes, which is what lets `modreg index --check` tell CI the files are stale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from modreg.registry.store.canonical import Memoized, at_indent, dumps_canonical
from modreg.registry.store.facets import DataEntry, Entry
from modreg.registry.store.fields import sorted_entries, table, text, unique_by_name, version_sort_key
from modreg.outputs.stats import FORMAT, build_statistics

__all__ = ["INDEX_FILES", "build_indexes", "entry_fragments", "model_row", "part_key", "unmemoized", "version_history"]

PART_INDENT = "    "  # where each memoized part sits: under models.<name> or in models[...] of its file
INDEX_FILES = (
    "index/registry.json",
    "index/model_index.json",
    "index/version_history.json",
    "index/metadata_index.json",
    "index/registry_statistics.json",
)


def build_indexes(entries: Iterable[Entry], *, memo: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """`{relative path: canonical JSON text}` for the five index files.

    `memo` keeps the rendered text of per-entry parts between runs (see `canonical.Memoized`);
    it changes the speed, never the bytes.

    Raises:
        NonFiniteNumber: a descriptor holds NaN or infinity (JSON cannot).
    """
    ordered = unique_by_name(sorted_entries(entries))
    documents = {
        "index/registry.json": _registry(ordered),
        "index/model_index.json": _model_index(ordered),
        "index/version_history.json": _version_histories(ordered),
        "index/metadata_index.json": _metadata_index(ordered),
        "index/registry_statistics.json": build_statistics(ordered),
    }
    return {path: dumps_canonical(document, memo=memo) for path, document in documents.items()}


def part_key(kind: str, sha256: str | None, file: str) -> str | None:
    """The memo key of an entry's part: what it is, and the file content it comes from.

    Only the model_index row depends on the file's path as well as on its content.
    """
    if sha256 is None:
        return None
    return f"{kind}:{sha256}:{file}" if kind == "row" else f"{kind}:{sha256}"


def unmemoized(entries: Iterable[Entry], memo: Mapping[str, str]) -> list[Entry]:
    """The entries whose data `build_indexes` will read: those with a part `memo` lacks."""
    return [
        entry
        for entry in entries
        if any(at_indent(part_key(kind, entry.sha256, entry.file) or "", PART_INDENT) not in memo for kind in ("data", "versions"))
    ]


def _registry(entries: list[Entry]) -> dict[str, Any]:
    models = {e.name: Memoized(lambda e=e: e.data, part_key("data", e.sha256, e.file)) for e in entries}
    return {"format": FORMAT, "count": len(entries), "models": models}


def model_row(entry: Entry) -> dict[str, Any]:
    """The searchable summary of one entry (a row of `model_index.json`)."""
    facts = entry.facts
    runtime, deprecation = table(facts, "runtime"), table(facts, "deprecation")
    return {
        "name": entry.name,
        "version": entry.version,
        "category": entry.category,
        "status": entry.status,
        "summary": entry.summary,
        "tags": list(entry.tags),
        "capabilities": list(entry.capabilities),
        "authors": list(entry.authors),
        "runtime_model": text(runtime, "model") or None,
        "created": text(facts, "created") or None,
        "updated": text(facts, "updated") or None,
        "replacement": text(deprecation, "replacement") or None,
        "has_performance": bool(table(facts, "performance")),
        "file": entry.file,
    }


def _model_index(entries: list[Entry]) -> dict[str, Any]:
    rows = [Memoized(lambda e=e: model_row(e), part_key("row", e.sha256, e.file)) for e in entries]
    return {"format": FORMAT, "count": len(entries), "models": rows}


def version_history(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An entry's versions, oldest first: its `[[history]]` and then the current version."""
    current = text(data, "version")
    history = data.get("history") if isinstance(data.get("history"), list) else []
    versions = []
    for position, item in enumerate(history):
        if isinstance(item, Mapping) and text(item, "version"):
            versions.append((version_sort_key(text(item, "version"), position), _version_item(item, current)))
    if current and not any(item["version"] == current for _, item in versions):
        item = {"version": current, "date": text(data, "updated") or None, "summary": None, "current": True}
        versions.append((version_sort_key(current, len(history)), item))
    return [item for _, item in sorted(versions, key=lambda pair: pair[0])]


def _version_item(item: Mapping[str, Any], current: str) -> dict[str, Any]:
    version = text(item, "version")
    return {
        "version": version,
        "date": text(item, "date") or None,
        "summary": text(item, "summary") or None,
        "current": version == current,
    }


def _version_histories(entries: list[Entry]) -> dict[str, Any]:
    models = {
        e.name: Memoized(lambda e=e: version_history(e.data), part_key("versions", e.sha256, e.file)) for e in entries
    }
    return {"format": FORMAT, "models": models}


def _metadata_index(entries: list[Entry]) -> dict[str, Any]:
    facets: dict[str, dict[str, list[str]]] = {
        "tags": {},
        "capabilities": {},
        "authors": {},
        "categories": {},
        "statuses": {},
        "runtime_models": {},
    }
    for entry in entries:
        runtime_model = text(table(entry.facts, "runtime"), "model")
        _add(facets["tags"], entry.tags, entry.name)
        _add(facets["capabilities"], entry.capabilities, entry.name)
        _add(facets["authors"], entry.authors, entry.name)
        _add(facets["categories"], (entry.category,) if entry.category else (), entry.name)
        _add(facets["statuses"], (entry.status,), entry.name)
        _add(facets["runtime_models"], (runtime_model,) if runtime_model else (), entry.name)
    return {"format": FORMAT, **facets}


def _add(facet: dict[str, list[str]], keys: Iterable[str], name: str) -> None:
    """Add `name` under each key (once: entries come in order, so a repeat is the last name)."""
    for key in keys:
        names = facet.get(key)
        if names is None:
            facet[key] = [name]
        elif names[-1] != name:
            names.append(name)


def entry_fragments(entry: DataEntry) -> tuple[tuple[str, str], ...]:
    """The entry's memoized parts of the index files, rendered: the cache stores them per file."""
    from modreg.registry.store.canonical import NonFiniteNumber, render_fragment

    data, sha256 = entry.data, entry.sha256
    parts = (("data", data), ("row", model_row(entry)), ("versions", version_history(data)))
    try:
        return tuple(
            (at_indent(part_key(kind, sha256, entry.file) or "", PART_INDENT), render_fragment(value, PART_INDENT)) for kind, value in parts
        )
    except NonFiniteNumber:
        return ()
