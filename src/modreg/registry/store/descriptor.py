"""Model descriptors: the parsed file as an object, canonical key order, TOML/YAML writers.

Brand-new files are written in `CANONICAL_ORDER` (identity, then prose, then dates, then the
tables), so every generated descriptor reads the same way. Existing files are edited by
round-trip libraries elsewhere and keep the order their author chose.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modreg.errors import Problem, UsageError
from modreg.registry.store.files import SourceDoc, problem_from_error, read_document, read_documents

if TYPE_CHECKING:
    from modreg.registry.store.layout import RegistryPaths

__all__ = [
    "CANONICAL_ORDER",
    "Descriptor",
    "load_descriptor",
    "load_all",
    "canonical",
    "dumps_toml",
    "dumps_yaml",
]

CANONICAL_ORDER: tuple[str, ...] = (
    "schema_version",
    "name",
    "version",
    "category",
    "status",
    "summary",
    "description",
    "authors",
    "tags",
    "capabilities",
    "created",
    "updated",
    "runtime",
    "dependencies",
    "deprecation",
    "performance",
    "artifacts",
    "history",
    "metadata",
)
_TABLE_ORDER: dict[str, tuple[str, ...]] = {
    "runtime": ("model", "template", "precision", "params"),
    "deprecation": ("reason", "replacement", "since", "sunset"),
}
_HISTORY_ORDER = ("version", "date", "summary", "artifacts", "snapshot")


@dataclass
class Descriptor:
    """One model entry as read from its file."""

    path: Path
    doc: SourceDoc

    @property
    def data(self) -> dict[str, Any]:
        return self.doc.data

    @property
    def name(self) -> str:
        """The `name` key, or the file stem when the key is missing or not a string."""
        name = self.data.get("name")
        return name if isinstance(name, str) else self.path.stem

    @property
    def version(self) -> str:
        return _text(self.data.get("version"))

    @property
    def category(self) -> str:
        return _text(self.data.get("category"))

    @property
    def status(self) -> str:
        return _text(self.data.get("status")) or "active"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def load_descriptor(path: Path) -> Descriptor:
    """Read one descriptor file (see `files.read_document` for what it refuses)."""
    return Descriptor(path, read_document(path))


def load_all(paths: RegistryPaths) -> tuple[list[Descriptor], list[Problem]]:
    """Every descriptor under models/, and a Problem for each file that cannot be read."""
    files = paths.descriptor_files()
    descriptors: list[Descriptor] = []
    problems: list[Problem] = []
    for path, result in zip(files, read_documents(files)):
        if isinstance(result, SourceDoc):
            descriptors.append(Descriptor(path, result))
        else:
            problems.append(problem_from_error(result, path))
    return descriptors, problems


def canonical(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with top-level keys in CANONICAL_ORDER, then the other keys sorted.

    `runtime`, `deprecation` and each `history` entry get their own fixed order too; free-form
    tables (params, metadata, performance, dependencies) keep the order they were given in.
    """
    ordered = _ordered(data, CANONICAL_ORDER)
    for key, order in _TABLE_ORDER.items():
        if isinstance(ordered.get(key), dict):
            ordered[key] = _ordered(ordered[key], order)
    if isinstance(ordered.get("history"), list):
        ordered["history"] = [
            _ordered(item, _HISTORY_ORDER) if isinstance(item, dict) else item for item in ordered["history"]
        ]
    return ordered


def _ordered(data: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    known = [key for key in order if key in data]
    rest = sorted(key for key in data if key not in order)
    return {key: data[key] for key in (*known, *rest)}


def dumps_toml(data: dict[str, Any]) -> str:
    """A descriptor as TOML text in canonical order; multi-line strings stay readable."""
    import tomli_w

    _refuse_nulls(data, ())
    return tomli_w.dumps(canonical(data), multiline_strings=not _has_control_text(data))


def _has_control_text(value: Any) -> bool:
    """Whether a string holds a control character other than a line break or a tab: tomli-w
    would write a CR raw into a multi-line string, where readers take CR LF as LF."""
    from modreg.registry.store._toml_edit import is_plain_text

    if isinstance(value, str):
        return not is_plain_text(value)
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return any(_has_control_text(child) for child in children)


def _refuse_nulls(value: Any, where: tuple[str | int, ...]) -> None:
    if value is None:
        dotted = ".".join(str(part) for part in where) or "the document"
        raise UsageError(
            f"{dotted} is null, which TOML cannot hold.",
            hint="remove the key, or write the descriptor as YAML.",
        )
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        _refuse_nulls(child, (*where, key))


def dumps_yaml(data: dict[str, Any]) -> str:
    """A descriptor as YAML text in canonical order: dates as dates, prose as `|` blocks."""
    import yaml

    return yaml.dump(
        canonical(data),
        Dumper=_yaml_dumper(),
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=4096,
    )


@functools.cache
def _yaml_dumper() -> type:
    import yaml

    base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    class _Dumper(base):  # type: ignore[misc, valid-type]
        """Safe dumper writing multi-line strings as literal blocks."""

        def ignore_aliases(self, data: Any) -> bool:
            return True  # a value used twice (one date for created and updated) is written twice, never as &anchor

    def represent_str(dumper: Any, value: str) -> Any:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, represent_str)
    return _Dumper
