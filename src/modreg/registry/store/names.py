"""Entry names that are safe as file names on every checkout (Linux, macOS, Windows).

A name is also its descriptor's file stem, so a name must survive case-insensitive and
Windows file systems: `CON`, `nul.txt`, a trailing dot or `..` would break a checkout or
escape the models folder.
"""

from __future__ import annotations

import re
import unicodedata

from modreg.errors import UsageError

__all__ = ["NAME_PATTERN", "check_name", "require_safe_name"]

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9._-]{0,63}$"
_NAME_RE = re.compile(NAME_PATTERN)
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)]
)


def check_name(name: str) -> str | None:
    """Why `name` is unsafe as an entry name, or None when it is safe."""
    if not isinstance(name, str) or not name:
        return "a name must be a non-empty string"
    if unicodedata.normalize("NFC", name) != name:
        return "it is not in Unicode normal form NFC, so it may name a different file on macOS"
    if "/" in name or "\\" in name:
        return "it contains a path separator"
    if ".." in name:
        return "it contains `..`"
    if not _NAME_RE.match(name):
        return (
            "it must start with a letter and hold at most 64 ASCII letters, digits, `.`, `_` or `-`"
        )
    if name.endswith("."):
        return "it ends with a dot, which Windows drops from file names"
    if name.split(".", 1)[0].upper() in _RESERVED:
        return f"`{name.split('.', 1)[0]}` is a reserved device name on Windows"
    return None


def require_safe_name(name: str, *, path: str | None = None) -> str:
    """Return `name` when it is safe; raise UsageError saying why it is not."""
    reason = check_name(name)
    if reason is not None:
        raise UsageError(
            f"`{name}` is not a valid entry name: {reason}.",
            hint="use a name like `NHITS`, `my-model` or `lstm.v2` (pattern "
            f"{NAME_PATTERN}).",
            path=path,
        )
    return name
