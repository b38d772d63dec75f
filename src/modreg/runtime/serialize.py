"""Saved models: one `.npz` holding a JSON header and named arrays, read without pickle.

Layout of the archive:
    __modreg__        uint8 bytes of a JSON object: {"format", "model", "class", "params",
                      "meta", "modreg_version"}
    state/<name>      the network's `state_dict()` arrays (dotted PyTorch-like names)
    context/<name>    what `predict(data=None)` needs after loading (the tail of the training data)

Loading never unpickles (`np.load(..., allow_pickle=False)`), never imports by path: the header
names a registered runtime model, which is built with `cls(**params)` and then loaded strictly.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modreg.errors import IntegrityError, NotFound

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
    if not path.is_file():
        raise NotFound(f"No model file at {path}.", hint="save one with `modreg run ... --save model.npz`.", path=path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise IntegrityError(f"{path} is not a readable .npz model file ({error}).", path=path) from None
    header = _header(arrays, path)
    return SavedModel(
        model=header["model"],
        params=header.get("params", {}),
        state=_prefixed(arrays, "state/"),
        context=_prefixed(arrays, "context/"),
        meta=header.get("meta", {}),
        class_name=header.get("class", ""),
    )


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
    if header.get("format", 0) > FORMAT_VERSION:
        raise IntegrityError(
            f"{path} was written in model file format {header['format']}; this modreg reads up to {FORMAT_VERSION}.",
            hint="upgrade modreg.", path=path,
        )
    return header


def _prefixed(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}
