"""Fixtures for plugin tests: a registry with a demo plugin, sentinels, and a clean slate.

Every test leaves the process as it found it: models a plugin registered are unregistered,
its in-memory modules are dropped, and the loaders forget what they loaded.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from modreg.plugins import entrypoints, loader
from modreg.plugins._registration import snapshot
from modreg.plugins.finder import FINDER

if TYPE_CHECKING:
    from modreg.registry.checks.config import RegistryConfig

HELPERS = """\
import numpy as np


def repeat_last(y, h):
    return np.repeat(y[-1], h)
"""

MODEL = '''\
"""A demo plugin model that repeats the last value."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Forecast, Forecaster

from .helpers import repeat_last

with open({sentinel!r}, "a") as handle:
    handle.write("ran\\n")


@register_model({model!r}, category="custom", capabilities=("univariate",))
class Demo(Forecaster):
    """Repeats the last value of every series.

    Args:
        h: forecast horizon.
    """

    def __init__(self, h: int) -> None:
        self.h = h

    def fit(self, data, *, progress=None):
        self.check_params()
        {fit_body}
        self._remember(data)
        return self

    def _predict(self, data, h, futr):
        values = np.stack([repeat_last(y, h) for y in data.y])
        return Forecast(self.name, data.ids, data.future_ds(h), {{self.name: values}})
'''

MANIFEST = """\
# A demo plugin for the tests.
name = "{name}"
version = "1.0.0"
summary = "A demo plugin"
authors = ["Demo Author <demo@example.org>"]
license = "MIT"
min_runtime_version = "{min_version}"

[[models]]
name = "{model}"
category = "custom"
module = "demo_model"
capabilities = ["univariate"]
params = {{ h = 3 }}
"""


@dataclass
class DemoPlugin:
    """A plugin folder in a registry, and the sentinel file its module appends to when it runs."""

    registry: Path
    folder: Path
    sentinel: Path
    model: str

    @property
    def name(self) -> str:
        return self.folder.name

    def ran(self) -> int:
        """How many times the plugin's module code ran."""
        return self.sentinel.read_text().count("ran") if self.sentinel.exists() else 0

    def lock(self) -> None:
        from modreg.plugins.plugin_lock import lock_plugin
        from modreg.registry.store.layout import RegistryPaths

        lock_plugin(RegistryPaths(self.registry), self.folder)

    def config(self) -> RegistryConfig:
        from modreg.registry.checks.config import load_config
        from modreg.registry.store.layout import RegistryPaths

        return load_config(RegistryPaths(self.registry))

    def load(self) -> loader.LoadedPlugin:
        return loader.load_plugin(self.folder, self.config())

    def set_policy(self, text: str) -> None:
        """Replace the [plugins] table of the registry's modreg.toml with `text`."""
        config = self.registry / "modreg.toml"
        head = config.read_text().split("[plugins]")[0]
        config.write_text(head + "[plugins]\n" + textwrap.dedent(text))


@pytest.fixture(autouse=True)
def clean_plugins() -> Iterator[None]:
    """Undo every plugin registration, module and load result a test made."""
    before = snapshot()
    loaded, results = dict(loader._LOADED), dict(entrypoints._RESULTS)
    modules = set(sys.modules)
    yield
    before.restore()
    loader._LOADED.clear()
    loader._LOADED.update(loaded)
    entrypoints._RESULTS.clear()
    entrypoints._RESULTS.update(results)
    for name in [n for n in sys.modules if n not in modules and n.startswith(("modreg_plugins.", "ep_"))]:
        del sys.modules[name]
    for package in {".".join(n.split(".")[:2]) for n in list(FINDER._sources)}:
        FINDER.remove(package)


@pytest.fixture
def make_plugin(empty_registry: Path, tmp_path: Path) -> Callable[..., DemoPlugin]:
    """Write a locked demo plugin into the empty registry: `make_plugin(name=..., fit_body=..., ...)`."""

    def make(name: str = "demo", *, model: str = "DemoModel", min_version: str = "0.1.0", fit_body: str = "pass",
             extra: str = "", lock: bool = True) -> DemoPlugin:
        folder = empty_registry / "plugins" / name
        folder.mkdir(parents=True)
        sentinel = tmp_path / f"{name}.ran"
        (folder / "plugin.toml").write_text(MANIFEST.format(name=name, model=model, min_version=min_version) + extra)
        (folder / "helpers.py").write_text(HELPERS)
        (folder / "demo_model.py").write_text(MODEL.format(sentinel=str(sentinel), model=model, fit_body=fit_body))
        plugin = DemoPlugin(empty_registry, folder, sentinel, model)
        if lock:
            plugin.lock()
        return plugin

    return make


@pytest.fixture
def demo(make_plugin: Callable[..., DemoPlugin]) -> DemoPlugin:
    """The default demo plugin, locked."""
    return make_plugin()


EP_MODULE = '''\
from __future__ import annotations

import numpy as np

from modreg.runtime.factory import register_model
from modreg.runtime.models.base import Forecast, Forecaster

{extra}


@register_model({model!r}, category="custom", capabilities=("univariate",))
class {model}(Forecaster):
    """An installed demo model: the mean of each series.

    Args:
        h: forecast horizon.
    """

    def __init__(self, h: int) -> None:
        self.h = h

    def fit(self, data, *, progress=None):
        self.check_params()
        self._remember(data)
        return self

    def _predict(self, data, h, futr):
        values = np.stack([np.full(h, y.mean()) for y in data.y])
        return Forecast(self.name, data.ids, data.future_ds(h), {{self.name: values}})
'''


@dataclass
class InstalledPlugin:
    """A distribution written into a folder on sys.path: its package, name and model."""

    site: Path
    package: str
    distribution: str
    model: str


@pytest.fixture
def install_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., InstalledPlugin]:
    """Install a tiny distribution with a `modreg.models.v1` entry point (no network, no pip)."""
    site = tmp_path / "site"

    def install(model: str = "EPModel", *, extra: str = "", value: str | None = None) -> InstalledPlugin:
        package = f"ep_{model.lower()}_{tmp_path.name[-8:].replace('-', '_')}"
        distribution = f"ep-{model.lower()}"
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text(EP_MODULE.format(model=model, extra=extra))
        info = site / f"{distribution.replace('-', '_')}-1.2.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.2.0\n"
                                       f"Summary: The {model} plugin\nAuthor-email: EP Author <ep@example.org>\n")
        (info / "RECORD").write_text(f"{package}/__init__.py,,\n{info.name}/METADATA,,\n")
        (info / "entry_points.txt").write_text(f"[modreg.models.v1]\n{model} = {value or package + ':' + model}\n")
        monkeypatch.syspath_prepend(str(site))
        return InstalledPlugin(site, package, distribution, model)

    return install
