"""modreg: a git-friendly registry of forecasting models, and numpy forecasters that run from it.

`import modreg` is cheap: the Python API (`modreg.api`) is loaded on first attribute access,
so that `modreg --help` and the registry commands never pay for what they do not use.
"""

from __future__ import annotations

from typing import Any

from modreg._version import __version__

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    """Re-export `modreg.api`'s functions lazily (`modreg.validate(...)`)."""
    import modreg.api as api

    try:
        return getattr(api, name)
    except AttributeError:
        raise AttributeError(f"module 'modreg' has no attribute {name!r}") from None
