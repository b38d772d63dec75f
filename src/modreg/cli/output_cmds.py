"""Search and the generated outputs: search, index, report, build, stats.

`index`, `report` and `build` share one renderer: what was written (or, with `--check`, which
files are stale), then a CheckFailed naming the stale files and the command that fixes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from modreg import api
from modreg.cli.app import app
from modreg.cli.console import State
from modreg.cli.options import JsonOpt, LOCK_TIMEOUT, LockTimeoutOpt, RegistryOpt, merge_state
from modreg.cli.render import emit_json, notice, warn
from modreg.cli.tables import FormatOpt, Table, TableFormat, print_tables, table_of
from modreg.errors import CheckFailed, IntegrityError, Problem, UsageError

if TYPE_CHECKING:
    from modreg.outputs.build import OutputsResult, Statistics
    from modreg.registry.search.engine import SearchResult

CheckOpt = Annotated[
    bool, typer.Option("--check", help="Write nothing under index/ or reports/ (only the git-ignored cache .modreg/ may be created or refreshed); hash every descriptor and exit 1 naming each file that is out of date (for CI).")
]
Repeated = Optional[list[str]]


@app.command()
def search(
    ctx: typer.Context,
    text: Annotated[Optional[str], typer.Argument(metavar="TEXT", help="Words to rank entries by (name, summary, description, tags, capabilities).", show_default=False)] = None,
    tag: Annotated[Repeated, typer.Option("--tag", metavar="TAG", help="Only entries with this tag (repeatable: all of them).")] = None,
    category: Annotated[Repeated, typer.Option("--category", "-c", metavar="CATEGORY", help="Only this category (repeatable: any of them).")] = None,
    capability: Annotated[Repeated, typer.Option("--capability", metavar="CAPABILITY", help="Only entries with this capability (repeatable: all).")] = None,
    status: Annotated[Repeated, typer.Option("--status", metavar="STATUS", help="Only this status: active, deprecated, archived (repeatable: any).")] = None,
    author: Annotated[Repeated, typer.Option("--author", metavar="TEXT", help="Only entries with an author containing this text (repeatable: all).")] = None,
    where: Annotated[Optional[str], typer.Option("--where", "-w", metavar="EXPR", help="An expression such as \"performance.mase < 0.9 and (tags in ['energy'] or category = advanced)\".")] = None,
    sort: Annotated[Optional[str], typer.Option("--sort", metavar="FIELD", help="Order by a field (score, name, version, performance.mase, ...); -FIELD for descending.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N", help="Show at most this many (0: all).")] = 50,
    fmt: FormatOpt = None,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Search the registry: ranked text, filters, and --where expressions over any field."""
    state = merge_state(ctx, registry=registry, json=json, fmt=fmt)
    result = api.search(
        text or "", registry=state.registry, tags=tag or (), categories=category or (), capabilities=capability or (),
        statuses=status or (), authors=author or (), where=where, sort=sort, limit=limit,
    )
    render_search(state, result, fmt)


@app.command()
def index(ctx: typer.Context, check: CheckOpt = False, lock_timeout: LockTimeoutOpt = LOCK_TIMEOUT, registry: RegistryOpt = None, json: JsonOpt = False) -> None:
    """Write index/*.json (canonical JSON, only the files that changed)."""
    state = merge_state(ctx, registry=registry, json=json)
    with working(state, "indexing"):
        result = api.index(registry=state.registry, check=check, lock_timeout=lock_timeout)
    render_outputs(state, result, fix="modreg index")


@app.command()
def report(ctx: typer.Context, check: CheckOpt = False, lock_timeout: LockTimeoutOpt = LOCK_TIMEOUT, registry: RegistryOpt = None, json: JsonOpt = False) -> None:
    """Write reports/registry_report.md and reports/registry_summary.md (only if changed)."""
    state = merge_state(ctx, registry=registry, json=json)
    with working(state, "writing reports"):
        result = api.report(registry=state.registry, check=check, lock_timeout=lock_timeout)
    render_outputs(state, result, fix="modreg report")


