"""The Python API: one function per CLI command.

Functions return dataclasses or plain dicts and raise `modreg.errors.ModregError`; they never
print or exit. Heavy modules (numpy, jsonschema, the runtime) are imported inside the functions
that need them, so that `import modreg.api` stays cheap.
"""

from __future__ import annotations

from pathlib import Path

from modreg.registry.layout import RegistryPaths, find_root

__all__ = ["init", "open_registry"]


def open_registry(registry: str | Path | None = None) -> RegistryPaths:
    """The registry at `registry`, $MODREG_REGISTRY, or the nearest one upwards."""
    return find_root(registry)


def init(path: str | Path = ".") -> RegistryPaths:
    """Create an empty registry at `path` (`modreg init`)."""
    from modreg.registry.init import init_registry

    return init_registry(Path(path))
