"""The Python API: one function per CLI command.

Functions return dataclasses or plain dicts and raise `modreg.errors.ModregError`; they never
print or exit. Heavy modules (numpy, jsonschema, the runtime) are imported inside the functions
that need them, so that `import modreg.api` stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg.registry.layout import RegistryPaths, find_root

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from modreg.registry.entries import Entry, Listing
    from modreg.registry.audit import AuditEntry
    from modreg.registry.diff import EntryDiff
    from modreg.registry.gitview import RegistryDiff
    from modreg.registry.history import History
    from modreg.registry.lifecycle import Deletion
    from modreg.registry.generated import OutputsResult, Statistics
    from modreg.registry.search import SearchResult
    from modreg.registry.mutate import BatchItem, Mutation
    from modreg.errors import Problem
    from modreg.registry.descriptor import Descriptor
    from modreg.registry.templates import Template
    from modreg.registry.validate import ValidationReport
    from modreg.forecast.bench.harness import BenchProgress, BenchResult
    from modreg.forecast.run import RunResult
    from modreg.plugins.base import PluginInfo
    from modreg.plugins.checksums import LockResult
    from modreg.plugins.discover import DiscoverResult
    from modreg.plugins.health import HealthReport

__all__ = ["archive", "audit", "bench", "build", "delete", "deprecate", "diff", "diff_git", "discover", "get_entry", "history", "index", "init", "list_entries", "load_entries", "models", "open_registry", "plugin_health", "plugin_list", "plugin_lock", "plugin_verify", "register", "report", "restore", "run", "schema", "search", "show", "stats", "templates", "update", "validate", "version"]


def open_registry(registry: str | Path | None = None) -> RegistryPaths:
    """The registry at `registry`, $MODREG_REGISTRY, or the nearest one upwards."""
    return find_root(registry)


def init(path: str | Path = ".") -> RegistryPaths:
    """Create an empty registry at `path` (`modreg init`)."""
    from modreg.registry.init import init_registry

    return init_registry(Path(path))


def models(*, category: str | None = None, capability: str | None = None) -> list[dict[str, Any]]:
    """The runtime models (`modreg models`): name, category, capabilities, class; sorted by name."""
    from modreg.runtime.factory import list_models

    infos = list_models().values()
    return [info.to_dict() for info in infos
            if (category is None or info.category == category)
            and (capability is None or capability in info.capabilities)]


def run(target: str, *, data: str | Path, registry: str | Path | None = None, horizon: int | None = None,
        params: Sequence[str] = (), template: str | None = None, seed: int | None = None,
        output: str | Path | None = None, save: str | Path | None = None, load: str | Path | None = None,
        futr: str | Path | None = None, static: str | Path | None = None, progress: Any = None) -> RunResult:
    """Fit (or --load) the model of a registry entry or runtime model on a CSV and forecast (`modreg run`).

    `params` are `key=value` strings (TOML values); `futr` is a CSV of the future exogenous
    values for the horizon (`unique_id,ds,<columns>`), `static` one of static values (`unique_id,<columns>`); `progress` is an optional
    `modreg.forecast.run.RunProgress` (the CLI passes its progress bar).
    """
    from modreg.forecast.run import run as run_target

    return run_target(target, data=data, registry=registry, horizon=horizon, params=params, template=template,
                      seed=seed, output=output, save=save, load=load, futr=futr, static=static, progress=progress)


def bench(
    targets: Sequence[str] = (),
    *,
    data: str | Path,
    registry: str | Path | None = None,
    all_entries: bool = False,
    category: str | None = None,
    where: str | None = None,
    horizon: int | None = None,
    windows: int = 1,
    step: int | None = None,
    season: int | None = None,
    max_steps: int | None = None,
    params: Sequence[str] = (),
    quick: bool = False,
    jobs: int = 1,
    timeout: float | None = None,
    seed: int | None = None,
    refit: bool = True,
    executor: str = "local",
    scheduler: str | None = None,
    record: bool = False,
    dry_run: bool = False,
    output: str | Path | None = None,
    progress: BenchProgress | None = None,
    today: dt.date | None = None,
) -> BenchResult:
    """Benchmark models on a CSV with rolling-origin windows (`modreg bench`); see `modreg.forecast.bench.harness`.

    Targets are entry or runtime model names, plus the entries `all_entries` / `category` /
    `where` select; `params` are `key=value` strings set on every model that has that key.
    A failing model is reported in the result (`result.failed`), not raised.
    `record` writes each benchmarked entry's [performance] table (`dry_run`: only the diffs, in
    `result.recorded`); `output` writes the result as JSON.
    """
    from modreg.errors import UsageError
    from modreg.forecast.bench.harness import BenchOptions, run_bench

    if dry_run and not record:
        raise UsageError("--dry-run applies only with --record.", hint="add --record to see the [performance] diffs.")
    if record:
        from modreg.forecast.bench.record import check_recordable

        check_recordable(quick)
        open_registry(registry)  # fail before benchmarking when there is no registry to record in
    options = BenchOptions(horizon=horizon, windows=windows, step=step, season=season, max_steps=max_steps, quick=quick,
                           jobs=jobs, timeout=timeout, seed=seed, refit=refit, executor=executor, scheduler=scheduler,
                           params=tuple(params))
    selection = {"all": all_entries, "category": category, "where": where}
    result = run_bench(targets, data=data, options=options, registry=registry, select=selection, progress=progress)
    if record:
        from modreg.forecast.bench.record import record_performance

        result.recorded = record_performance(result, registry, today=today, dry_run=dry_run)
    if output is not None:
        _write_json(Path(output), result.to_dict())
    return result


def _write_json(path: Path, document: Any) -> None:
    from modreg.errors import UsageError
    from modreg.outputs.canonical import dumps_canonical
    from modreg._fs import write_atomic

    try:
        write_atomic(path, dumps_canonical(document))
    except OSError as error:
        raise UsageError(f"modreg cannot write {path} ({error.strerror or error}).", path=path) from None


def templates(registry: str | Path | None = None) -> list[Template]:
    """The registry's runtime templates (`modreg templates`), sorted by name."""
    from modreg.registry.templates import load_templates

    return list(load_templates(open_registry(registry)).values())


