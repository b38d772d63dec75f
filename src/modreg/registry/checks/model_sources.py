"""Runtime models provided from outside the registry, as the layers above report them.

Validation knows the built-in models from the shipped `runtime_models.json` and the registry's
plugin models from their manifests. Models of installed packages (entry points) are found by the
plugin layer, which the registry must not import; instead that layer registers a source here
(`modreg.api` does, at import), and validation asks the sources only for a model it finds
nowhere else (reading package metadata costs time).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping

__all__ = ["add_model_source", "external_models"]

ModelSource = Callable[[], Mapping[str, str]]  # () -> {runtime model: provider}

_SOURCES: list[ModelSource] = []
_FOUND: dict[tuple[int, tuple[str, ...]], dict[str, str]] = {}  # by sources and sys.path


def add_model_source(source: ModelSource) -> None:
    """Register a source of external runtime models (idempotent)."""
    if source not in _SOURCES:
        _SOURCES.append(source)
        _FOUND.clear()


def external_models() -> dict[str, str]:
    """Every external runtime model -> its provider, from every source (read once)."""
    key = (len(_SOURCES), tuple(sys.path))
    if key not in _FOUND:
        found: dict[str, str] = {}
        for source in _SOURCES:
            for name, provider in source().items():
                found.setdefault(name, provider)
        _FOUND.clear()
        _FOUND[key] = found
    return _FOUND[key]
