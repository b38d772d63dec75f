"""Checks across descriptors: name collisions, dependencies, cycles, replacements,
and the member entries of Ensemble entries and templates.

They run on `EntrySummary`s (a few facts per file) so that the per-file work can stay in
worker processes. `find` returns each problem unlocated (`Found`); `check` locates them by
re-reading their files, which a mutation does only for the problems its change introduces.
Problems are reported only in selected files.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from modreg.errors import ModregError, Problem, UsageError
from modreg.registry.checks._schemacheck import did_you_mean, json_path_text
from modreg.registry.checks.members import TEMPLATE_MEMBERS, check_member_entries
from modreg.registry.store.files import SourceDoc, display_path, locate, read_document
from modreg.registry.store.versions import Version, VersionRange

if TYPE_CHECKING:
    from modreg.registry.checks.context import EntrySummary, ValidationContext

JsonPath = tuple[str | int, ...]
MISSING_DEPENDENCY = "register it first, or remove the dependency."
MISSING_REPLACEMENT = "name an existing, active entry."


class Found(NamedTuple):
    """A cross-file problem before it is located in its file."""

    entry: EntrySummary
    at: JsonPath
    message: str
    hint: str | None
    severity: str = "error"

    def key(self) -> tuple[str, str, str]:
        """What tells two problems apart: file, place and message (not the line, not the hint)."""
        return display_path(self.entry.path), json_path_text(self.at), self.message


def check(summaries: list[EntrySummary], context: ValidationContext,
          templates: Sequence[EntrySummary] = ()) -> list[Problem]:
    """Every cross-file problem in the selected summaries and in the Ensemble templates' members."""
    return locate_all(find(summaries, templates))


def find(summaries: list[EntrySummary], templates: Sequence[EntrySummary] = ()) -> list[Found]:
    """Every cross-file problem in the selected summaries, unlocated; `templates` are the
    summaries of templates (`members.template_summary`), whose member entries are checked too."""
    by_name = _index(summaries)
    problems = _collisions(summaries)
    for entry in summaries:
        if entry.selected:
            problems.extend(_dependencies(entry, by_name))
            problems.extend(_replacement(entry, by_name))
            problems.extend(check_member_entries(entry, by_name, _problem))
    for template in templates:
        problems.extend(check_member_entries(template, by_name, _problem, members_at=TEMPLATE_MEMBERS))
    problems.extend(_cycles(summaries, by_name))
    return problems


def locate_all(found: list[Found]) -> list[Problem]:
    """The problems at their lines (each file read once)."""
    _doc.cache_clear()  # files may have changed since an earlier call
    return [located(item) for item in found]


def located(found: Found, position: tuple[int, int] | None = None) -> Problem:
    """`found` as a problem at `position` (line, col), or where its file on disk has it."""
    line, col = position or _locate(found.entry.path, found.at)
    return Problem(display_path(found.entry.path), line, col, found.message, json_path_text(found.at), found.hint, found.severity)


def missing_hint(name: str, names: list[str], fallback: str) -> str:
    """The hint for a reference to `name`, which is not among `names`."""
    return did_you_mean(name, names) or fallback


def _index(summaries: list[EntrySummary]) -> dict[str, EntrySummary]:
    """name -> entry; an entry whose name matches its file stem wins a tie."""
    by_name: dict[str, EntrySummary] = {}
    for entry in summaries:
        if entry.name is not None and (entry.name not in by_name or entry.name == entry.stem):
            by_name[entry.name] = entry
    return by_name


def _problem(entry: EntrySummary, at: JsonPath, message: str, hint: str | None, severity: str = "error") -> Found:
    return Found(entry, at, message, hint, severity)


@functools.lru_cache(maxsize=256)
def _doc(path: str) -> SourceDoc:
    return read_document(Path(path))


def _locate(path: str, at: JsonPath) -> tuple[int, int]:
    try:
        return locate(_doc(path), at)
    except ModregError:
        return (1, 1)