def register(
    name: str | None = None,
    *,
    registry: str | Path | None = None,
    category: str | None = None,
    from_files: Sequence[str | Path] = (),
    summary: str | None = None,
    description: str | None = None,
    authors: Sequence[str] = (),
    tags: Sequence[str] = (),
    capabilities: Sequence[str] = (),
    version: str = "0.1.0",
    runtime_model: str | None = None,
    params: Mapping[str, Any] | None = None,
    fmt: str = "toml",
    dry_run: bool = False,
    lock_timeout: float = 10.0,
    today: dt.date | None = None,
) -> list[BatchItem]:
    """Register a new entry from fields, or adopt hand-written files (`modreg register`).

    With `from_files` every file is tried and each result (its Mutation or its error) returned;
    otherwise the one entry `name` is created and an error is raised. An existing name, in any
    case or suffix, is a Conflict.
    """
    import datetime as dt

    from modreg.errors import UsageError
    from modreg.registry.changes import adopt, new_entry
    from modreg.registry.mutate import BatchItem, create_entry, run_batch

    paths = open_registry(registry)
    day = today or dt.date.today()
    if from_files:
        fields = (category, summary, description, runtime_model, params, *authors, *tags, *capabilities)
        if name is not None or any(field for field in fields):
            raise UsageError("Give either a NAME with its fields or --from FILE..., not both.", hint="an adopted file brings its own fields.")
        return run_batch([Path(f) for f in from_files], lambda f: adopt(paths, f, day, dry_run=dry_run, lock_timeout=lock_timeout))
    if name is None or category is None or fmt not in ("toml", "yaml"):
        raise UsageError("register needs a NAME and --category (or --from FILE...).", hint="e.g. `modreg register MyModel --category custom --summary \"...\"`.")
    data = new_entry(
        name, category=category, today=day, version=version, summary=summary, description=description, authors=authors,
        tags=tags, capabilities=capabilities, runtime_model=runtime_model, params=params,
    )
    return [BatchItem(name, create_entry(paths, data, fmt, command="register", dry_run=dry_run, lock_timeout=lock_timeout))]


