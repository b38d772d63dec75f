"""Every function that takes the registry lock waits the same documented default (60 s) unless told otherwise."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import modreg
from modreg.registry.store.lock import DEFAULT_TIMEOUT

SKIPPED_PREFIXES = ("modreg.runtime",)  # the numpy runtime takes no lock


def _modules() -> list[str]:
    names = [info.name for info in pkgutil.walk_packages(modreg.__path__, "modreg.")]
    return [name for name in names if not name.startswith(SKIPPED_PREFIXES) and not name.endswith("__main__")]


def test_every_lock_timeout_parameter_defaults_to_the_shared_default() -> None:
    wrong, seen = [], 0
    for name in _modules():
        module = importlib.import_module(name)
        for attribute, function in inspect.getmembers(module, inspect.isfunction):
            parameter = inspect.signature(function).parameters.get("lock_timeout")
            if parameter is None or parameter.default is inspect.Parameter.empty or function.__module__ != name:
                continue
            seen += 1
            if parameter.default != DEFAULT_TIMEOUT:
                wrong.append(f"{name}.{attribute} = {parameter.default}")
    assert seen >= 20
    assert not wrong, wrong
