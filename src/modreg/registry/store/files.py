"""Reading TOML and YAML descriptors safely, keeping where every key was written.

`read_document` returns a `SourceDoc`: the text, the parsed data and a map from JSON paths
(`("runtime", "params", "h")`, `("tags", 1)`) to 1-based `(line, col)` so that validation can
point at the line a person edited. Before anything is parsed the text must be smaller than
`MAX_BYTES` and nest less than `MAX_DEPTH` levels (libyaml's C composer recurses per level and
crashes the interpreter on very deep input). YAML is read with PyYAML's safe loader (the C
one when available); anchors, aliases, merge keys and explicit tags are refused, and duplicate
keys are errors in both formats. TOML positions come from a small scanner (`_tomlmap`), run
only when a position is first asked for, since tomllib keeps none.
"""

from __future__ import annotations

import hashlib
import errno
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any, Literal

from modreg._fs import open_plain
from modreg._numbers import too_long_integer
from modreg.errors import IntegrityError, ModregError, NotFound, Problem, UsageError
from modreg.registry.store import _tomlmap

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "SourceDoc",
    "PositionMap",
    "read_document",
    "parse_text",
    "locate",
    "format_of",
    "read_documents",
    "display_path",
    "problem_from_error",
]

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
Format = Literal["toml", "yaml"]
JsonPath = tuple[str | int, ...]
Position = tuple[int, int]
_SUFFIX_FORMATS: dict[str, Format] = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml"}
_TOML_AT = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


class PositionMap(Mapping[JsonPath, Position]):
    """JSON path -> (line, col). For TOML it is computed from the text on first use."""

    def __init__(self, table: dict[JsonPath, Position] | None = None, *, toml_text: str | None = None) -> None:
        self._table = table
        self._toml_text = toml_text

    def _resolved(self) -> dict[JsonPath, Position]:
        if self._table is None:
            self._table = _tomlmap.scan(self._toml_text or "").positions
            self._toml_text = None
        return self._table

    def __getitem__(self, key: JsonPath) -> Position:
        return self._resolved()[key]

    def __iter__(self) -> Iterator[JsonPath]:
        return iter(self._resolved())

    def __len__(self) -> int:
        return len(self._resolved())

    def __repr__(self) -> str:
        return f"PositionMap({len(self)} paths)"


@dataclass(frozen=True)
class SourceDoc:
    """One parsed TOML/YAML file: its text, data, key positions and content hash.

    `surprises` lists YAML 1.1 plain scalars read as something else than they look like
    (`010` -> 8, `no` -> False) as `(json_path, literal, value)`, for validation warnings.
    """

    path: Path
    text: str
    data: dict[str, Any]
    positions: Mapping[JsonPath, Position]
    sha256: str
    fmt: Format = "toml"
    surprises: tuple[tuple[JsonPath, str, Any], ...] = field(default=(), compare=False)


def format_of(path: Path) -> Format:
    """`toml` or `yaml`, from the file's suffix; UsageError for anything else."""
    try:
        return _SUFFIX_FORMATS[path.suffix.lower()]
    except KeyError:
        raise UsageError(
            f"{path.name} is neither TOML nor YAML.",
            hint="descriptors end in .toml, .yaml or .yml.",
            path=path,
        ) from None


def read_document(path: Path) -> SourceDoc:
    """Read and parse a TOML or YAML file (format from the suffix), checking limits first.

    Raises:
        NotFound: the file does not exist.
        IntegrityError: it is a symbolic link, or not a plain file (a pipe, a device).
        UsageError: too big, too deep, not UTF-8, a syntax error, a duplicate key, a YAML
            anchor/alias/tag; the error carries the file, line and column.
    """
    fmt = format_of(path)
    try:
        with open_plain(path) as handle:  # a pipe or a device is refused (IntegrityError), never read
            raw = handle.read(MAX_BYTES + 1)
            if len(raw) > MAX_BYTES:
                raise _too_big(path, os.fstat(handle.fileno()).st_size)
    except FileNotFoundError:
        raise NotFound(f"{path} does not exist.", path=path) from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a folder, not a file.", path=path) from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise IntegrityError(f"{path} is a symbolic link; modreg reads no descriptor through a link.",
                                 hint="replace the link with the file itself.", path=path) from None
        raise UsageError(f"{path} cannot be read ({error.strerror or error}).", path=path) from None
    return _parse(_decode(raw, path), path, fmt, hashlib.sha256(raw).hexdigest())


def parse_text(text: str, path: Path, fmt: Format) -> SourceDoc:
    """Parse `text` as if read from `path` (limits and safety rules as in `read_document`)."""
    if len(text) * 4 > MAX_BYTES and len(text.encode("utf-8")) > MAX_BYTES:
        raise _too_big(path, len(text.encode("utf-8")))
    return _parse(text, path, fmt, hashlib.sha256(text.encode("utf-8")).hexdigest())


