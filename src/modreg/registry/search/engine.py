"""`modreg search`: BM25 text ranking, filters, `--where` expressions, sorting and a limit.

Text is ranked by what it says about the name, the tags and the capabilities first, and by
BM25 over name, summary, description, tags and capabilities after (`_ranking.intent_score`). Filters narrow the matches: every `--tag`, `--capability` and `--author`
given must hold (an author matches by case-insensitive substring, so `--author example.org`
works), while several `--category` or `--status` values are alternatives. `--where` uses the
grammar of `registry.query`, versions compared as semantic versions. A field that neither the
descriptor schema nor any entry has is a usage error pointing at its column, with "did you
mean". Results come by score (with text) or by name, or by `--sort FIELD` (`-FIELD`: descending;
entries without the field last).
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from modreg.errors import Problem, UsageError
from modreg.registry.search._ranking import IntentScorer, query_terms
from modreg.registry.search.cache import CachedEntry, Filters, RegistryCache
from modreg.registry.search.choices import CATEGORIES, STATUSES, check_choices
from modreg.registry.store.layout import RegistryPaths

__all__ = ["CATEGORIES", "STATUSES", "Hit", "SearchQuery", "SearchResult", "known_fields", "search"]

# What `modreg bench --record` writes under [performance] (DESIGN.md section 2).
PERFORMANCE_FIELDS = ("dataset", "horizon", "windows", "mase", "smape", "mae", "rmse", "crps", "fit_seconds",
                      "predict_seconds", "windows_per_second", "parameters", "measured", "modreg_version")
_LIGHT_FIELDS = {"name", "version", "category", "status", "summary", "score"}


@dataclass(frozen=True)
class SearchQuery:
    """Everything `modreg search` was asked (the CLI's options, the API's arguments)."""

    text: str = ""
    tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    where: str | None = None
    sort: str | None = None
    limit: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "tags": list(self.tags),
            "categories": list(self.categories),
            "capabilities": list(self.capabilities),
            "statuses": list(self.statuses),
            "authors": list(self.authors),
            "where": self.where,
            "sort": self.sort,
            "limit": self.limit,
        }


@dataclass(frozen=True)
class Hit:
    """One matching entry."""

    name: str
    version: str
    category: str
    status: str
    summary: str
    score: float | None
    file: str
    tags: tuple[str, ...]
    capabilities: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "category": self.category,
            "status": self.status,
            "summary": self.summary,
            "score": self.score,
            "file": self.file,
            "tags": list(self.tags),
            "capabilities": list(self.capabilities),
        }


@dataclass(frozen=True)
class SearchResult:
    """The hits (after `limit`), how many matched in all, and what could not be read."""

    query: SearchQuery
    hits: list[Hit]
    total: int
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    backend: str = "fts5"

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query.to_dict(),
            "total": self.total,
            "count": len(self.hits),
            "results": [hit.to_dict() for hit in self.hits],
            "problems": [problem.to_dict() for problem in self.problems],
            "notes": list(self.notes),
        }


def search(paths: RegistryPaths, query: SearchQuery, *, cache: RegistryCache | None = None) -> SearchResult:
    """Run `query` over the registry at `paths` (through its local cache).

    Raises:
        UsageError: a bad `--where` expression (with its column), an unknown field, an
            unknown category or status, a negative limit.
    """
    expression = _check(query)
    filters = Filters(query.categories, query.statuses, query.tags, query.capabilities, query.authors)
    owned = cache is None
    cache = cache or RegistryCache(paths)
    try:
        refresh = cache.refresh()
        matches = cache.text_matches(query.text, filters) if expression is None and query.sort is None else None
        if expression is None and query.sort is None and not query_terms(query.text):  # the cache orders and limits
            selection = cache.select(query.text, filters, ranked=True, limit=query.limit or None)
            entries, total, scores = selection.entries, selection.total, selection.scores
        elif matches is not None:  # text alone: rank from the few columns that ranking reads
            entries, scores, total = _rank_matches(cache, query, matches)
        else:
            entries, scores = _select_and_order(cache, query, expression, filters)
            total = len(entries)
            entries = entries[: query.limit] if query.limit else entries
        notes = _notes(query, cache) if not total else []
    finally:
        if owned:
            cache.close()
    hits = [_hit(entry, scores) for entry in entries]
    return SearchResult(query, hits, total, refresh.problems, notes, refresh.backend)


def _select_and_order(
    cache: RegistryCache, query: SearchQuery, expression: Any, filters: Filters
) -> tuple[list[CachedEntry], dict[str, float] | None]:
    """Every match of a query with --where or --sort, in order (data read from the cache)."""
    fields = _fields_read(expression, query.sort)
    unknown = [(name, col) for name, col in fields if _pattern(name) not in known_fields() and name not in _LIGHT_FIELDS]
    if unknown:
        _check_fields(unknown, query.where or "", cache.select(with_data=True).entries)
    needs_data = expression is not None or any(name not in _LIGHT_FIELDS for name, _ in fields)
    selection = cache.select(query.text, filters, with_data=needs_data)
    matches = [entry for entry in selection.entries if expression is None or _matches(expression, entry)]
    scores = _intent_scores(query.text, matches, selection.scores)
    return _order(matches, scores, query.sort), scores


def _rank_matches(
    cache: RegistryCache, query: SearchQuery, matches: list[tuple[str, str, str, str, float]]
) -> tuple[list[CachedEntry], dict[str, float], int]:
    """The entries of the best `query.limit` matches, their scores, and how many matched."""
    from modreg.registry.search._cacheparse import SEP

    scorer = IntentScorer(query_terms(query.text))
    ranked = sorted(
        (-scorer.score(name, tuple(tags.split(SEP)) if tags else (), tuple(caps.split(SEP)) if caps else (), bm25),
         name.casefold(), name, f"models/{file}")
        for file, name, tags, caps, bm25 in matches
    )
    kept = ranked[: query.limit] if query.limit else ranked
    scores = {file: -score for score, _, _, file in kept}
    return cache.entries_of([file.removeprefix("models/") for *_, file in kept]), scores, len(ranked)


def _intent_scores(text: str, entries: list[CachedEntry], scores: dict[str, float] | None) -> dict[str, float] | None:
    """Each entry's rank for `text`: name, tags and capabilities above BM25 (`_ranking.intent_score`)."""
    if scores is None:
        return None
    scorer = IntentScorer(query_terms(text))
    return {e.file: scorer.score(e.name, e.tags, e.capabilities, scores[e.file]) for e in entries}


