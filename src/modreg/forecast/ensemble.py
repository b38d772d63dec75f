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
member's line in the file that wrote the members list (`MembersAt`: the descriptor, or the
template that set `members`; none for the command line). The member's own h is dropped: the
ensemble's h rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg.errors import ModregError, NotFound, UsageError

if TYPE_CHECKING:
    from modreg.forecast.target import RunSpec
    from modreg.registry.store.layout import RegistryPaths

__all__ = ["ENSEMBLE", "MembersAt", "exog_layers", "provide_saved_members", "resolve_members"]

ENSEMBLE = "Ensemble"


@dataclass(frozen=True)
class MembersAt:
    """Where an ensemble's `members` list was written, for errors: the file (None: the command
    line or the model's defaults), its parsed document if already read, the key path of the list
    in it, and the template's name when the file is a template."""

    path: Path | None = None
    doc: Any = None
    keys: tuple[str, ...] = ("runtime", "params", "members")
    template: str | None = None

    @classmethod
    def entry(cls, spec: RunSpec) -> MembersAt:
        return cls(spec.path, spec.doc)

    @classmethod
    def template_file(cls, name: str, path: Path) -> MembersAt:
        return cls(path, None, ("params", "members"), name)


def resolve_members(spec: RunSpec, params: dict[str, Any], paths: RegistryPaths | None, *,
                    resolve: Callable[[str], RunSpec], params_of: Callable[[RunSpec], dict[str, Any]],
                    written: MembersAt | None = None) -> dict[str, Any]:
    """`params` with every member of an Ensemble written as `model` + `params` (others unchanged).

    `resolve(name)` is `run.resolve_target`, `params_of(spec)` the parameters `run` would use,
    `written` where the members list came from (default: the entry's descriptor).

    Raises:
        NotFound: a member names an entry or a template that does not exist.
        UsageError: a member entry without [runtime], an ensemble as member, a template for another model.
    """
    members = params.get("members")
    if spec.model != ENSEMBLE or not isinstance(members, (list, tuple)):
        return params
    written = written or MembersAt.entry(spec)
    resolved = tuple(_member(spec, _Place(spec, written, index), dict(member), paths, resolve, params_of)
                     if isinstance(member, Mapping) else member for index, member in enumerate(members))
    return {**params, "members": resolved}


@dataclass(frozen=True)
class _Place:
    """One member of one ensemble, and where it was written: what errors about it say."""

    spec: RunSpec
    written: MembersAt
    index: int

    def where(self) -> str:
        source = f" (from the template `{self.written.template}`)" if self.written.template else ""
        return f"Member {self.index + 1} of the ensemble `{self.spec.target}`{source}"

    def at(self, *keys: str) -> dict[str, Any]:
        """The `path` and `line` of the member's `keys` for an error (the line when the file parses)."""
        if self.written.path is None:
            return {"path": None, "line": None}
        from modreg.registry.store.files import locate, read_document

        try:
            doc = self.written.doc or read_document(self.written.path)
            line = locate(doc, (*self.written.keys, self.index, *keys))[0]
        except ModregError:
            line = None
        return {"path": self.written.path, "line": line}


def _member(spec: RunSpec, place: _Place, member: dict[str, Any], paths: RegistryPaths | None,
            resolve: Callable[[str], RunSpec], params_of: Callable[[RunSpec], dict[str, Any]]) -> dict[str, Any]:
    base: dict[str, Any] = {}
    if "entry" in member and "model" in member:
        raise UsageError(f"{place.where()} names both a runtime model and a registry entry.",
                         hint="keep one of `model` and `entry`.", **place.at("entry"))
    if "entry" in member:
        name = str(member.pop("entry"))
        target = _entry(place, name, resolve)
        base = {k: v for k, v in params_of(target).items() if k != "h"}
        spec.warnings.extend(f"ensemble member {warning}" for warning in target.warnings)
        member.setdefault("name", f"{name}-{place.index + 1}")
        member["model"] = target.model
    if "template" in member:
        base.update(_template(place, str(member.pop("template")), str(member.get("model")), paths))
    own = dict(member.get("params") or {})
    _check_own_params(place, member.get("model"), own)
    member["params"] = {**base, **own}
    return member


def _check_own_params(place: _Place, model: Any, own: dict[str, Any]) -> None:
    """The member's own `params` against its runtime model's schema, so that an error points at
    their line (an unknown model is the runtime's to report, naming the member)."""
    from modreg.runtime.factory import is_registered, validate_params
    from modreg.runtime.params import ParameterError

    if not isinstance(model, str) or not is_registered(model):
        return
    try:
        validate_params(model, own, partial=True)
    except ParameterError as error:
        raise UsageError(f"{place.where()} ({model}): {error.message}", hint=error.hint,
                         **place.at("params", error.param)) from None


def _entry(place: _Place, name: str, resolve: Callable[[str], RunSpec]) -> RunSpec:
    where = place.where()
    try:
        target = resolve(name)
    except NotFound as error:
        raise NotFound(f"{where} names the registry entry `{name}`, which does not exist.", hint=error.hint,
                       **place.at("entry")) from None
    if target.source != "registry":
        raise NotFound(f"{where} names the registry entry `{name}`, which does not exist.",
                       hint=f'`{name}` is a runtime model: write model = "{name}" for it.', **place.at("entry"))
    if target.model == ENSEMBLE:
        raise UsageError(f"{where} is the entry `{name}`, an Ensemble itself; ensembles do not nest.",
                         hint="list its members in this ensemble instead.", **place.at("entry"))
    return target


def _template(place: _Place, name: str, model: str, paths: RegistryPaths | None) -> dict[str, Any]:
    from modreg.registry.checks.templates import get_template

    if paths is None:
        raise NotFound(f"{place.where()} uses the template `{name}`, and no registry was found.",
                       hint="pass --registry PATH or set $MODREG_REGISTRY.", **place.at("template"))
    try:
        found = get_template(paths, name)
    except NotFound as error:
        raise NotFound(f"{place.where()} uses the template `{name}`, which does not exist.", hint=error.hint,
                       **place.at("template")) from None
    if found.model is not None and found.model != model:
        raise UsageError(f"{place.where()} uses the template `{name}`, which is for {found.model}, not {model}.",
                         **place.at("template"))
    return dict(found.params)


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