def locate(doc: SourceDoc, json_path: JsonPath) -> Position:
    """The position of `json_path`, else of its nearest known ancestor, else (1, 1)."""
    positions = doc.positions
    for end in range(len(json_path), 0, -1):
        found = positions.get(tuple(json_path[:end]))
        if found is not None:
            return found
    return (1, 1)


def _too_big(path: Path, size: int) -> UsageError:
    return UsageError(
        f"{path.name} is {size:,} bytes, more than the limit of {MAX_BYTES:,}.",
        hint="a descriptor holds metadata; keep large data in artifact files.",
        path=path,
    )


def _decode(raw: bytes, path: Path) -> str:
    """The file's text, a UTF-8 byte-order mark kept (`_parse` reads past it; an edit writes it back)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UsageError(f"{path.name} is UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8.",
                         hint="save the file as UTF-8.", path=path, line=1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise UsageError(
            f"{path.name} is not valid UTF-8 (byte {error.start}).",
            hint="save the file as UTF-8.",
            path=path,
            line=line,
        ) from None
    return text


def _parse(text: str, path: Path, fmt: Format, digest: str) -> SourceDoc:
    """`text` parsed; a leading byte-order mark is read past but stays in `SourceDoc.text`."""
    body = text.removeprefix("\ufeff")
    if fmt == "toml":
        _check_toml_depth(body, path)
        data = _load_toml(body, path)
        return SourceDoc(path, text, data, PositionMap(toml_text=body), digest, "toml")
    from modreg.registry.store import _yamlread

    _check_yaml_depth(body, path)
    data, positions, surprises = _yamlread.load(body, path)
    return SourceDoc(path, text, data, PositionMap(positions), digest, "yaml", tuple(surprises))


# ----- TOML -----


def _load_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _toml_error(str(error), text, path) from None
    except ValueError:  # tomllib's int() of a number over 4,300 digits
        raise _long_number(text, path) from None
    _check_data_depth(data, text, path)
    if too_long_integer(data):  # 0x…, 0o…, 0b… parse, but could not be printed
        raise _long_number(text, path)
    return data


def _long_number(text: str, path: Path) -> UsageError:
    at = found.start() if (found := re.search(r"[0-9][0-9_]{4300,}|0[xob][0-9a-fA-F_]{3500,}", text)) else 0
    return UsageError("a number is too long (modreg reads integers of up to 4,300 digits).", hint="quote it to keep "
                      "it as text, or shorten it.", path=path, line=text.count("\n", 0, at) + 1, col=at - text.rfind("\n", 0, at))


def _toml_error(message: str, text: str, path: Path) -> UsageError:
    duplicate = _tomlmap.scan(text).duplicate
    if duplicate is not None and any(word in message for word in ("overwrite", "twice", "uplicate")):
        key, (line, col), (first_line, _) = duplicate
        return UsageError(
            f"duplicate key `{key}` (first defined on line {first_line}).",
            hint="each key may appear once per table; remove or rename one of them.",
            path=path,
            line=line,
            col=col,
        )
    match = _TOML_AT.search(message)
    line = col = None
    if match is not None and match.group(1):
        line, col = int(match.group(1)), int(match.group(2))
    elif match is not None:
        line = text.count("\n") + (0 if text.endswith("\n") else 1)
    reason = message[: match.start()] if match else message
    return UsageError(
        f"TOML syntax error: {reason[:1].lower()}{reason[1:]}.",
        hint="see https://toml.io/en/v1.0.0 for the syntax; strings need quotes.",
        path=path,
        line=line,
        col=col,
    )


_TOML_BRACKETS = re.compile(
    r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"{3,5}'
    r"|'''(?:[^']|'{1,2}(?!'))*'{3,5}"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'[^'\n]*'"
    r"|#[^\n]*"
    r"|[\[\]{}]"
)


def _check_toml_depth(text: str, path: Path) -> None:
    """Refuse bracket nesting deeper than MAX_DEPTH (tomllib recurses per level)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    for match in _TOML_BRACKETS.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(path, text.count("\n", 0, match.start()) + 1)
        elif char in "]}":
            depth -= 1


def _check_data_depth(data: dict[str, Any], text: str, path: Path) -> None:
    """Dotted keys nest without brackets: measure the data when dots allow deep nesting."""
    if text.count(".") * 2 + 2 <= MAX_DEPTH or max(map(str.count, text.split("\n"), repeat("."))) * 2 + 2 <= MAX_DEPTH:
        return
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    while stack:
        value, where = stack.pop()
        if len(where) >= MAX_DEPTH:
            line = _tomlmap.scan(text).positions.get(where[:MAX_DEPTH], (None, None))[0]
            raise _too_deep(path, line)
        children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        stack.extend((child, (*where, key)) for key, child in children)


