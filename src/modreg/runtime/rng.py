"""The runtime's one random generator: parameter initialisation and dropout draw from it.

`seed(n)` makes everything that follows reproducible; the default seed is 0, so a fresh
process is deterministic too.
"""

from __future__ import annotations

import numpy as np

__all__ = ["generator", "seed"]

_STATE: dict[str, np.random.Generator] = {"generator": np.random.default_rng(0)}


def seed(n: int) -> None:
    """Reset the module generator to `np.random.default_rng(n)`."""
    _STATE["generator"] = np.random.default_rng(n)


def generator() -> np.random.Generator:
    """The module generator (the same object until the next `seed`)."""
    return _STATE["generator"]
