"""Checks on a saved model's `.npz` before and after its arrays are read (see `serialize`).

`check_members` reads only the zip's directory and each member's `.npy` header: a member that
modreg never writes (outside the header, `state/` and `context/`) is refused, an array whose
header declares more bytes than its member holds is corrupt, one holding Python objects is
refused, and the declared total is checked against the memory budget (`runtime.memory`) before
anything is unpacked; a file that unpacks to 50 times its size (modreg stores arrays
uncompressed) is refused as a zip bomb even within the budget.
`check_content` checks what the arrays hold: the context layout `Forecaster.load` restores
(`meta["context"]` and `lengths`, `ds`, `y`, `exog/<name>`), and finite numeric weights.
Every finding is an IntegrityError (exit 5) naming the file; an over-budget file is a
UsageError (exit 2) giving the estimate.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from modreg.errors import IntegrityError, UsageError
from modreg.runtime import memory

if TYPE_CHECKING:
    from modreg.runtime.serialize import SavedModel

__all__ = ["check_content", "check_members"]

_HINT = "a model file is written by `modreg run ... --save`, never by hand: save the model again."
_HEADER_MEMBER, _MEMBER_PREFIXES = "__modreg__.npy", ("state/", "context/")  # all that `serialize` writes
_LOAD_COPIES = 2  # the arrays read, then the model's own copy of its weights
_MAX_RATIO, _SMALL = 50, 16 * 1024**2  # declared bytes per byte of file, beyond a small allowance


def check_members(path: Path) -> None:
    """Check every member's declared size and dtype from the zip and `.npy` headers only."""
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(_member_bytes(archive, info, path) for info in archive.infolist())
            names = archive.namelist()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, NotImplementedError) as error:
        raise _corrupt(path, f"it is not a readable .npz archive ({error})") from None
    stray = [name for name in names if name != _HEADER_MEMBER and not name.startswith(_MEMBER_PREFIXES)]
    if stray and _HEADER_MEMBER in names:  # without the header it is no modreg file at all: `serialize` says so
        raise _corrupt(path, f"it holds a member modreg never writes ({stray[0][:80]})")
    memory.check(declared * _LOAD_COPIES, f"Loading {path.name}",
                 "this file's arrays are larger than a model of this machine can hold (or it is a zip bomb)")
    size = path.stat().st_size
    if declared > _MAX_RATIO * size + _SMALL:
        raise _corrupt(path, f"its {memory.human(size)} unpack to {memory.human(declared)} of arrays "
                             "(modreg stores arrays uncompressed; this looks like a zip bomb)")


def _member_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> int:
    """The bytes the member unpacks to; its `.npy` header must agree with that size."""
    if not info.filename.endswith(".npy"):
        return info.file_size
    with archive.open(info) as member:
        shape, dtype = _npy_header(member, info.filename, path)
        data = info.file_size - member.tell()
    if dtype.hasobject:
        raise _corrupt(path, f"the member {info.filename} holds Python objects, which modreg never unpickles")
    wanted = math.prod(shape) * dtype.itemsize
    if wanted != data:
        raise _corrupt(path, f"the member {info.filename} declares {wanted:,} bytes of data but holds {data:,}")
    return info.file_size


def _npy_header(member: IO[bytes], name: str, path: Path) -> tuple[tuple[int, ...], np.dtype[Any]]:
    fmt = np.lib.format
    try:
        version = fmt.read_magic(member)
        readers = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}
        if version not in readers:
            raise ValueError(f"unknown .npy version {version}")
        shape, _, dtype = readers[version](member)
    except (ValueError, SyntaxError, TypeError) as error:
        raise _corrupt(path, f"the member {name} has no valid array header ({error})") from None
    return tuple(int(n) for n in shape), np.dtype(dtype)


def check_content(saved: SavedModel, path: Path) -> None:
    """The context layout `Forecaster.load` restores, and finite numeric weights."""
    for name, array in saved.state.items():
        if array.dtype.kind not in "biuf":
            raise _corrupt(path, f"the weight {name} holds {array.dtype} values, not numbers")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise _corrupt(path, f"the weight {name} holds NaN or infinite values")
    context = saved.meta.get("context")
    if not isinstance(context, Mapping):
        raise _corrupt(path, "its header has no `meta.context` table")
    ids, exog = _strings(context, "ids", path), _strings(context, "exog", path)
    _check_frequency(context.get("freq"), path)
    total = _check_lengths(saved.context.get("lengths"), len(ids), path)
    columns = {"ds": "iuM", "y": "f", **{f"exog/{name}": "biuf" for name in exog}}
    for key, kinds in columns.items():
        array = saved.context.get(key)
        if array is None:
            raise _corrupt(path, f"the context array {key} is missing")
        if array.ndim != 1 or array.shape[0] != total or array.dtype.kind not in kinds:
            raise _corrupt(path, f"the context array {key} is not {total} {'timestamps' if key == 'ds' else 'numbers'}")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise _corrupt(path, f"the context array {key} holds NaN or infinite values")


def _strings(context: Mapping[str, Any], key: str, path: Path) -> list[str]:
    value = context.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _corrupt(path, f"`meta.context.{key}` is not a list of names")
    return value


def _check_frequency(name: Any, path: Path) -> None:
    from modreg.runtime.data.frequency import Frequency

    try:
        Frequency.from_name(name if isinstance(name, str) else "")
    except UsageError:
        raise _corrupt(path, f"`meta.context.freq` ({str(name)[:40]!r}) is not a frequency") from None


def _check_lengths(lengths: np.ndarray | None, series: int, path: Path) -> int:
    if lengths is None:
        raise _corrupt(path, "the context array lengths is missing")
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu" or lengths.shape[0] != series or (lengths < 1).any():
        raise _corrupt(path, f"the context array lengths is not one positive count for each of its {series} series")
    return int(sum(int(n) for n in lengths))


def _corrupt(path: Path, what: str) -> IntegrityError:
    return IntegrityError(f"this is not a valid model file: {what}.", hint=_HINT, path=path)
