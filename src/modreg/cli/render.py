"""Pure rendering: canonical JSON documents, GitHub annotations, notices and warnings.

Nothing here decides what to show; commands pass what `modreg.api` returned.
"""

from __future__ import annotations

import json
from typing import Any

from modreg.cli.console import State
from modreg.errors import CheckFailed


def to_json(data: Any) -> str:
    """Canonical JSON: sorted keys, two-space indent, no NaN.

    Raises:
        CheckFailed: the data holds NaN or infinity (a descriptor `modreg validate` refuses).
    """
    from modreg.api.contract import plain

    try:
        return json.dumps(plain(data), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise CheckFailed("The result holds NaN or infinity, which JSON cannot hold; nothing was printed.",
                          hint="`modreg validate` names the file and line of each such value.") from None


def command_kind() -> str:
    """The running command as a document kind: `plugin list` -> `plugin-list`.

    Read from the contexts' names, not `command_path`, whose program part is several words
    under `python -m modreg`.
    """
    import click

    ctx: click.Context | None = click.get_current_context()
    words: list[str] = []
    while ctx is not None and ctx.parent is not None:
        words.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    return "-".join(word for word in words if word) or "modreg"


def emit_json(state: State, data: Any, *, kind: str | None = None) -> None:
    """Print one JSON document of the contract (`format`, `kind`, ...) on stdout: the only
    thing stdout holds under --json. `kind` defaults to the running command."""
    from modreg.api.contract import document

    text = to_json(document(kind or command_kind(), data))
    state.out.print(text, markup=False, highlight=False, soft_wrap=True)


def github_annotation(level: str, path: str, line: int, col: int, message: str) -> str:
    """`::error file=F,line=L,col=C::message`, escaped as GitHub's workflow commands require."""
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    where = path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A").replace(",", "%2C")
    return f"::{level} file={where},line={line},col={col}::{escaped}"


def render_problems(state: State, report: Any, fmt: str) -> None:
    """A validation report: `text` lines (+ hints), one `json` document, or `github` annotations.

    `report` has `problems` (each with path, line, col, message, json_path, hint, severity),
    `files`, `errors`, `warnings` and `to_dict()`. The one-line summary goes to stderr.
    """
    if fmt == "json":
        emit_json(state, report.to_dict())
        return
    for problem in report.problems:
        if fmt == "github":
            message = problem.message + (f" (hint: {problem.hint})" if problem.hint else "")
            line = github_annotation(problem.severity, problem.path, problem.line, problem.col, message)
            state.out.print(line, markup=False, highlight=False, soft_wrap=True)
            continue
        where = f"{problem.path}:{problem.line}:{problem.col}"
        state.out.print(f"{where}: {problem.severity}: {problem.message}", markup=False, soft_wrap=True)
        if problem.hint:
            state.out.print(f"    hint: {problem.hint}", markup=False, soft_wrap=True)
    counts = f"{report.errors} error{'s' * (report.errors != 1)}, {report.warnings} warning{'s' * (report.warnings != 1)}"
    notice(state, f"checked {report.files} file{'s' * (report.files != 1)}: {counts}")


def notice(state: State, message: str) -> None:
    """A one-line message on stderr, silenced by --quiet."""
    if not state.quiet:
        state.err.print(message, markup=False)


def warn(state: State, message: str) -> None:
    """A warning on stderr (shown even with --quiet, since it may change what the user does)."""
    state.err.print(f"warning: {message}", markup=False, style="yellow")