def show(name: str, *, registry: str | Path | None = None, at: str | None = None) -> Entry:
    """One entry's descriptor (`modreg show`), or as it was at the git revision `at`;
    NotFound suggests the closest name."""
    from modreg.registry.entries import load_entry

    if at is not None:
        from modreg.registry.gitview import show_at

        return show_at(open_registry(registry), name, at)
    return load_entry(open_registry(registry), name)


def list_entries(
    *,
    registry: str | Path | None = None,
    category: str | None = None,
    status: str | None = None,
    tags: Sequence[str] = (),
) -> Listing:
    """The entries matching every filter given, sorted by name (`modreg list`)."""
    from modreg.registry.entries import list_rows

    return list_rows(open_registry(registry), category=category, status=status, tags=tags)


def update(
    name: str,
    *,
    registry: str | Path | None = None,
    summary: str | None = None,
    description: str | None = None,
    add_tags: Sequence[str] = (),
    remove_tags: Sequence[str] = (),
    add_capabilities: Sequence[str] = (),
    remove_capabilities: Sequence[str] = (),
    add_authors: Sequence[str] = (),
    remove_authors: Sequence[str] = (),
    set_values: Mapping[str, Any] | None = None,
    unset: Sequence[str] = (),
    dry_run: bool = False,
    lock_timeout: float = 10.0,
    today: dt.date | None = None,
) -> Mutation:
    """Change fields of an entry, keeping its file's comments and layout (`modreg update`).

    `set_values` maps dotted keys (`metadata.paper`, `runtime.params.h`) to values; `updated`
    becomes `today` when anything changed.
    """
    import datetime as dt

    from modreg.errors import UsageError
    from modreg.registry.changes import Update
    from modreg.registry.mutate import update_entry

    change = Update(
        summary, description, tuple(add_tags), tuple(remove_tags), tuple(add_capabilities), tuple(remove_capabilities),
        tuple(add_authors), tuple(remove_authors), dict(set_values or {}), tuple(unset),
    )
    if change.is_empty():
        raise UsageError(f"Nothing to update in `{name}`.", hint="give --summary, --description, --tag, --set KEY=VALUE, ... (see `modreg update --help`).")
    day = today or dt.date.today()
    paths = open_registry(registry)
    return update_entry(paths, name, lambda data: change.apply(data, day), command="update", dry_run=dry_run, lock_timeout=lock_timeout)


def validate(
    paths: Sequence[str | Path] = (),
    *,
    registry: str | Path | None = None,
    strict: bool = False,
) -> ValidationReport:
    """Every problem of the registry, or of `paths` in it (`modreg validate`).

    `paths` may be descriptor, template, plugin-manifest or config files, or folders; they
    are checked against the whole registry. With `strict`, warnings count as errors.
    """
    from modreg.registry.validate import check_registry

    return check_registry(open_registry(registry), [Path(p) for p in paths] or None, strict=strict)


def schema(name: str) -> dict[str, Any]:
    """A JSON Schema (`modreg schema NAME`): descriptor, config, plugin or template, or a
    runtime model's parameter schema; NotFound (with the closest name) for anything else."""
    from modreg.errors import NotFound
    from modreg.registry._schemacheck import SCHEMA_NAMES, did_you_mean, load_schema, runtime_models

    if name in SCHEMA_NAMES:
        return load_schema(name)
    models = runtime_models()
    if name in models and "params" in models[name]:
        return models[name]["params"]
    registered = _registered_model_schema(name)
    if registered is not None:
        return registered
    known = [*SCHEMA_NAMES, *sorted(models)]
    raise NotFound(
        f"No schema named `{name}`: neither a file schema nor a runtime model.",
        hint=did_you_mean(name, known) or f"choose one of: {', '.join(known)}.",
    )


