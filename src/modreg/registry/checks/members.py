"""The members of an `Ensemble` entry or template, checked like dependencies, each at its own line.

An entry whose `[runtime]` model is `Ensemble` lists its members in `runtime.params.members`,
a template whose `model` is `Ensemble` in `params.members`: registry entries (`entry =
"NHITS"`) or runtime models (`model = "MLP"`, with `params` and maybe a `template`). Per file
(`check_member_params`): each member names one of the two and, if it names a template, one that
exists; a runtime-model member names a known runtime model, not an Ensemble, and its parameters
(with the template's, and the ensemble's h) fit that model's schema. Across files
(`check_member_entries`, on `EntrySummary` facts; `template_summary` gives a template's): a
member entry exists, is runnable (has a `[runtime]` table) and is not an ensemble itself
(errors); a deprecated or archived member is a warning, as a deprecated dependency is (an error
under `validate --strict`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg.errors import Problem
from modreg.registry.checks import _schemacheck
from modreg.registry.checks._schemacheck import did_you_mean
from modreg.registry.store.facets import ENSEMBLE, member_entries, runtime_model
from modreg.registry.store.facets import ensemble_members as _members

MISSING_MEMBER = "register it first, or name a runtime model with `model`."

if TYPE_CHECKING:
    from modreg.registry.checks.context import EntrySummary
    from modreg.registry.checks.validate import _FileChecker

__all__ = ["ENSEMBLE", "MISSING_MEMBER", "TEMPLATE_MEMBERS", "check_member_entries", "check_member_params", "member_entries",
           "runtime_model", "template_summary"]

JsonPath = tuple[str | int, ...]
ENTRY_MEMBERS: JsonPath = ("runtime", "params", "members")
TEMPLATE_MEMBERS: JsonPath = ("params", "members")
ProblemAt = Callable[["EntrySummary", JsonPath, str, "str | None", str], Problem]


# ----- One file -----


def check_member_params(check: _FileChecker, *, template: bool = False) -> None:
    """Runtime-model members: a known model, not an ensemble, parameters that fit its schema.

    `template`: `check.data` is a template, whose `model` and `params` are an entry's `[runtime]`.
    """
    runtime = check.data if template else check.data.get("runtime")
    params = runtime.get("params") if isinstance(runtime, dict) else None
    h = params.get("h") if isinstance(params, dict) else None
    members_at = TEMPLATE_MEMBERS if template else ENTRY_MEMBERS
    for index, member in enumerate(_members({"runtime": runtime})):
        if not isinstance(member, dict):
            continue
        kinds = [key for key in ("model", "entry") if key in member]
        if len(kinds) != 1:
            what = "both a runtime model and a registry entry" if kinds else "neither a runtime model nor an entry"
            check.add((*members_at, index), f"ensemble member {index + 1} names {what}",
                      'give it one of model = "NHITS" (a runtime model) or entry = "NHITS" (a registry entry).')
        elif isinstance(member.get("model"), str):
            _check_model_member(check, (*members_at, index), index, member, h)
        else:
            _known_template(check, (*members_at, index), index, member)


def _known_template(check: _FileChecker, at: JsonPath, index: int, member: dict[str, Any]) -> bool:
    """False (and an error at the member's `template`) when it names a template the registry lacks."""
    name = member.get("template")
    if not isinstance(name, str) or name in check.context.templates:
        return True
    check.add((*at, "template"), f"ensemble member {index + 1} uses the unknown template `{name}`",
              did_you_mean(name, sorted(check.context.templates)) or "see `modreg templates`.")
    return False


def _check_model_member(check: _FileChecker, at: JsonPath, index: int, member: dict[str, Any], h: Any) -> None:
    model = member["model"]
    if model == ENSEMBLE:
        check.add((*at, "model"), f"ensemble member {index + 1} is an Ensemble itself; ensembles do not nest",
                  "list the inner ensemble's members in this one instead.")
        return
    if not check.context.is_known_model(model):
        known = check.context.known_models()
        check.add((*at, "model"), f"ensemble member {index + 1} names the unknown runtime model `{model}`",
                  did_you_mean(model, known) or "see `modreg models`.")
        return
    own = member.get("params") if isinstance(member.get("params"), dict) else {}
    if not _known_template(check, at, index, member):
        return
    template = check.context.templates.get(member["template"]) if isinstance(member.get("template"), str) else None
    base = template.get("params") if isinstance(template, dict) and isinstance(template.get("params"), dict) else {}
    merged = {**base, **own, **({"h": h} if isinstance(h, int) and "h" not in own else {})}
    if model in _schemacheck.runtime_models():
        check.problems.extend(_schemacheck.params_problems(model, merged, check.doc, (*at, "params"), path=check.path))


# ----- Across files -----


def template_summary(path: str, data: Mapping[str, Any]) -> EntrySummary:
    """The facts `check_member_entries` reads of a template (its member entries), with its name."""
    from modreg.registry.checks.context import EntrySummary

    name = data.get("name")
    return EntrySummary(path, Path(path).stem, True, name if isinstance(name, str) else None,
                        runtime_model=ENSEMBLE, members=member_entries({"runtime": data}))


def check_member_entries(entry: EntrySummary, by_name: dict[str, EntrySummary], problem: ProblemAt, *,
                         members_at: JsonPath = ENTRY_MEMBERS) -> list[Problem]:
    """Problems of the member entries of `entry` (see the module docstring); `members_at` is
    where the members list is (TEMPLATE_MEMBERS for a template's summary)."""
    found = []
    for index, name in entry.members:
        at: JsonPath = (*members_at, index, "entry")
        target = by_name.get(name)
        if target is None:
            hint = did_you_mean(name, sorted(by_name)) or MISSING_MEMBER
            found.append(problem(entry, at, f"ensemble member `{name}` is not in the registry", hint, "error"))
        elif target.runtime_model is None:
            found.append(problem(entry, at, f"ensemble member `{name}` has no [runtime] table, so it cannot run",
                                 f"add [runtime] to {name}, or choose another member.", "error"))
        elif target.runtime_model == ENSEMBLE:
            found.append(problem(entry, at, f"ensemble member `{name}` is an Ensemble itself; ensembles do not nest",
                                 "list its members in this ensemble instead.", "error"))
        elif target.status in ("deprecated", "archived"):
            hint = f"its replacement is `{target.replacement}`." if target.replacement else "choose an active entry."
            found.append(problem(entry, at, f"ensemble member `{name}` is {target.status}", hint, "warning"))
    return found
