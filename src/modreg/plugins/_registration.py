"""What a plugin's code did to the runtime-model registry, and how to undo it.

The loader takes a `Snapshot` of the registry before a plugin's code runs, asks it afterwards
which models are new and which existing ones were replaced (a plugin may not replace a model,
even with `overwrite=True`), and undoes both when the plugin is refused. `code_error` turns
an exception raised by a plugin's code into a PluginLoadError at the plugin's file and line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from modreg.errors import ModregError
from modreg.plugins.base import PluginLoadError

if TYPE_CHECKING:
    from modreg.runtime.factory import ModelInfo

__all__ = ["Snapshot", "code_error", "snapshot"]


@dataclass(frozen=True)
class Snapshot:
    """The registered models at one moment."""

    infos: dict[str, ModelInfo]

    def added(self) -> dict[str, ModelInfo]:
        """Models registered since the snapshot."""
        return {name: info for name, info in _current().items() if name not in self.infos}

    def replaced(self) -> list[str]:
        """Names whose registration changed (or that were unregistered) since the snapshot."""
        now = _current()
        return sorted(name for name, info in self.infos.items() if now.get(name) != info)

    def restore(self) -> None:
        """Unregister what was added and put back what was replaced."""
        from modreg.runtime.factory import MODELS

        for name in self.added():
            MODELS.unregister(name)
        for name in self.replaced():
            old = self.infos[name]
            MODELS.register(name, category=old.category, capabilities=old.capabilities, overwrite=True)(old.cls)


def snapshot() -> Snapshot:
    """The registry now (built-in models included)."""
    return Snapshot(_current())


def _current() -> dict[str, ModelInfo]:
    from modreg.runtime.factory import list_models

    return list_models()


def code_error(plugin: str, what: str, error: BaseException, folder: Path | None = None) -> PluginLoadError:
    """A PluginLoadError for an exception raised by a plugin's code, at the plugin's own frame.

    `what` names the code that ran (e.g. "seasonal_ets.py"); the file and line are those of
    the innermost traceback frame inside `folder` (any frame when `folder` is None).
    """
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    inside = [f for f in frames if folder is None or f.filename.startswith(str(folder) + os.sep)]
    where = inside[-1] if inside else None
    detail = error.message if isinstance(error, ModregError) else f"{type(error).__name__}: {error}"
    return PluginLoadError(plugin, f"{what} failed: {detail}", path=where.filename if where else None,
                           line=where.lineno if where else None,
                           hint="fix the plugin's code; `modreg --verbose` shows the traceback.")
