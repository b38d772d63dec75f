"""`modreg validate`: every problem of a registry at once, each at its file, line and column.

Per file (in worker processes when there are many): the JSON Schema, the name against the
file stem, the registry's policy (modreg.toml), lifecycle consistency, version history order,
dependency range syntax, and the runtime model with its parameter schema. Across files
(`_crosscheck`): one entry per name ignoring case and suffix, dependencies that exist and
satisfy their ranges, no cycles, deprecation replacements that exist and are active, and an
Ensemble's members (in an entry or a template) checked like dependencies (`members.py`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modreg._fs import refuse_links
from modreg.errors import ModregError, NotFound, Problem
from modreg.registry.checks import _schemacheck, members
from modreg.registry.checks.context import EntrySummary, ValidationContext, build_context, context_for, plugin_manifests
from modreg.registry.checks._schemacheck import did_you_mean, load_schema, schema_problems
from modreg.registry.checks.config import RegistryConfig, check_config
from modreg.registry.store.files import (
    SourceDoc,
    display_path,
    locate,
    problem_from_error,
    read_document,
)
from modreg.registry.store.layout import DESCRIPTOR_SUFFIXES, RegistryPaths
from modreg.registry.store.names import check_name

__all__ = [
    "ValidationReport",
    "check_registry",
    "validate_registry",
    "validate_data",
    "load_schema",
    "schema_problems",
    "sort_problems",
]

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class ValidationReport:
    """What `modreg validate` found: every problem, and how many files were checked."""

    problems: list[Problem]
    files: int
    broken: int = 0  # artifact files missing or not matching their sha256: an integrity failure (exit 5)
    tampered: int = 0  # plugin files not matching their manifest's sha256 (found by the plugin layer): exit 5

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed)."""
        return self.errors == 0

    def to_dict(self) -> dict[str, Any]:
        return {"problems": [p.to_dict() for p in self.problems], "files": self.files, "ok": self.ok, "broken_artifacts": self.broken,
                "tampered_plugins": self.tampered}


def validate_registry(paths: RegistryPaths, files: list[Path] | None = None, *, strict: bool = False) -> list[Problem]:
    """Every problem of the registry (or of `files` in it, checked against the rest), sorted.

    Warnings (deprecated dependencies, past sunsets, YAML 1.1 surprises) become errors with
    `strict`.
    """
    return check_registry(paths, files, strict=strict).problems