def _registered_model_schema(name: str) -> dict[str, Any] | None:
    """The parameter schema of a runtime model registered at run time (a plugin's), if any."""
    from modreg.runtime.factory import is_registered, get_model
    from modreg.runtime.params import schema_for

    return schema_for(get_model(name).cls) if is_registered(name) else None


def load_entries(registry: str | Path | None = None) -> tuple[list[Descriptor], list[Problem]]:
    """Every descriptor of the registry, and a Problem per file that cannot be read."""
    from modreg.registry.descriptor import load_all

    return load_all(open_registry(registry))


def get_entry(name: str, *, registry: str | Path | None = None) -> Descriptor:
    """The descriptor of the entry `name`; NotFound suggests the closest name."""
    from modreg.registry.descriptor import load_descriptor
    from modreg.registry.entries import find_entry

    return load_descriptor(find_entry(open_registry(registry), name))


def search(
    text: str = "",
    *,
    registry: str | Path | None = None,
    tags: Sequence[str] = (),
    categories: Sequence[str] = (),
    capabilities: Sequence[str] = (),
    statuses: Sequence[str] = (),
    authors: Sequence[str] = (),
    where: str | None = None,
    sort: str | None = None,
    limit: int | None = None,
) -> SearchResult:
    """Entries ranked by `text` (BM25) and narrowed by filters and a `where` expression
    (`modreg search`); `sort` is a dotted field, `-field` for descending; `limit` 0/None: all.

    Raises UsageError for a bad expression (with its column) or an unknown field.
    """
    from modreg.registry.search import SearchQuery
    from modreg.registry.search import search as run_search

    query = SearchQuery(
        text, tuple(tags), tuple(categories), tuple(capabilities), tuple(statuses), tuple(authors), where, sort, limit
    )
    return run_search(open_registry(registry), query)


def index(*, registry: str | Path | None = None, check: bool = False, lock_timeout: float = 10.0) -> OutputsResult:
    """Write the JSON files of index/ that changed, or with `check` list the stale ones (`modreg index`)."""
    from modreg.registry.generated import generate

    return generate(open_registry(registry), ("index",), command="index", check=check, lock_timeout=lock_timeout)


def report(*, registry: str | Path | None = None, check: bool = False, lock_timeout: float = 10.0) -> OutputsResult:
    """Write the markdown reports that changed, or with `check` list the stale ones (`modreg report`)."""
    from modreg.registry.generated import generate

    return generate(open_registry(registry), ("report",), command="report", check=check, lock_timeout=lock_timeout)


def build(
    *, registry: str | Path | None = None, check: bool = False, strict: bool = False, lock_timeout: float = 10.0
) -> OutputsResult:
    """Validate, then index and report (`modreg build`, the one CI step).

    With validation errors nothing is compared or written and the result holds the problems;
    with `check` nothing is written and `stale` lists the files that differ.
    """
    from modreg.registry.generated import KINDS, OutputsResult, generate
    from modreg.registry.validate import check_registry

    paths = open_registry(registry)
    validation = check_registry(paths, strict=strict)
    if not validation.ok:
        return OutputsResult("build", check, problems=validation.problems)
    return generate(paths, KINDS, command="build", check=check, lock_timeout=lock_timeout, problems=validation.problems)


def stats(*, registry: str | Path | None = None) -> Statistics:
    """Counts by category and status, tags, deprecations and leaderboards (`modreg stats`)."""
    from modreg.registry.generated import statistics

    return statistics(open_registry(registry))


# ----- Versions, history, comparisons and the lifecycle -----


def version(
    name: str,
    *,
    message: str,
    registry: str | Path | None = None,
    bump: str | None = None,
    set_version: str | None = None,
    artifacts: Sequence[str | Path] = (),
    dry_run: bool = False,
    lock_timeout: float = 10.0,
    today: dt.date | None = None,
) -> Mutation:
    """A new version of an entry (`modreg version`): `bump` major|minor|patch or `set_version`.

    Appends a [[history]] entry (version, date, `message`, the `artifacts` files by path and
    sha256, a snapshot of status, runtime, performance, dependencies and metadata), sets
    `version` and `updated`, and trims history to the registry's `max_history`. A version not
    greater than the current one is a Conflict.
    """
    import datetime as dt

    from modreg.registry.config import load_config
    from modreg.registry.history import artifact_record, bumped
    from modreg.registry.mutate import update_entry

    paths = open_registry(registry)
    day = today or dt.date.today()
    records = [artifact_record(paths, path) for path in artifacts]
    keep = load_config(paths).max_history

    def change(data: dict[str, Any]) -> dict[str, Any]:
        return bumped(data, name=name, part=bump, to=set_version, message=message, today=day, artifacts=records, max_history=keep)

    return update_entry(paths, name, change, command="version", dry_run=dry_run, lock_timeout=lock_timeout)