# ----- checking the query -----


def _check(query: SearchQuery) -> Any:
    """The parsed `--where` expression (or None), after checking every option."""
    from modreg.registry.search.query import parse_where

    check_choices("category", query.categories, CATEGORIES)
    check_choices("status", query.statuses, STATUSES)
    if query.limit is not None and query.limit < 0:
        raise UsageError(f"--limit must be 0 or more, not {query.limit}.", hint="--limit 0 shows every match.")
    if query.sort is not None and not query.sort.lstrip("-"):
        raise UsageError("--sort needs a field name.", hint="e.g. --sort name, --sort -performance.mase, --sort score.")
    return parse_where(query.where) if query.where is not None else None


def _fields_read(expression: Any, sort: str | None) -> list[tuple[str, int]]:
    """(field, column) of every field the query reads; column 0 for the --sort field."""
    from modreg.registry.search.query import fields_of

    fields = fields_of(expression) if expression is not None else []
    if sort and sort.lstrip("-") != "score":
        fields.append((sort.lstrip("-"), 0))
    return fields


def _check_fields(fields: list[tuple[str, int]], where: str, entries: list[CachedEntry]) -> None:
    """UsageError for the first field that no entry has (schema fields are checked before)."""
    for name, col in fields:
        if not any(_has_path(entry.data, name.split(".")) for entry in entries):
            raise _unknown_field(name, col, where, entries)


def _unknown_field(name: str, col: int, where: str, entries: list[CachedEntry]) -> UsageError:
    candidates = sorted({*known_fields(), *(_pattern(p) for e in entries for p in _paths(e.data))})
    shown = [candidate.replace("*", "0") for candidate in candidates]
    folded = {option.casefold(): option for option in shown}
    close = [folded[name.casefold()]] if name.casefold() in folded else difflib.get_close_matches(name, shown, n=1, cutoff=0.6)
    suggestion = f"did you mean `{close[0]}`? " if close else ""
    if col:
        caret = " " * (col - 1) + "^"
        return UsageError(
            f"Unknown field `{name}` in --where at column {col}: no descriptor has it.",
            hint=f"{suggestion}\n  {where}\n  {caret}\n  fields are dotted paths such as performance.mase or runtime.params.input_size.",
            col=col,
        )
    return UsageError(
        f"Unknown field `{name}` for --sort: no descriptor has it.",
        hint=f"{suggestion}sort by score, name, version or any dotted field such as performance.mase.",
    )


