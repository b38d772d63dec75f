"""Artifact checks: every file a descriptor records under [[artifacts]] is there, byte for byte.

An artifact is `{path, sha256}` with `path` relative to the registry root (written by
`modreg version --artifact` or `modreg run --save`). `modreg validate` hashes each one:

- an entry's own `[[artifacts]]` must exist and match: a missing or changed file is an
  integrity failure (exit 5), named in the problem;
- the artifacts of older versions (`[[history]]`) must match when present; one no longer on
  disk is only a warning, since old files are often cleaned away;
- a path that leaves the registry is an ordinary error: it would not mean the same file on
  another checkout.

Only files whose text mentions `artifacts` are parsed, so the check costs a read of each
descriptor plus the hashing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modreg.errors import ModregError, NotFound, Problem, UsageError
from modreg.registry.store.files import SourceDoc, display_path, locate, read_document
from modreg.registry.store.layout import RegistryPaths

__all__ = ["ArtifactCheck", "artifact_record", "check_artifacts", "file_sha256"]

JsonPath = tuple[str | int, ...]


@dataclass
class ArtifactCheck:
    """What the check found: all problems, those that are integrity failures (exit 5), and
    the files they are about (one file may be recorded by a version and by the entry)."""

    problems: list[Problem] = field(default_factory=list)
    broken: list[Problem] = field(default_factory=list)
    broken_files: set[str] = field(default_factory=set)


def check_artifacts(root: Path, files: list[Path]) -> ArtifactCheck:
    """Check the artifacts recorded by the descriptor `files` of the registry at `root`."""
    result = ArtifactCheck()
    hashes: dict[Path, str | None] = {}
    for path in files:
        doc = _read(path)
        if doc is None:
            continue
        for at, record, current in _records(doc.data):
            _check_one(result, doc, root, at, record, current, hashes)
    return result


def _read(path: Path) -> SourceDoc | None:
    """The descriptor, when it records artifacts and parses (else validate reports it)."""
    from modreg._fs import open_plain
    from modreg.registry.store.files import MAX_BYTES

    try:
        with open_plain(path) as handle:  # never through a link, never a pipe, never past the limit
            if b"artifacts" not in handle.read(MAX_BYTES + 1):
                return None
        return read_document(path)
    except (OSError, ModregError):
        return None


def _records(data: dict[str, Any]) -> Iterator[tuple[JsonPath, dict[str, Any], bool]]:
    """(json path, {path, sha256}, is the entry's own) for every artifact in the descriptor."""
    for index, record in enumerate(_list(data.get("artifacts"))):
        yield ("artifacts", index), record, True
    for h, item in enumerate(_list(data.get("history"))):
        for index, record in enumerate(_list(item.get("artifacts"))):
            yield ("history", h, "artifacts", index), record, False


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _check_one(
    result: ArtifactCheck,
    doc: SourceDoc,
    root: Path,
    at: JsonPath,
    record: dict[str, Any],
    current: bool,
    hashes: dict[Path, str | None],
) -> None:
    relative, expected = record.get("path"), record.get("sha256")
    if not isinstance(relative, str) or not isinstance(expected, str):
        return  # the schema reports a malformed record
    if Path(relative).is_absolute() or "\\" in relative:
        _add(result, doc, (*at, "path"), f"artifact path `{relative}` is absolute, so it means nothing on another checkout",
             "record it relative to the registry root, e.g. artifacts/NAME.npz.")
        return
    target = (root / relative).resolve()
    if root.resolve() not in target.parents:
        _add(result, doc, (*at, "path"), f"artifact path `{relative}` leads outside the registry", "record a path inside the registry, relative to its root.")
        return
    if target.exists() and not target.is_file():  # a pipe would never end the hash, a folder has none
        _add(result, doc, (*at, "path"), f"artifact `{relative}` is not a plain file", "replace it with the file it records.",
             broken=relative)
        return
    if target not in hashes:
        hashes[target] = file_sha256(target) if target.is_file() else None
    actual = hashes[target]
    if actual is None and current:
        _add(result, doc, (*at, "path"), f"artifact `{relative}` does not exist", "restore the file, or remove its [[artifacts]] record.", broken=relative)
    elif actual is None:
        _add(result, doc, (*at, "path"), f"artifact `{relative}` of an older version is no longer on disk", "remove the record from [[history]] if the file was dropped on purpose.", severity="warning")
    elif actual != expected:
        _add(
            result, doc, (*at, "sha256"),
            f"artifact `{relative}` does not match its sha256 (recorded {expected[:12]}…, the file has {actual[:12]}…)",
            "the file changed after it was recorded: restore it, or record the new file with `modreg version NAME --artifact PATH`.",
            broken=relative,
        )


def _add(
    result: ArtifactCheck, doc: SourceDoc, at: JsonPath, message: str, hint: str, *, broken: str = "", severity: str = "error"
) -> None:
    """Record a problem; `broken` names the artifact when it is an integrity failure."""
    from modreg.registry.checks._schemacheck import json_path_text

    line, col = locate(doc, at)
    problem = Problem(display_path(doc.path), line, col, message, json_path_text(at), hint, severity)
    result.problems.append(problem)
    if broken:
        result.broken.append(problem)
        result.broken_files.add(broken)


def artifact_record(paths: RegistryPaths, file: str | Path) -> dict[str, str]:
    """`{"path": relative to the registry root, "sha256": ...}` for a file inside the registry.

    Raises:
        NotFound: the file does not exist.
        UsageError: it is a folder, or outside the registry (its path would not mean the same
            on another checkout).
    """
    path = Path(file).expanduser().resolve()
    if not path.exists():
        raise NotFound(f"The artifact {file} does not exist.", hint="write it first, e.g. with `modreg run NAME --save PATH`.", path=file)
    if not path.is_file():
        raise UsageError(f"The artifact {file} is not a file.", path=file)
    root = paths.root.resolve()
    if root not in path.parents:
        raise UsageError(
            f"The artifact {file} is outside the registry at {root}.",
            hint="artifacts are recorded relative to the registry root; move it into the registry (e.g. artifacts/).",
            path=file,
        )
    return {"path": path.relative_to(root).as_posix(), "sha256": file_sha256(path)}


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