def history(name: str, *, registry: str | Path | None = None) -> History:
    """An entry's recorded versions, oldest first (`modreg history`)."""
    from modreg.registry.entries import load_entry
    from modreg.registry.history import read_history

    entry = load_entry(open_registry(registry), name)
    return read_history(entry.name, entry.data)


def diff(name: str, old: str, new: str = "current", *, registry: str | Path | None = None) -> EntryDiff:
    """What differs between two versions of an entry (`modreg diff NAME A B`).

    A version is one recorded in [[history]] (its snapshot), or `current`: the file as it is.
    """
    from modreg.registry.diff import diff_versions
    from modreg.registry.entries import load_entry

    entry = load_entry(open_registry(registry), name)
    return diff_versions(entry.name, entry.data, old, new)


def diff_git(revision: str, revision2: str | None = None, *, registry: str | Path | None = None) -> RegistryDiff:
    """Every entry added, removed, deprecated or changed between two git revisions, or a
    revision and the working tree (`modreg diff --git REV [REV2]`)."""
    from modreg.registry.gitview import diff_git as compare_revisions

    return compare_revisions(open_registry(registry), revision, revision2)


def deprecate(
    name: str,
    *,
    reason: str,
    registry: str | Path | None = None,
    replacement: str | None = None,
    sunset: str | dt.date | None = None,
    dry_run: bool = False,
    lock_timeout: float = 10.0,
    today: dt.date | None = None,
) -> Mutation:
    """Deprecate an entry (`modreg deprecate`): the replacement must exist and be active, the
    sunset (YYYY-MM-DD) must be in the future."""
    import datetime as dt

    from modreg.registry.lifecycle import check_replacement, deprecated, parse_date
    from modreg.registry.mutate import transaction

    paths = open_registry(registry)
    day = today or dt.date.today()
    end = parse_date(sunset, "--sunset") if sunset is not None else None

    def change(data: dict[str, Any]) -> dict[str, Any]:
        instead = check_replacement(paths, name, replacement) if replacement is not None else None
        return deprecated(data, name=name, reason=reason, replacement=instead, sunset=end, today=day)

    with transaction(paths, "deprecate", dry_run=dry_run, lock_timeout=lock_timeout) as txn:
        txn.edit(name, change)
    return txn.results[0]


def archive(
    name: str, *, registry: str | Path | None = None, dry_run: bool = False, lock_timeout: float = 10.0, today: dt.date | None = None
) -> Mutation:
    """Archive a deprecated entry (`modreg archive`)."""
    import datetime as dt

    from modreg.registry.lifecycle import archived
    from modreg.registry.mutate import update_entry

    day = today or dt.date.today()
    return update_entry(open_registry(registry), name, lambda data: archived(data, name=name, today=day), command="archive", dry_run=dry_run, lock_timeout=lock_timeout)


def restore(
    name: str, *, registry: str | Path | None = None, dry_run: bool = False, lock_timeout: float = 10.0, today: dt.date | None = None
) -> Mutation:
    """Make a deprecated or archived entry active again, its deprecation cleared (`modreg restore`)."""
    import datetime as dt

    from modreg.registry.lifecycle import restored
    from modreg.registry.mutate import update_entry

    day = today or dt.date.today()
    return update_entry(open_registry(registry), name, lambda data: restored(data, name=name, today=day), command="restore", dry_run=dry_run, lock_timeout=lock_timeout)