@functools.cache
def known_fields() -> frozenset[str]:
    """Every dotted path the descriptor schema defines (`*` for list items)."""
    schema = json.loads(resources.files("modreg.registry.checks").joinpath("schemas/descriptor.schema.json").read_text("utf-8"))
    found: set[str] = set()
    _schema_paths(schema, schema, "", found)
    found.update(f"performance.{name}" for name in PERFORMANCE_FIELDS)
    return frozenset(found)


def _schema_paths(node: Mapping[str, Any], root: Mapping[str, Any], prefix: str, found: set[str]) -> None:
    if "$ref" in node and node["$ref"].startswith("#/$defs/"):
        node = root["$defs"][node["$ref"].removeprefix("#/$defs/")]
    if prefix:
        found.add(prefix)
    for name, child in node.get("properties", {}).items():
        _schema_paths(child, root, f"{prefix}.{name}" if prefix else name, found)
    if isinstance(node.get("items"), Mapping):
        _schema_paths(node["items"], root, f"{prefix}.*", found)


def _pattern(name: str) -> str:
    return ".".join("*" if part.isdigit() else part for part in name.split("."))


def _has_path(value: Any, parts: list[str]) -> bool:
    for position, part in enumerate(parts):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit():
            return any(_has_path(item, parts[position + 1 :]) for item in value)
        else:
            return False
    return True


def _paths(value: Any, prefix: str = "", depth: int = 0) -> Iterable[str]:
    if depth > 8:
        return
    if isinstance(value, Mapping):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path
            yield from _paths(child, path, depth + 1)
    elif isinstance(value, list):
        for child in value:
            if isinstance(child, (Mapping, list)):
                yield from _paths(child, f"{prefix}.0", depth + 1)


# ----- matching and ordering -----


def _matches(expression: Any, entry: CachedEntry) -> bool:
    from modreg.registry.search.query import evaluate
    from modreg.registry.store.versions import parse_version

    return evaluate(expression, entry.data, parse_version=parse_version)


def _order(entries: list[CachedEntry], scores: dict[str, float] | None, sort: str | None) -> list[CachedEntry]:
    by_name = sorted(entries, key=lambda e: (e.name.casefold(), e.name, e.file))
    if sort is None:
        if scores is None:
            return by_name
        return sorted(by_name, key=lambda e: -scores[e.file])
    name, descending = sort.lstrip("-"), sort.startswith("-")
    present, missing = [], []
    for entry in by_name:
        value = _sort_value(entry, name, scores)
        if value is None:
            missing.append(entry)
        else:
            present.append((_sort_key(value), entry))
    present.sort(key=lambda pair: pair[0], reverse=descending)
    return [entry for _, entry in present] + missing


def _sort_value(entry: CachedEntry, name: str, scores: dict[str, float] | None) -> Any:
    """The value to sort `entry` by, or None when it has none (NaN counts as none)."""
    from modreg.registry.search.query import MISSING, lookup

    if name == "score":
        return scores.get(entry.file) if scores is not None else None
    value = (getattr(entry, name) or None) if name in _LIGHT_FIELDS else lookup(entry.data, name)
    return None if value is MISSING or value != value else value


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers, then versions, then other text, then lists and tables: each in its own order."""
    from modreg.registry.store.versions import parse_version

    if isinstance(value, (bool, int, float)):
        return (0, value)
    if isinstance(value, str):
        try:
            return (1, parse_version(value))
        except UsageError:
            return (2, (value.casefold(), value))
    return (3, json.dumps(value, sort_keys=True, ensure_ascii=False, default=str))


# ----- the result -----


def _hit(entry: CachedEntry, scores: dict[str, float] | None) -> Hit:
    score = float(f"{scores[entry.file]:.6g}") if scores is not None else None
    return Hit(
        entry.name, entry.version, entry.category, entry.status, entry.summary, score, entry.file, entry.tags, entry.capabilities
    )


def _notes(query: SearchQuery, cache: RegistryCache) -> list[str]:
    """A note for each --tag / --capability that no entry has, with the closest one."""
    if not (query.tags or query.capabilities):
        return []
    present = cache.facet_values()
    notes = []
    for option, wanted, facet in (("tag", query.tags, "tags"), ("capability", query.capabilities, "capabilities")):
        folded = {value.casefold() for value in present[facet]}
        for value in wanted:
            if value.casefold() not in folded:
                close = difflib.get_close_matches(value, sorted(present[facet]), n=1, cutoff=0.6)
                suggestion = f"; did you mean `{close[0]}`?" if close else ""
                notes.append(f"no entry has the {option} `{value}`{suggestion}")
    return notes
