"""What `modreg run` and `bench` run: a registry entry with a `[runtime]` table, or a runtime
model by name (built in, or provided by a plugin that is loaded on the way).

`resolve_target` gives a `RunSpec`: the runtime model, the entry's own parameter layer and
template, where it came from (to point errors at descriptor lines) and the warnings a
deprecated or archived entry earns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modreg.errors import NotFound, UsageError
from modreg.forecast.resolve import provide_model
from modreg.runtime.factory import get_model, list_models

__all__ = ["RunSpec", "descriptor_line", "registry_paths", "resolve_target"]


@dataclass
class RunSpec:
    """What a target resolves to: the runtime model and its parameter layers."""

    target: str
    model: str
    source: str  # "registry" or "runtime"
    precision: str | None = None
    template: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    doc: Any = None
    warnings: list[str] = field(default_factory=list)


def resolve_target(target: str, registry: str | Path | None = None) -> RunSpec:
    """The registry entry `target` (when a registry and such an entry exist), else the runtime model."""
    paths = registry_paths(registry)
    entry = paths.descriptor_path(target) if paths is not None else None
    if entry is not None:
        return _entry_spec(target, entry, paths)
    if provide_model(target, paths):  # built in, or from a plugin (loaded now)
        return RunSpec(target=target, model=target, source="runtime")
    raise NotFound(f"No registry entry or runtime model named `{target}`.", hint=_suggest(target, paths))


def registry_paths(registry: str | Path | None) -> Any:
    """The registry at `registry`, else the one found from the working folder, else None."""
    from modreg.registry.store.layout import find_root

    if registry is not None:
        return find_root(registry)
    try:
        return find_root(None)
    except NotFound:
        return None


def _suggest(target: str, paths: Any) -> str:
    import difflib

    names = set(list_models())
    if paths is not None:
        names |= {p.stem for p in paths.descriptor_files()}
    close = difflib.get_close_matches(target, sorted(names), n=1)
    mean = f"did you mean `{close[0]}`? " if close else ""
    return f"{mean}run `modreg models` for runtime models, `modreg list` for registry entries."


def _entry_spec(target: str, path: Path, paths: Any) -> RunSpec:
    from modreg.registry.store.descriptor import load_descriptor

    descriptor = load_descriptor(path)
    runtime = descriptor.data.get("runtime")
    if not isinstance(runtime, Mapping) or not isinstance(runtime.get("model"), str):
        raise UsageError(f"The entry `{target}` has no [runtime] table, so modreg cannot run it.",
                         hint="add [runtime] with model = \"...\" (see `modreg models`), or run a runtime model by name.",
                         path=path)
    spec = RunSpec(target=target, model=runtime["model"], source="registry", precision=runtime.get("precision"),
                   template=runtime.get("template"), params=dict(runtime.get("params", {})), path=path,
                   doc=descriptor.doc, warnings=_status_warnings(descriptor.data, target))
    provide_model(spec.model, paths)  # loads the plugin that provides a model which is not built in
    _check_model(spec)
    return spec


def _check_model(spec: RunSpec) -> None:
    try:
        get_model(spec.model)
    except NotFound as error:
        line = descriptor_line(spec, ("runtime", "model"))
        raise NotFound(f"The entry `{spec.target}` names the runtime model `{spec.model}`, which does not exist.",
                       hint=error.hint, path=spec.path, line=line) from None


def _status_warnings(data: Mapping[str, Any], name: str) -> list[str]:
    status = data.get("status", "active")
    if status == "active":
        return []
    info = data.get("deprecation") or {}
    text = f"`{name}` is {status}"
    if info.get("reason"):
        text += f": {info['reason']}"
    if info.get("replacement"):
        text += f"; use `{info['replacement']}` instead"
    if info.get("sunset"):
        text += f" (sunset {info['sunset']})"
    return [text + "."]


def descriptor_line(spec: RunSpec, json_path: tuple[str, ...]) -> int | None:
    """The descriptor line of `json_path` in `spec`'s entry (None for a runtime model)."""
    if spec.doc is None:
        return None
    from modreg.registry.store.files import locate

    return locate(spec.doc, json_path)[0]
