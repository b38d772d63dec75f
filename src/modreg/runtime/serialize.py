"""Saved models: one `.npz` holding a JSON header and named arrays, read without pickle.

Layout of the archive:
    __modreg__        uint8 bytes of a JSON object: {"format", "model", "class", "params",
                      "meta", "modreg_version"}
    state/<name>      the network's `state_dict()` arrays (dotted PyTorch-like names)
    context/<name>    what `predict(data=None)` needs after loading (the tail of the training data)

`meta["context"]` is `{"ids": [...], "freq": "<frequency name>", "exog": [...]}`, and the
context arrays are `lengths` (one count per id), `ds`, `y` and `exog/<name>` (each `sum(lengths)`
long).

Loading never unpickles (`np.load(..., allow_pickle=False)`), never imports by path: the header
names a registered runtime model, which is built with `cls(**params)` and then loaded strictly.
A file is a model file in every detail or it is refused as corrupt (IntegrityError, exit 5)
before a model is built: the members' declared sizes are read from the zip and `.npy` headers
and checked against the memory budget before any array is read, the header's format, `meta`
and the context arrays must be as written above, and weights must be finite numbers.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modreg.errors import IntegrityError, NotFound, UsageError

__all__ = ["FORMAT_VERSION", "SavedModel", "read_model_file", "write_model_file"]

FORMAT_VERSION = 1
HEADER_KEY = "__modreg__"


@dataclass
class SavedModel:
    """The content of one model file."""

    model: str
    params: dict[str, Any]
    state: dict[str, np.ndarray] = field(default_factory=dict)
    context: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    class_name: str = ""


def write_model_file(path: str | Path, saved: SavedModel) -> Path:
    """Write `saved` to `path` (atomically: a temporary file in the same folder, then replace)."""
    from modreg._version import __version__
    from modreg._fs import write_atomic

    header = {"format": FORMAT_VERSION, "model": saved.model, "class": saved.class_name,
              "params": saved.params, "meta": saved.meta, "modreg_version": __version__}
    arrays = {HEADER_KEY: np.frombuffer(json.dumps(header, sort_keys=True).encode(), dtype=np.uint8)}
    arrays.update({f"state/{k}": np.asarray(v) for k, v in saved.state.items()})
    arrays.update({f"context/{k}": np.asarray(v) for k, v in saved.context.items()})
    target = Path(path)
    write_atomic(target, _npz_bytes(arrays))
    return target


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def read_model_file(path: str | Path) -> SavedModel:
    """Read a model file written by `write_model_file`.

    Raises:
        NotFound: no such file.
        IntegrityError: not a modreg model file, corrupt, or of a newer format.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError("this is a folder, not a model file.", hint="name the .npz file inside it.", path=path)
    if not path.is_file():
        raise NotFound("there is no model file here.", hint="save one with `modreg run ... --save model.npz`.", path=path)
    from modreg.runtime.npz_check import check_members

    check_members(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise IntegrityError(f"{path} is not a readable .npz model file ({error}).", path=path) from None
    header = _header(arrays, path)
    saved = SavedModel(
        model=header["model"],
        params=header.get("params", {}),
        state=_prefixed(arrays, "state/"),
        context=_prefixed(arrays, "context/"),
        meta=header.get("meta", {}),
        class_name=header.get("class", ""),
    )
    from modreg.runtime.npz_check import check_content

    check_content(saved, path)
    return saved


def _header(arrays: dict[str, np.ndarray], path: Path) -> dict[str, Any]:
    raw = arrays.get(HEADER_KEY)
    if raw is None or raw.dtype != np.uint8:
        raise IntegrityError(f"{path} is a .npz file but not a modreg model (no {HEADER_KEY} header).", path=path)
    try:
        header = json.loads(raw.tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise IntegrityError(f"{path} has a corrupt model header.", path=path) from None
    if not isinstance(header, dict) or not isinstance(header.get("model"), str):
        raise IntegrityError(f"{path} has a model header without a model name.", path=path)
    version = header.get("format")
    if type(version) is not int or version < 1:
        raise IntegrityError(f"{path} has an unknown model file format ({json.dumps(version)[:40]}).", path=path,
                             hint=f"modreg writes format {FORMAT_VERSION}; save the model again with `modreg run ... --save`.")
    if version > FORMAT_VERSION:
        raise IntegrityError(
            f"{path} was written in model file format {version}; this modreg reads up to {FORMAT_VERSION}.",
            hint="upgrade modreg.", path=path,
        )
    for key in ("params", "meta"):
        if not isinstance(header.get(key, {}), dict):
            raise IntegrityError(f"{path} has a model header whose `{key}` is not a table.", path=path)
    return header


def _prefixed(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}
