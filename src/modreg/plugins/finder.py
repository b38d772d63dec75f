"""The in-memory importer of registry plugins: verified bytes in, modules out, no disk.

A verified plugin's Python sources (the bytes whose sha256 was checked) are handed to
`FINDER`, a meta-path finder placed first on `sys.meta_path`. It answers every name under
the private package `modreg_plugins` and nothing else:

    plugins/seasonal_ets/seasonal_ets.py   ->  modreg_plugins.seasonal_ets.seasonal_ets
    plugins/seasonal_ets/_smoothing.py     ->  modreg_plugins.seasonal_ets._smoothing
    plugins/seasonal_ets/sub/__init__.py   ->  modreg_plugins.seasonal_ets.sub

`exec_module` compiles those bytes with `compile()` and executes them in the fresh module;
packages get an empty `__path__`, so no path-based finder can add files from disk, and no
`.pyc` is read or written. Tracebacks and `inspect` show the real file names, served from
`linecache` with the verified text.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import linecache
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from modreg.plugins.base import PACKAGE

__all__ = ["FINDER", "VerifiedSourceFinder", "package_name"]


def package_name(plugin: str) -> str:
    """`modreg_plugins.<plugin>` with every character that is not a letter, digit or _ as _."""
    return f"{PACKAGE}.{re.sub(r'[^A-Za-z0-9_]', '_', plugin)}"


@dataclass(frozen=True)
class _Source:
    data: bytes
    filename: str
    is_package: bool


class VerifiedSourceFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and loads modules under `modreg_plugins` from sources registered with `add`."""

    def __init__(self) -> None:
        self._sources: dict[str, _Source] = {}

    def install(self) -> None:
        """Put the finder first on sys.meta_path (once)."""
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def add(self, package: str, folder: Path, sources: dict[str, bytes]) -> None:
        """Serve `sources` (relative path -> verified bytes) as the package `package`."""
        self._sources[package] = _Source(b"", str(folder / "__init__.py"), True)
        for relative, data in sources.items():
            parts = relative[: -len(".py")].split("/")
            if not all(part.isidentifier() for part in parts):
                continue  # not importable by name (e.g. my-script.py)
            is_package = parts[-1] == "__init__"
            name = ".".join([package, *(parts[:-1] if is_package else parts)])
            self._add_parents(package, parts[:-1], folder)
            self._sources[name] = _Source(data, str(folder / relative), is_package)

    def _add_parents(self, package: str, folders: list[str], root: Path) -> None:
        for depth in range(1, len(folders) + 1):
            name = ".".join([package, *folders[:depth]])
            self._sources.setdefault(name, _Source(b"", str(root.joinpath(*folders[:depth], "__init__.py")), True))

    def remove(self, package: str) -> None:
        """Forget the package's sources and drop its modules from sys.modules."""
        for table in (self._sources, sys.modules):
            for name in [n for n in table if n == package or n.startswith(package + ".")]:
                del table[name]

    def provides(self, name: str) -> bool:
        return name in self._sources

    # ----- importlib protocol -----

    def find_spec(self, fullname: str, path: object = None, target: types.ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname == PACKAGE:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        source = self._sources.get(fullname)
        if source is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, origin=source.filename, is_package=source.is_package)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: types.ModuleType) -> None:
        source = self._sources.get(module.__name__)
        if source is None:
            return  # the root package: no code
        module.__file__ = source.filename
        text = importlib.util.decode_source(source.data)
        linecache.cache[source.filename] = (len(text), None, text.splitlines(True), source.filename)
        exec(compile(source.data, source.filename, "exec", dont_inherit=True), module.__dict__)


FINDER = VerifiedSourceFinder()