@app.command()
def build(
    ctx: typer.Context,
    paths: Annotated[Optional[list[str]], typer.Argument(
        help="Files in the registries to build (each registry found from its files, as pre-commit passes them; "
             "default: the registry found as usual).", show_default=False)] = None,
    check: CheckOpt = False,
    strict: Annotated[bool, typer.Option("--strict", help="Validation warnings fail too.")] = False,
    lock_timeout: LockTimeoutOpt = LOCK_TIMEOUT,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Validate, then write the index and the reports: the one CI step (with --check)."""
    state = merge_state(ctx, registry=registry, json=json)
    roots = [found.root for found in api.registry_roots(paths, registry=state.registry)] if paths else [state.registry]
    if state.json and len(roots) > 1:
        raise UsageError("--json builds one registry at a time, and these files belong to several.",
                         hint="run `modreg build` once per registry, with --registry PATH.")
    failures: list[CheckFailed] = []
    for root in roots:
        with working(state, "validating, indexing, writing reports"):
            result = api.build(registry=root, check=check, strict=strict, lock_timeout=lock_timeout)
        try:
            render_outputs(state, result, fix=_build_command(root) if paths else "modreg build")
        except CheckFailed as failure:
            failures.append(failure)
    if failures:
        raise failures[-1] if len(failures) == 1 else CheckFailed(
            f"{len(failures)} registries are not fresh: " + " ".join(f.message for f in failures),
            hint=failures[-1].hint)


@app.command()
def stats(ctx: typer.Context, fmt: FormatOpt = None, registry: RegistryOpt = None, json: JsonOpt = False) -> None:
    """Registry statistics: models by category and status, top tags, deprecations, leaderboards."""
    state = merge_state(ctx, registry=registry, json=json, fmt=fmt)
    render_stats(state, api.stats(registry=state.registry), fmt)


def _build_command(root: Any) -> str:
    """`modreg -r FOLDER build` for a registry found from files (its folder relative to here)."""
    import os

    folder = os.path.relpath(root)
    return "modreg build" if folder == "." else f"modreg -r {folder} build"


# ----- rendering -----


@contextmanager
def working(state: State, what: str) -> Iterator[None]:
    """A transient spinner on stderr while long work runs (only on a TTY, never under --json)."""
    if state.json or state.quiet or not state.err.is_terminal:
        yield
        return
    with state.err.status(f"{what}…"):
        yield


def render_search(state: State, result: SearchResult, fmt: TableFormat | None = None) -> None:
    for problem in result.problems:
        warn(state, f"{_where(problem)}: {problem.message} (left out of the results)")
    for note in result.notes:
        notice(state, note)
    if state.json:
        emit_json(state, result.to_dict())
        return
    if not result.hits:
        notice(state, "no matches")
        return
    scored = bool(result.query.text.strip())
    header = ["name", "version", "category", "status", *(("score",) if scored else ()), "summary"]
    rows = [_search_row(hit.to_dict(), scored) for hit in result.hits]
    print_tables(state, [Table(header, rows)], fmt, cut_last=True)
    if result.total > len(result.hits):
        notice(state, f"showing {len(result.hits)} of {result.total} matches; --limit 0 shows all")


def _search_row(hit: dict, scored: bool) -> list[str]:
    cells = [str(hit.get(key) or "") for key in ("name", "version", "category", "status")]
    if scored:
        cells.append(f"{hit.get('score') or 0:.3g}")
    return [*cells, str(hit.get("summary") or "")]


def render_outputs(state: State, result: OutputsResult, *, fix: str) -> None:
    """What index/report/build did; CheckFailed for validation errors or stale files."""
    if state.json:
        emit_json(state, result.to_dict())
    else:
        _print_problems(state, result.problems)
        for path in result.written:
            notice(state, f"wrote {path}")
        for path in result.stale:
            state.err.print(f"stale: {path}", markup=False)
        if result.unchanged and not result.stale:
            count = len(result.unchanged)
            notice(state, f"{count} file{'s' * (count != 1)} up to date")
    if result.integrity:
        raise IntegrityError(
            "validation failed: files of an artifact or plugin do not match their recorded sha256 (named above); "
            "nothing was written.",
            hint="restore the files, or review the change and record it (`modreg plugin lock NAME`, "
                 "`modreg version NAME --artifact PATH`).",
        )
    if result.errors:
        raise CheckFailed(
            f"validation failed with {result.errors} error{'s' * (result.errors != 1)}; nothing was written.",
            hint=f"fix the problems above, then run `{fix}` again.",
        )
    if result.stale:
        count = len(result.stale)
        raise CheckFailed(
            f"{count} generated file{'s are' if count != 1 else ' is'} stale: {', '.join(result.stale)}.",
            hint=f"run `{fix}` and commit the result.",
        )


def _print_problems(state: State, problems: list[Problem]) -> None:
    for problem in problems:
        state.out.print(f"{_where(problem)}: {problem.severity}: {problem.message}", markup=False, soft_wrap=True)
        if problem.hint:
            state.out.print(f"    hint: {problem.hint}", markup=False, soft_wrap=True)


def _where(problem: Problem) -> str:
    return f"{problem.path}:{problem.line}:{problem.col}"


def render_stats(state: State, result: Statistics, fmt: TableFormat | None = None) -> None:
    for problem in result.problems:
        warn(state, f"{_where(problem)}: {problem.message} (left out of the statistics)")
    if state.json:
        emit_json(state, result.to_dict())
        return
    data = result.data
    tables = [_category_table(data), _runtime_table(data["runtime"])]
    if data["tags"]["top"]:
        tables.append(table_of(data["tags"]["top"][:10], ["tag", "count"], title="Top tags"))
    if data["deprecations"]:
        columns = ["name", "status", "replacement", "since", "sunset", "reason"]
        tables.append(table_of(data["deprecations"], columns, title="Deprecations"))
    tables += [_leaderboard_table(board) for board in data["leaderboards"]]
    print_tables(state, tables, fmt)


def _category_table(data: dict[str, Any]) -> Table:
    statuses = list(data["by_status"])
    rows = [
        {"category": category, **{s: data["by_category_status"].get(category, {}).get(s, 0) for s in statuses}, "total": count}
        for category, count in data["by_category"].items()
    ]
    rows.append({"category": "total", **data["by_status"], "total": data["total"]})
    return table_of(rows, ["category", *statuses, "total"], title=f"{data['total']} models")


def _runtime_table(runtime: dict[str, int]) -> Table:
    rows = [
        {"entries": "run in the runtime", "count": runtime["with_runtime"]},
        {"entries": "metadata only", "count": runtime["metadata_only"]},
    ]
    return table_of(rows, ["entries", "count"], title="Runtime")


def _leaderboard_table(board: dict[str, Any]) -> Table:
    metrics = sorted({metric for row in board["ranking"] for metric in row["metrics"]}, key=lambda m: (m != board["metric"], m))
    rows = [{**row, **row["metrics"]} for row in board["ranking"]]
    horizon = f", horizon {board['horizon']}" if board["horizon"] is not None else ""
    return table_of(rows, ["rank", "name", "version", "status", *metrics], title=f"{board['dataset']}{horizon} (by {board['metric']})")
