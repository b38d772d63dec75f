"""Shared fixtures: an isolated environment for every test, the example registry's path, and a
registry lock held by another process."""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_REGISTRY = PROJECT_ROOT / "registry.example"
DATA_DIR = Path(__file__).resolve().parent / "data"
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="Rewrite the golden files under tests/golden/ from the current outputs instead of comparing.",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """True when pytest runs with --update-goldens (golden tests then rewrite their files)."""
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(autouse=True)
def isolated_modreg_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No MODREG_* variable or colour setting leaks into a test; cwd is a fresh folder."""
    import os

    for key in list(os.environ):
        if key.startswith("MODREG_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def example_registry() -> Path:
    """The committed example registry (read-only use)."""
    return EXAMPLE_REGISTRY


@pytest.fixture
def empty_registry(tmp_path: Path) -> Path:
    """A freshly initialised registry in a temporary folder."""
    from modreg.registry.store.init import init_registry

    return init_registry(tmp_path / "reg").root


@pytest.fixture
def forget_plugins():
    """Undo what loading registry plugins into this process did (their models, modules, load results),
    for tests whose commands load a plugin (`run`, `discover`, `schema`) next to tests that load it again."""
    from modreg.plugins import loader
    from modreg.plugins._registration import snapshot
    from modreg.plugins.finder import FINDER

    before, loaded = snapshot(), dict(loader._LOADED)
    yield
    before.restore()
    loader._LOADED.clear()
    loader._LOADED.update(loaded)
    FINDER.remove("modreg_plugins.seasonal_ets")


def _hold_registry_lock(root: str, ready: Any, release: Any, recorded: str | None) -> None:
    import fcntl
    import os

    from modreg.registry.store.layout import RegistryPaths
    from modreg.registry.store.lock import registry_lock

    if recorded is None:
        with registry_lock(RegistryPaths(Path(root)), timeout=5):
            ready.set()
            release.wait(30)
        return
    lock = RegistryPaths(Path(root)).lock_file  # held as another host's modreg (or a leftover child) holds it
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.ftruncate(fd, 0)
    os.write(fd, recorded.encode("ascii"))
    ready.set()
    release.wait(30)


@pytest.fixture
def lock_held_elsewhere() -> Callable[..., contextlib.AbstractContextManager[int]]:
    """`with lock_held_elsewhere(root) as pid:` the registry at root is locked by process pid;
    `recorded="PID HOST\\n"` holds it with that text in the lock file instead of modreg's own."""

    @contextlib.contextmanager
    def hold(root: Path, recorded: str | None = None) -> Iterator[int]:
        context = multiprocessing.get_context("fork")
        ready, release = context.Event(), context.Event()
        holder = context.Process(target=_hold_registry_lock, args=(str(root), ready, release, recorded))
        holder.start()
        try:
            assert ready.wait(10)
            yield holder.pid
        finally:
            release.set()
            holder.join(10)

    return hold
