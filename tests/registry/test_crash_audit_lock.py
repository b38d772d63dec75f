"""The registry lock after crashes: forked children of a killed holder, dead and remote holders, sweeping."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from modreg._fs import TEMP_PREFIX
from modreg.errors import Conflict, ExitCode
from modreg.registry.store.layout import RegistryPaths
from modreg.registry.store.lock import lock_holder, registry_lock

# Takes the lock, forks a child that lives on (as a process pool's worker does), then dies by kill -9.
KILLED_WITH_A_CHILD = """
import os, signal, sys, time
from pathlib import Path
from modreg.registry.store.layout import RegistryPaths
from modreg.registry.store.lock import registry_lock

with registry_lock(RegistryPaths(Path(sys.argv[1])), timeout=5):
    child = os.fork()
    if child == 0:
        time.sleep(30)
        os._exit(0)
    Path(sys.argv[2]).write_text(str(child))
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def paths(empty_registry: Path) -> RegistryPaths:
    return RegistryPaths(empty_registry)


def test_a_child_forked_under_the_lock_does_not_keep_it_when_the_holder_is_killed(paths: RegistryPaths, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    done = subprocess.run([sys.executable, "-c", KILLED_WITH_A_CHILD, str(paths.root), str(pid_file)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    assert done.returncode == -signal.SIGKILL
    child = int(pid_file.read_text())
    try:
        started = time.monotonic()
        with registry_lock(paths, timeout=1):
            assert lock_holder(paths) == os.getpid()
        assert time.monotonic() - started < 1
    finally:
        os.kill(child, signal.SIGKILL)


def test_a_lock_held_on_another_host_names_that_host(paths: RegistryPaths, lock_held_elsewhere: Any) -> None:
    with lock_held_elsewhere(paths.root, recorded="4242 build-server-7\n"), pytest.raises(Conflict) as caught:
        with registry_lock(paths, timeout=0.2):
            pass
    assert "process 4242 on host build-server-7" in caught.value.message
    assert "build-server-7" in (caught.value.hint or "") and "--lock-timeout" in (caught.value.hint or "")
    assert caught.value.exit_code == ExitCode.CONFLICT


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(30)
    return child.pid


def test_a_lock_held_after_its_recorded_holder_ended_says_so(paths: RegistryPaths, lock_held_elsewhere: Any) -> None:
    dead = _dead_pid()
    with lock_held_elsewhere(paths.root, recorded=f"{dead} {os.uname().nodename}\n"), pytest.raises(Conflict) as caught:
        with registry_lock(paths, timeout=0.2):
            pass
    assert f"process {dead} that took the lock is not running on this machine" in caught.value.message
    assert "fuser" in (caught.value.hint or "")


def test_a_stale_lock_file_of_a_dead_process_is_taken_at_once(paths: RegistryPaths) -> None:
    paths.lock_file.parent.mkdir(parents=True, exist_ok=True)
    paths.lock_file.write_text(f"{_dead_pid()} elsewhere\n", encoding="ascii")
    started = time.monotonic()
    with registry_lock(paths, timeout=1):
        assert lock_holder(paths) == os.getpid()
        assert paths.lock_file.read_text(encoding="ascii").split() == [str(os.getpid()), os.uname().nodename]
    assert time.monotonic() - started < 1


def test_taking_the_lock_sweeps_what_killed_writers_left(paths: RegistryPaths) -> None:
    plugin = paths.plugins / "drift"
    for folder in (paths.models, paths.index, paths.reports, plugin):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{TEMP_PREFIX}abc").write_text("half", encoding="utf-8")
        (folder / "kept.txt").write_text("kept", encoding="utf-8")
    with registry_lock(paths, timeout=1):
        pass
    for folder in (paths.models, paths.index, paths.reports, plugin):
        assert sorted(p.name for p in folder.iterdir()) == ["kept.txt"]


def test_a_sweep_that_cannot_run_does_not_stop_the_command(paths: RegistryPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    (paths.models / f"{TEMP_PREFIX}abc").write_text("half", encoding="utf-8")
    real = Path.unlink

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self.name.startswith(TEMP_PREFIX):
            raise PermissionError(13, "Permission denied", str(self))
        real(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    with registry_lock(paths, timeout=1):
        assert lock_holder(paths) == os.getpid()
    assert (paths.models / f"{TEMP_PREFIX}abc").exists()
