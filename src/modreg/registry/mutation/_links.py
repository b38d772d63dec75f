"""The cross-file problems a change introduces, found among the entries it can affect.

A change to some descriptors can alter the cross-file problems (`checks._crosscheck`) only of
the changed entries, of the entries that name one of them (as dependency or replacement), of
those whose file stem equals a changed one ignoring case, and of the members of dependency
cycles through a changed entry, all of which lie on the dependency paths leading out of it.
When the change removes or renames an entry, the Ensemble templates' member lists are read
too (templates are few), so an entry a template's ensemble fits is not deleted from under it.
Those entries, and the ones they name, are read from the local cache (`.modreg/`, refreshed
first: the files win), so a change costs what it touches, not a read of every descriptor.
Problems are compared before and after the change unlocated; only the introduced ones are
located in their files, and their "did you mean" hints look at every name in the registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from modreg.errors import Problem
from modreg.registry.checks import _crosscheck
from modreg.registry.checks.context import EntrySummary
from modreg.registry.checks.members import MISSING_MEMBER
from modreg.registry.store.facets import Links, links_of
from modreg.registry.store.layout import RegistryPaths

if TYPE_CHECKING:
    from modreg.registry.mutation.transaction import Staged
    from modreg.registry.search.cache import RegistryCache

__all__ = ["introduced_link_problems"]


def introduced_link_problems(paths: RegistryPaths, staged: list[Staged]) -> list[Problem]:
    """The cross-file errors that the staged changes would add, located in their files."""
    from modreg.registry.search.cache import RegistryCache
    from modreg.registry.store.canonical import jsonable

    old = {item.path.name: links_of(jsonable(item.old_data)) for item in staged if item.old_text is not None}
    new = {item.path.name: links_of(jsonable(item.new_data)) for item in staged if item.new_data is not None and item.new_text is not None}
    with RegistryCache(paths) as cache:
        cache.refresh()
        others = {file: links for file, links in _neighbourhood(cache, staged, [*old.values(), *new.values()]).items()
                  if file not in old and file not in new}
        templates = _ensemble_templates(paths) if _removes_a_name(staged) else []
        before = _found(paths, {**others, **old}, templates)
        after = _found(paths, {**others, **new}, templates)
        seen = {found.key() for found in before}
        added = [found for found in after if found.severity == "error" and found.key() not in seen]
        if any(_is_missing(found) for found in added):
            added = _with_hints(added, sorted({*cache.entry_names(), *(links.name for links in new.values() if links.name)}))
    return _located(added, staged)


def _located(found: list[_crosscheck.Found], staged: list[Staged]) -> list[Problem]:
    """The problems at their lines: a staged file's in its new text (a new entry has no file yet)."""
    from modreg.registry.store.files import locate, parse_text

    docs = {str(item.path): parse_text(item.new_text, item.path, item.fmt)  # type: ignore[arg-type]
            for item in staged if item.new_text is not None and any(f.entry.path == str(item.path) for f in found)}
    on_disk = iter(_crosscheck.locate_all([item for item in found if item.entry.path not in docs]))
    problems = []
    for item in found:
        doc = docs.get(item.entry.path)
        if doc is None:
            problems.append(next(on_disk))
        else:
            problems.append(_crosscheck.located(item, locate(doc, item.at)))
    return problems


def _neighbourhood(cache: RegistryCache, staged: list[Staged], changed: list[Links]) -> dict[str, Links | None]:
    """Stored links of the entries the change can affect, and of the entries they name."""
    names = {links.name for links in changed if links.name} | {item.name for item in staged} | {item.path.stem for item in staged}
    found = cache.link_rows(names=names, referring_to=names, stems={item.path.stem for item in staged})
    frontier = set(_named(changed)) | set(_named(found.values()))
    seen: set[str] = set()
    while frontier - seen:  # along the dependency paths (where cycles through a changed entry lie)
        wanted = frontier - seen
        seen |= wanted
        more = cache.link_rows(names=wanted)
        found.update(more)
        frontier = set(_named(more.values()))
    return found


def _named(all_links: Iterable[Links | None]) -> Iterable[str]:
    """The names these entries depend on, name as replacement or have as ensemble members."""
    for links in all_links:
        if links is not None:
            yield from links.referred()


def _found(paths: RegistryPaths, links: dict[str, Links | None], templates: list[EntrySummary]) -> list[_crosscheck.Found]:
    summaries = [
        EntrySummary(str(paths.models / file), file.rsplit(".", 1)[0], True, *(facts or ()))
        for file, facts in sorted(links.items())
    ]
    return _crosscheck.find(summaries, templates)


def _removes_a_name(staged: list[Staged]) -> bool:
    """Whether the change deletes an entry or gives one another name."""
    return any(item.old_text is not None and (item.new_data is None or item.old_data.get("name") != item.new_data.get("name"))
               for item in staged)


def _ensemble_templates(paths: RegistryPaths) -> list[EntrySummary]:
    """The summaries of the registry's Ensemble templates (a template that does not parse is left
    to `validate`)."""
    from modreg.errors import ModregError
    from modreg.registry.checks.members import ENSEMBLE, template_summary
    from modreg.registry.store.files import read_document

    found = []
    for path in paths.template_files():
        try:
            data = read_document(path).data
        except ModregError:
            continue
        if data.get("model") == ENSEMBLE:
            found.append(template_summary(str(path), data))
    return found


def _is_missing(found: _crosscheck.Found) -> bool:
    return found.message.startswith(("dependency `", "replacement `", "ensemble member `")) and found.message.endswith(
        "is not in the registry")


def _with_hints(found: list[_crosscheck.Found], names: list[str]) -> list[_crosscheck.Found]:
    """`found` with the hints of missing names chosen among every entry's name."""
    fixed = []
    for item in found:
        if _is_missing(item):
            missing, fallback = _missing_name(item)
            item = item._replace(hint=_crosscheck.missing_hint(missing, names, fallback))
        fixed.append(item)
    return fixed


def _missing_name(found: _crosscheck.Found) -> tuple[str, str]:
    """The name a "not in the registry" problem is about, and the hint when no name is close."""
    if found.at[0] == "dependencies":
        return str(found.at[1]), _crosscheck.MISSING_DEPENDENCY
    if found.at[0] == "runtime":
        members = dict(found.entry.members)
        return members.get(found.at[3], ""), MISSING_MEMBER  # type: ignore[call-overload]
    return found.entry.replacement or "", _crosscheck.MISSING_REPLACEMENT