def check_registry(paths: RegistryPaths, files: list[Path] | None = None, *, strict: bool = False) -> ValidationReport:
    """`validate_registry` with the count of files checked."""
    from modreg.registry.checks import _crosscheck
    from modreg.registry.store._parallel import map_chunked
    from modreg.registry.checks.artifacts import check_artifacts

    config, problems = check_config(paths)
    context, _ = build_context(paths, config)  # unreadable files are reported by their own check
    jobs, wanted = _jobs(paths, config, files)
    config_checked = files is None or str(paths.config.resolve()) in wanted
    if not config_checked:
        problems = []
    _schemacheck.warm_up()
    results = map_chunked(_check_chunk, [(context, job) for job in jobs])
    for file_problems, _ in results:
        problems.extend(file_problems)
    templates = [members.template_summary(path, context.templates[Path(path).stem]) for path, kind, selected in jobs
                 if kind == "template" and selected and context.templates.get(Path(path).stem, {}).get("model") == members.ENSEMBLE]
    problems.extend(_crosscheck.check([summary for _, summary in results if summary is not None], context, templates))
    artifacts = check_artifacts(paths.root, [Path(path) for path, kind, selected in jobs if kind == "descriptor" and selected])
    problems.extend(artifacts.problems)
    if strict:
        problems = [_as_error(p) for p in problems]
    checked = sum(1 for _, _, selected in jobs if selected) + int(config_checked)
    return ValidationReport(sort_problems(problems), checked, len(artifacts.broken_files))


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Problems by file, line, column, then errors before warnings."""
    unique = {(p.path, p.line, p.col, p.message, p.json_path, p.severity): p for p in problems}
    return sorted(unique.values(), key=lambda p: (p.path, p.line, p.col, p.severity != "error", p.message))


def _as_error(problem: Problem) -> Problem:
    return problem if problem.severity == "error" else dataclasses.replace(problem, severity="error")


# ----- which files -----


def _jobs(
    paths: RegistryPaths, config: RegistryConfig, files: list[Path] | None
) -> tuple[list[tuple[str, str, bool]], set[str]]:
    """(path, kind, selected) for every file to read, and the resolved selected paths.

    Paths are strings: 10,000 Path objects cost more to build and to send to workers than
    the work they name."""
    root = RegistryPaths(paths.root.resolve())
    descriptors = _descriptor_files(root)
    others = [str(p) for p in (*root.template_files(), *plugin_manifests(root, config))]
    if files is None:
        jobs = [(p, "descriptor", True) for p in descriptors]
        return jobs + [(p, _kind(Path(p), root), True) for p in others], {*descriptors, *others}
    selected = {str(p) for p in _expand(files, root)}
    known = set(descriptors)
    extra = sorted(p for p in selected if p not in known and _kind(Path(p), root) == "descriptor")
    jobs = [(p, "descriptor", p in selected) for p in (*descriptors, *extra)]
    jobs += [(p, _kind(Path(p), root), True) for p in others if p in selected]
    return jobs, selected


def _descriptor_files(paths: RegistryPaths) -> list[str]:
    """`paths.descriptor_files()` as strings, by os.scandir (no stat per file)."""
    folder = str(paths.models)
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    names = sorted(e.name for e in entries  # a link or a pipe too: reading it reports it
                   if os.path.splitext(e.name)[1] in DESCRIPTOR_SUFFIXES and not e.is_dir(follow_symlinks=False))
    return [os.path.join(folder, name) for name in names]


def _expand(files: list[Path], paths: RegistryPaths) -> list[Path]:
    """Given files, and the registry files (or any descriptor-like files) under given folders."""
    expanded: list[Path] = []
    for path in files:
        if path.is_dir():
            found = (p.resolve() for p in sorted(path.rglob("*")) if p.suffix in DESCRIPTOR_SUFFIXES and p.is_file())
            expanded.extend(p for p in found if not _is_generated(p, path.resolve()) and _is_checkable(p, paths))
        elif path.is_file():
            expanded.append(path.resolve())
        else:
            raise NotFound(f"{path} does not exist.", hint="pass descriptor files or folders of a registry.", path=path)
    return expanded


def _is_generated(path: Path, top: Path) -> bool:
    parts = path.relative_to(top).parts
    return any(part.startswith(".") or part in ("index", "reports") for part in parts[:-1])


def _is_checkable(path: Path, paths: RegistryPaths) -> bool:
    """Inside the registry only its own kinds of file; outside it, any descriptor-like file."""
    root = paths.root.resolve()
    if root not in path.parents:
        return True
    if _kind(path, paths) in ("config", "plugin", "template"):
        return True
    return path.parent == paths.models.resolve()


def _kind(path: Path, paths: RegistryPaths) -> str:
    resolved = path.resolve()
    if resolved == paths.config.resolve():
        return "config"
    if path.name == "plugin.toml":
        return "plugin"
    if resolved.parent == paths.templates.resolve():
        return "template"
    return "descriptor"


# ----- one file -----


def _check_chunk(chunk: list[tuple[ValidationContext, tuple[str, str, bool]]]) -> list[tuple[list[Problem], EntrySummary | None]]:
    return [_check_file(context, *job) for context, job in chunk]


def _check_file(context: ValidationContext, name: str, kind: str, selected: bool) -> tuple[list[Problem], EntrySummary | None]:
    path = Path(name)
    try:
        if kind == "plugin" and context.config.root is not None:  # plugins/<name> may be a link: never read through it
            refuse_links(context.config.root, path)
        doc = read_document(path)
    except ModregError as error:
        summary = EntrySummary(name, path.stem, selected) if kind == "descriptor" else None
        return ([problem_from_error(error, path)] if selected else []), summary
    problems = validate_data(doc.data, path, doc, context.config, kind=kind, context=context) if selected else []
    return problems, (_summary(name, doc.data, selected) if kind == "descriptor" else None)


def _summary(path: str | Path, data: dict[str, Any], selected: bool) -> EntrySummary:
    """The cross-file facts of one descriptor's data."""
    from modreg.registry.store.facets import links_of

    return EntrySummary(str(path), os.path.splitext(os.path.basename(path))[0], selected, *links_of(data))


