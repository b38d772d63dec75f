"""Ensembles in a registry: members that are registry entries or templates become runtime members.

An `Ensemble` entry's members may be written three ways:

    [[runtime.params.members]]
    entry = "NHITS"                       # another registry entry: its runtime model and parameters
    params = { input_size = 36 }          # (entry template < entry params < member template < these)

    [[runtime.params.members]]
    model = "MLP"                         # a runtime model
    template = "quick"                    # with a template's parameters under its own
    params = { input_size = 24 }

The runtime never reads the registry, so `resolve_members` turns every member into `model` +
complete `params` before the runtime builds the ensemble (`run` and `bench` call it through
`forecast.run`). A member entry must exist and be runnable (a `[runtime]` table) and may not be
an ensemble itself; a deprecated one gives a warning, as running it would. Errors point at the
member's line in the descriptor. The member's own h is dropped: the ensemble's h rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg.errors import NotFound, UsageError

if TYPE_CHECKING:
    from modreg.forecast.target import RunSpec
    from modreg.registry.store.layout import RegistryPaths

__all__ = ["ENSEMBLE", "exog_layers", "provide_saved_members", "resolve_members"]

ENSEMBLE = "Ensemble"


def resolve_members(spec: RunSpec, params: dict[str, Any], paths: RegistryPaths | None, *,
                    resolve: Callable[[str], RunSpec], params_of: Callable[[RunSpec], dict[str, Any]]) -> dict[str, Any]:
    """`params` with every member of an Ensemble written as `model` + `params` (others unchanged).

    `resolve(name)` is `run.resolve_target`, `params_of(spec)` the parameters `run` would use.

    Raises:
        NotFound: a member names an entry or a template that does not exist.
        UsageError: a member entry without [runtime], an ensemble as member, a template for another model.
    """
    members = params.get("members")
    if spec.model != ENSEMBLE or not isinstance(members, (list, tuple)):
        return params
    resolved = tuple(_member(spec, index, dict(member), paths, resolve, params_of) if isinstance(member, Mapping)
                     else member for index, member in enumerate(members))
    return {**params, "members": resolved}


def _member(spec: RunSpec, index: int, member: dict[str, Any], paths: RegistryPaths | None,
            resolve: Callable[[str], RunSpec], params_of: Callable[[RunSpec], dict[str, Any]]) -> dict[str, Any]:
    base: dict[str, Any] = {}
    if "entry" in member and "model" in member:
        raise UsageError(f"{_where(spec, index)} names both a runtime model and a registry entry.",
                         hint="keep one of `model` and `entry`.", path=spec.path, line=_line(spec, index, "entry"))
    if "entry" in member:
        name = str(member.pop("entry"))
        target = _entry(spec, index, name, resolve)
        base = {k: v for k, v in params_of(target).items() if k != "h"}
        spec.warnings.extend(f"ensemble member {warning}" for warning in target.warnings)
        member.setdefault("name", f"{name}-{index + 1}")
        member["model"] = target.model
    if "template" in member:
        base.update(_template(spec, index, str(member.pop("template")), str(member.get("model")), paths))
    member["params"] = {**base, **dict(member.get("params") or {})}
    return member


def _entry(spec: RunSpec, index: int, name: str, resolve: Callable[[str], RunSpec]) -> RunSpec:
    where = _where(spec, index)
    line = _line(spec, index, "entry")
    try:
        target = resolve(name)
    except NotFound as error:
        raise NotFound(f"{where} names the registry entry `{name}`, which does not exist.", hint=error.hint,
                       path=spec.path, line=line) from None
    if target.source != "registry":
        raise NotFound(f"{where} names the registry entry `{name}`, which does not exist.",
                       hint=f'`{name}` is a runtime model: write model = "{name}" for it.', path=spec.path, line=line)
    if target.model == ENSEMBLE:
        raise UsageError(f"{where} is the entry `{name}`, an Ensemble itself; ensembles do not nest.",
                         hint="list its members in this ensemble instead.", path=spec.path, line=line)
    return target


def _template(spec: RunSpec, index: int, name: str, model: str, paths: RegistryPaths | None) -> dict[str, Any]:
    from modreg.registry.checks.templates import get_template

    line = _line(spec, index, "template")
    if paths is None:
        raise NotFound(f"{_where(spec, index)} uses the template `{name}`, and no registry was found.",
                       hint="pass --registry PATH or set $MODREG_REGISTRY.", path=spec.path, line=line)
    found = get_template(paths, name)
    if found.model is not None and found.model != model:
        raise UsageError(f"{_where(spec, index)} uses the template `{name}`, which is for {found.model}, not {model}.",
                         path=spec.path, line=line)
    return dict(found.params)


def _where(spec: RunSpec, index: int) -> str:
    return f"Member {index + 1} of the ensemble `{spec.target}`"


def _line(spec: RunSpec, index: int, key: str) -> int | None:
    if spec.doc is None:
        return None
    from modreg.registry.store.files import locate

    return locate(spec.doc, ("runtime", "params", "members", index, key))[0]


def exog_layers(params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """`params` and, for an ensemble, each member's parameters (where exogenous columns are declared)."""
    members = params.get("members")
    if not isinstance(members, (list, tuple)):
        return [params]
    return [params, *(m["params"] for m in members if isinstance(m, Mapping) and isinstance(m.get("params"), Mapping))]


def provide_saved_members(path: str | Path, paths: RegistryPaths | None) -> None:
    """Load the plugins providing the member models of a saved ensemble, before it is loaded.

    Only the file's JSON header is read here; `Forecaster.load` checks everything else.
    """
    from modreg.forecast.resolve import provide_model
    from modreg.runtime.serialize import read_model_file

    saved = read_model_file(path)
    members = saved.params.get("members") if saved.model == ENSEMBLE else None
    for member in members if isinstance(members, list) else []:
        if isinstance(member, Mapping) and isinstance(member.get("model"), str):
            provide_model(member["model"], paths)