def delete(
    name: str, *, registry: str | Path | None = None, force: bool = False, dry_run: bool = False, lock_timeout: float = 10.0
) -> Deletion:
    """Delete an entry, keeping its file in .modreg/trash/ (`modreg delete`).

    Refused with a Conflict listing them when other entries depend on it or name it as their
    replacement, unless `force`.
    """
    from modreg.registry.entries import find_entry
    from modreg.registry.lifecycle import Deletion, dependents, refuse_if_needed
    from modreg.registry.mutate import transaction

    paths = open_registry(registry)
    with transaction(paths, "delete", dry_run=dry_run, lock_timeout=lock_timeout) as txn:
        stem = find_entry(paths, name).stem
        found = dependents(paths, stem)
        if not force:
            refuse_if_needed(stem, found)
        txn.delete(stem, trash=paths.trash, force=force)
    return Deletion(txn.results[0], found)


def audit(name: str | None = None, *, registry: str | Path | None = None) -> list[AuditEntry]:
    """The audit log, oldest first; only the entries about `name` when given (`modreg audit`)."""
    from modreg.registry.audit import read_audit

    return read_audit(open_registry(registry), name)


# ----- Plugins -----


def _plugin_registry(registry: str | Path | None) -> RegistryPaths | None:
    """The registry, or None when none was named and none is found (installed plugins only)."""
    from modreg.errors import NotFound

    if registry is not None:
        return open_registry(registry)
    try:
        return open_registry(None)
    except NotFound:
        return None


def plugin_list(*, registry: str | Path | None = None) -> list[PluginInfo]:
    """Every plugin: the registry's plugin folders, then installed ones (`modreg plugin list`).

    Each is verified without running its code; its `status` and `error` say what was found.
    """
    from modreg.plugins.inventory import inspect_plugins

    return inspect_plugins(_plugin_registry(registry))


def plugin_verify(name: str | None = None, *, registry: str | Path | None = None) -> list[PluginInfo]:
    """Verify every plugin, or the one named, without running plugin code (`modreg plugin verify`).

    Batch semantics: every plugin is checked and reported; failures are in the results, not raised.
    """
    from modreg.plugins.inventory import inspect_plugins

    return inspect_plugins(_plugin_registry(registry), name)


def plugin_lock(name: str, *, registry: str | Path | None = None, dry_run: bool = False,
                lock_timeout: float = 10.0) -> LockResult:
    """Write the sha256 of every file of the registry plugin `name` into its plugin.toml (`modreg plugin lock`)."""
    from modreg.plugins.checksums import lock_plugin
    from modreg.plugins.inventory import plugin_targets

    paths = open_registry(registry)
    folders = [t.folder for t in plugin_targets(paths, name) if t.folder is not None]
    if not folders:
        from modreg.plugins.base import PluginNotFound

        raise PluginNotFound(name, "it is an installed package, not a plugin folder of the registry, so it has no checksums to lock.")
    return lock_plugin(paths, folders[0], dry_run=dry_run, lock_timeout=lock_timeout)


def plugin_health(name: str | None = None, *, registry: str | Path | None = None, timeout: float = 60.0) -> list[HealthReport]:
    """Try every plugin (or the one named) in a child process killed after `timeout` seconds (`modreg plugin health`)."""
    from modreg.plugins.health import check_health

    return check_health(_plugin_registry(registry), name, timeout=timeout)


def discover(target: str | None = None, *, registry: str | Path | None = None, register: bool = False,
             dry_run: bool = False, authors: Sequence[str] = (), tags: Sequence[str] = (), lock_timeout: float = 10.0,
             today: dt.date | None = None) -> DiscoverResult:
    """Find the models of a package, a plugin folder or the registry's plugins; register new ones (`modreg discover`).

    New entries take `authors` (default: the plugin's or the package's) and `tags` as well.
    """
    from modreg.plugins.discover import discover_models

    paths = open_registry(registry) if register or dry_run else _plugin_registry(registry)
    return discover_models(paths, target, register=register, dry_run=dry_run, authors=authors, tags=tags,
                           lock_timeout=lock_timeout, today=today)
