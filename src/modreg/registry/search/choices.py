"""The closed vocabularies of `--category` and `--status`, checked the same way by list and search."""

from __future__ import annotations

import difflib

from modreg.errors import UsageError

__all__ = ["CATEGORIES", "STATUSES", "check_choices"]

CATEGORIES = ("basic", "recurrent", "advanced", "transformer", "specialized", "custom")
STATUSES = ("active", "deprecated", "archived")


def check_choices(option: str, given: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    """UsageError (with a did-you-mean) for a `--category`/`--status` value that is not one of `allowed`."""
    for value in given:
        if value.casefold() not in allowed:
            close = difflib.get_close_matches(value.casefold(), allowed, n=1, cutoff=0.5)
            hint = f"did you mean `{close[0]}`? " if close else ""
            raise UsageError(f"`{value}` is not a {option}.", hint=f"{hint}choose one of: {', '.join(allowed)}.")