def validate_data(
    data: dict[str, Any],
    path: Path,
    doc: SourceDoc | None,
    config: RegistryConfig,
    *,
    kind: str = "descriptor",
    context: ValidationContext | None = None,
) -> list[Problem]:
    """Every single-file problem of `data` (a descriptor unless `kind` says otherwise).

    Used by `validate` per file and by register/update before they write; `doc` gives line
    numbers (None: every problem is at line 1). Cross-file facts (plugin models, templates)
    come from `context`, else from the registry at `config.root`.
    """
    context = context or context_for(config)
    checker = _FileChecker(data, path, doc, context)
    return checker.run(kind)


class _FileChecker:
    """The checks of one file; each `_check_*` appends to `self.problems`."""

    def __init__(self, data: dict[str, Any], path: Path, doc: SourceDoc | None, context: ValidationContext) -> None:
        self.data = data
        self.path = path
        self.doc = doc
        self.context = context
        self.config = context.config
        self.problems: list[Problem] = []

    def add(self, at: JsonPath, message: str, hint: str | None = None, severity: str = "error") -> None:
        line, col = locate(self.doc, at) if self.doc is not None else (1, 1)
        text = _schemacheck.json_path_text(at)
        self.problems.append(Problem(display_path(self.path), line, col, message, text, hint, severity))

    def run(self, kind: str) -> list[Problem]:
        self.problems = schema_problems(kind, self.data, self.doc, path=self.path)
        flagged = {p.json_path for p in self.problems}
        if kind == "descriptor":
            self._check_descriptor(flagged)
        elif kind == "template":
            self._check_stem("name", "template")
            self._check_template()
        elif kind == "plugin":
            self._check_plugin()
        return self.problems

    def _check_descriptor(self, flagged: set[str]) -> None:
        from modreg.registry.checks import _entrychecks

        if "name" not in flagged:
            self._check_stem("name", "entry")
        _entrychecks.check_policy(self)
        _entrychecks.check_lifecycle(self)
        _entrychecks.check_history(self)
        _entrychecks.check_dependency_ranges(self)
        _entrychecks.check_runtime(self)
        members.check_member_params(self)
        _entrychecks.check_surprises(self)
        _entrychecks.check_finite_numbers(self)
        _entrychecks.check_one_line_fields(self)

    def _check_stem(self, key: str, what: str) -> None:
        name = self.data.get(key)
        if not isinstance(name, str):
            return
        reason = check_name(name)
        if reason is not None:
            self.add((key,), f"`{name}` is not a safe {what} name: {reason}", "rename it (and its file).")
        elif name != self.path.stem:
            suffix = self.path.suffix
            self.add(
                (key,),
                f"{what} name `{name}` does not match its file name `{self.path.name}`",
                f"rename the file to {name}{suffix}, or set the name to `{self.path.stem}`.",
            )

    def _check_template(self) -> None:
        from modreg.registry.checks import _entrychecks

        model, params = self.data.get("model"), self.data.get("params")
        if isinstance(model, str):
            _entrychecks.check_model_and_params(self, ("model",), model, params, ("params",), partial=True)
        members.check_member_params(self, template=True)

    def _check_plugin(self) -> None:
        name = self.data.get("name")
        if isinstance(name, str) and name != self.path.parent.name:
            self.add(
                ("name",),
                f"plugin name `{name}` does not match its folder `{self.path.parent.name}`",
                f"rename the folder to {name}, or set name = \"{self.path.parent.name}\".",
            )
        allowed = self.config.allowed_capabilities
        models = self.data.get("models") if isinstance(self.data.get("models"), list) else []
        for index, model in enumerate(models):
            for position, capability in enumerate(model.get("capabilities", []) if isinstance(model, dict) else []):
                if allowed and isinstance(capability, str) and capability not in allowed:
                    self.add(
                        ("models", index, "capabilities", position),
                        f"capability `{capability}` is not allowed by modreg.toml",
                        did_you_mean(capability, allowed) or f"allowed: {', '.join(allowed)}.",
                    )
