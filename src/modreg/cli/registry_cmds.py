"""Registry-wide commands: init, validate, schema (and later index, report, build, stats)."""

from __future__ import annotations


from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from modreg import api
from modreg.cli.app import app
from modreg.cli.options import JsonOpt, RegistryOpt, merge_state
from modreg.cli.render import emit_json, notice, render_problems, to_json
from modreg.errors import CheckFailed, IntegrityError


@app.command()
def init(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="Folder for the new registry.")] = ".",
    git_hooks: Annotated[bool, typer.Option("--git-hooks", help="Also install a git merge driver and post-merge hook that rebuild index/ and reports/ after every merge (on an existing registry: only that).")] = False,
    json: JsonOpt = False,
) -> None:
    """Create an empty registry: modreg.toml, models/, plugins/, templates/, git files."""
    state = merge_state(ctx, json=json)
    existed = git_hooks and (Path(path) / "modreg.toml").exists()
    paths = api.init(path, git_hooks=git_hooks)
    if state.json:
        emit_json(state, {"root": paths.root, "created": not existed, "git_hooks": git_hooks})
    elif existed:
        notice(state, f"Installed the git merge driver and post-merge hook for the registry in {paths.root}")
    else:
        notice(state, f"Initialised an empty modreg registry in {paths.root}" + (" (with git hooks)" if git_hooks else ""))


class ReportFormat(str, Enum):
    """How `validate` prints problems."""

    text = "text"
    json = "json"
    github = "github"


@app.command()
def validate(
    ctx: typer.Context,
    paths: Annotated[
        Optional[list[str]],
        typer.Argument(help="Files or folders to check against the registry (default: all of it).", show_default=False),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Warnings (deprecated dependencies, past sunsets, YAML 1.1 surprises) fail too.")
    ] = False,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", help="text, json (as --json), or github (annotations on pull requests).")
    ] = ReportFormat.text,
    registry: RegistryOpt = None,
    json: JsonOpt = False,
) -> None:
    """Check every descriptor, template and plugin manifest; report every problem at once."""
    state = merge_state(ctx, registry=registry, json=json)
    report = api.validate(paths or (), registry=state.registry, strict=strict)
    render_problems(state, report, "json" if state.json else fmt.value)
    if report.broken:
        raise IntegrityError(
            f"validation failed: {report.broken} artifact{'s' * (report.broken != 1)} missing or not matching "
            "their sha256 (named above).",
            hint="restore the files, or record the new ones with `modreg version NAME --artifact PATH`.",
        )
    if report.tampered:
        raise IntegrityError(
            f"validation failed: {report.tampered} plugin{'s' * (report.tampered != 1)} with files that do not match "
            "their manifest's sha256 (named above).",
            hint="restore the files, or review the change and run `modreg plugin lock NAME`.",
        )
    if not report.ok:
        raise CheckFailed(
            f"validation failed: {report.errors} error{'s' * (report.errors != 1)} in "
            f"{report.files} file{'s' * (report.files != 1)} checked.",
            hint="fix the problems above, then run `modreg validate` again.",
        )


@app.command()
def schema(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(
        help="descriptor, config, plugin, template, a runtime model such as NHITS, or output.COMMAND (a --json document).")],
) -> None:
    """Print a JSON Schema: a file format (for editors), a runtime model's parameters, or a command's --json output."""
    state = merge_state(ctx)
    state.out.print(to_json(api.schema(name)), markup=False, highlight=False, soft_wrap=True)