def _too_deep(path: Path, line: int | None) -> UsageError:
    return UsageError(
        f"{path.name} nests deeper than {MAX_DEPTH} levels.",
        hint="flatten the structure; descriptors need only a few levels.",
        path=path,
        line=line,
    )


# ----- YAML -----

_YAML_LEAD = re.compile(r"^[ \t?:-]*", re.MULTILINE)
_YAML_MARKERS = re.compile(r"(?:[-?:][ \t]+)*")
# A quote opens a quoted scalar only at the start of a token (`it's` is a plain scalar).
_YAML_TOKENS = re.compile(r"""(?<![^\s\[{,:])(?:"|')|(?:^|(?<=\s))#|[\[\]{}]""")
_YAML_QUOTE_END = {'"': re.compile(r'(?:[^"\\]|\\.)*"'), "'": re.compile(r"(?:[^']|'')*'")}
_YAML_BLOCK_SCALAR = re.compile(r"(?:^|[ \t])[|>][0-9+-]*[ \t]*(?:#.*)?$")


@dataclass
class _FlowState:
    flow: int = 0  # open flow brackets
    quote: str = ""  # the quote character of an unterminated quoted scalar


def _check_yaml_depth(text: str, path: Path) -> None:
    """Refuse YAML nesting deeper than MAX_DEPTH before libyaml sees it.

    A cheap bound first: block levels need at least one indentation character (or a `- `,
    `? `, `: ` marker) each, flow levels one bracket each. Only when that bound is above the
    limit are lines measured one by one (indentation stack + markers + open brackets).
    """
    lead = max(map(len, _YAML_LEAD.findall(text)), default=0)
    if 2 * (lead + 1) + text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    stack: list[int] = []
    state = _FlowState()
    base = 0
    block_parent: int | None = None
    for number, line in enumerate(text.split("\n"), 1):
        content = line.lstrip(" ")
        indent = len(line) - len(content)
        if block_parent is not None and (not content.strip() or indent > block_parent):
            continue
        block_parent = None
        if state.flow == 0 and not state.quote:
            if not content.strip() or content.startswith("#"):
                continue
            while stack and stack[-1] >= indent:
                stack.pop()
            stack.append(indent)
            markers = _YAML_MARKERS.match(content).group()  # type: ignore[union-attr]
            base = len(stack) + len(re.findall(r"[-?:]", markers))
        if base + _scan_flow(content, state) > MAX_DEPTH:
            raise _too_deep(path, number)
        if state.flow == 0 and not state.quote and _YAML_BLOCK_SCALAR.search(content):
            block_parent = indent


def _scan_flow(content: str, state: _FlowState) -> int:
    """Advance `state` over one line; return the most flow brackets open within it."""
    deepest, start = state.flow, 0
    if state.quote:
        end = _YAML_QUOTE_END[state.quote].match(content)
        if end is None:
            return deepest
        state.quote, start = "", end.end()
    position = start
    while (token := _YAML_TOKENS.search(content, position)) is not None:
        char, position = token.group(), token.end()
        if char == "#":
            break
        if char in "\"'":
            end = _YAML_QUOTE_END[char].match(content, position)
            if end is None:
                state.quote = char
                break
            position = end.end()
        elif char in "[{":
            state.flow += 1
            deepest = max(deepest, state.flow)
        else:
            state.flow = max(state.flow - 1, 0)
    return deepest


# ----- many files, and problems from errors -----


def read_documents(paths: list[Path]) -> list[SourceDoc | ModregError]:
    """Read many files (in processes when there are many): a SourceDoc or the error, per path."""
    from modreg.registry.store._parallel import map_chunked

    return map_chunked(_read_chunk, paths)


def _read_chunk(paths: list[Path]) -> list[SourceDoc | ModregError]:
    results: list[SourceDoc | ModregError] = []
    for path in paths:
        try:
            results.append(read_document(path))
        except ModregError as error:
            results.append(error)
    return results


def display_path(path: str | Path) -> str:
    """`path` relative to the working directory when it is below it, else absolute; `/`s."""
    absolute, cwd = os.path.abspath(path), os.getcwd()
    prefix = cwd if cwd.endswith(os.sep) else cwd + os.sep
    shown = absolute[len(prefix) :] if absolute.startswith(prefix) else absolute
    return shown.replace(os.sep, "/")


def problem_from_error(error: ModregError, path: Path | None = None) -> Problem:
    """A validation Problem from an error raised while reading a file."""
    where = error.path or (str(path) if path is not None else "")
    return Problem(path=display_path(where) if where else "", line=error.line or 1, col=error.col or 1,
                   message=error.message.rstrip("."), hint=error.hint)