def _collisions(summaries: list[EntrySummary]) -> list[Found]:
    """One entry per name, ignoring case and suffix (`Model.toml`, `model.yaml`)."""
    groups: dict[str, list[EntrySummary]] = defaultdict(list)
    for entry in summaries:
        groups[entry.stem.casefold()].append(entry)
    problems = []
    for group in groups.values():
        for entry in group:
            others = [display_path(other.path) for other in group if other is not entry]
            if others and entry.selected:
                problems.append(
                    _problem(
                        entry,
                        ("name",),
                        f"`{entry.stem}` collides with {', '.join(others)}: names must be unique ignoring case and file suffix",
                        "keep one file per entry; rename or remove the others.",
                    )
                )
    return problems


def _dependencies(entry: EntrySummary, by_name: dict[str, EntrySummary]) -> list[Found]:
    problems = []
    for name, text in entry.dependencies:
        at = ("dependencies", name)
        target = by_name.get(name)
        if target is None:
            hint = missing_hint(name, sorted(by_name), MISSING_DEPENDENCY)
            problems.append(_problem(entry, at, f"dependency `{name}` is not in the registry", hint))
            continue
        problems.extend(_satisfies(entry, at, name, text, target))
        if target.status in ("deprecated", "archived"):
            problems.append(_problem(entry, at, f"dependency `{name}` is {target.status}", _replacement_hint(target), "warning"))
    return problems


@functools.lru_cache(maxsize=4096)
def _parsed(text: str, version: str) -> tuple[VersionRange, Version] | None:
    try:
        return VersionRange.parse(text), Version.parse(version)
    except UsageError:
        return None  # reported with the file that holds the bad range or version


def _satisfies(entry: EntrySummary, at: JsonPath, name: str, text: str, target: EntrySummary) -> list[Found]:
    parsed = _parsed(text, target.version or "")
    if parsed is None:
        return []
    wanted, version = parsed
    if wanted.contains(version):
        return []
    return [
        _problem(
            entry,
            at,
            f"dependency `{name}` is at version {version}, which does not satisfy `{text}`",
            f"widen the range, e.g. \"^{version.major}.{version.minor}\" if it is compatible.",
        )
    ]


def _replacement_hint(target: EntrySummary) -> str:
    parts = []
    if target.replacement:
        parts.append(f"its replacement is `{target.replacement}`")
    if target.sunset:
        parts.append(f"sunset {target.sunset}")
    return ("; ".join(parts) + ".") if parts else "depend on an active entry instead."


def _replacement(entry: EntrySummary, by_name: dict[str, EntrySummary]) -> list[Found]:
    name = entry.replacement
    if name is None or name == entry.name:
        return []
    at = ("deprecation", "replacement")
    target = by_name.get(name)
    if target is None:
        hint = missing_hint(name, sorted(by_name), MISSING_REPLACEMENT)
        return [_problem(entry, at, f"replacement `{name}` is not in the registry", hint)]
    if target.status != "active":
        return [_problem(entry, at, f"replacement `{name}` is {target.status or 'not active'} itself", "name an active entry as the replacement.")]
    return []


def _cycles(summaries: list[EntrySummary], by_name: dict[str, EntrySummary]) -> list[Found]:
    """A problem in every selected member of every dependency cycle, naming the cycle."""
    graph = {name: [d for d, _ in entry.dependencies if d in by_name and d != name] for name, entry in by_name.items()}
    problems = []
    for cycle in _find_cycles(graph):
        for position, name in enumerate(cycle):
            entry = by_name[name]
            if entry.selected:
                rotated = cycle[position:] + cycle[:position]
                shown = " -> ".join([*rotated, rotated[0]])
                problems.append(
                    _problem(entry, ("dependencies", rotated[1 % len(rotated)]), f"dependency cycle: {shown}", "remove one of the dependencies in the cycle.")
                )
    return problems


def _find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(root: str) -> None:
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = _pop_component(stack, on_stack, node)
                if len(component) > 1:
                    cycles.append(_cycle_in(sorted(component), graph))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return cycles


def _pop_component(stack: list[str], on_stack: set[str], node: str) -> set[str]:
    component = set()
    while True:
        member = stack.pop()
        on_stack.discard(member)
        component.add(member)
        if member == node:
            return component


def _cycle_in(members: list[str], graph: dict[str, list[str]]) -> list[str]:
    """A concrete cycle through the component's first member (breadth-first back to it)."""
    start, inside = members[0], set(members)
    parents: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node]):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(parents[path[-1]])
                return list(reversed(path))
            if child in inside and child not in parents:
                parents[child] = node
                queue.append(child)
    return members

