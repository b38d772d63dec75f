"""Ctrl-C, SIGTERM and a full disk during a mutation: the audit log and the files always agree."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from modreg._fs import TEMP_PREFIX, signals_deferred
from modreg.errors import ExitCode, UsageError
from modreg.registry.mutation.transaction import update_entry
from modreg.registry.store.layout import RegistryPaths


OLD_LINE = '{"changes": {}, "command": "register", "name": "Base", "time": "2026-01-01T00:00:00Z", "user": "u", "version": "1.0.0"}\n'


@pytest.fixture(autouse=True)
def ctrl_c_raises() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt here, as in a terminal, even when pytest started with
    SIGINT ignored (a background job of a non-interactive shell inherits that)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def paths(empty_registry: Path, base_descriptor: str) -> RegistryPaths:
    paths = RegistryPaths(empty_registry)
    (paths.models / "Base.toml").write_text(base_descriptor, encoding="utf-8")
    paths.audit_log.write_text(OLD_LINE, encoding="utf-8")
    return paths


def _tag(tag: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda data: {**data, "tags": [*data["tags"], tag]}


def _once(real: Callable[..., Any], before: Callable[[], None] | None = None, after: Callable[[], None] | None = None) -> Callable[..., Any]:
    """`real`, with `before` and `after` run around its first call only."""
    calls = []

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        first = not calls
        calls.append(1)
        if first and before is not None:
            before()
        result = real(*args, **kwargs)
        if first and after is not None:
            after()
        return result

    return wrapper


def _raise(error: BaseException) -> Callable[[], None]:
    def hook() -> None:
        raise error

    return hook


def _leftovers(paths: RegistryPaths) -> list[Path]:
    return [p for p in paths.root.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def test_ctrl_c_while_the_audit_line_is_written_leaves_neither_line_nor_change(base_descriptor: str, paths: RegistryPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fsync", _once(os.fsync, before=_raise(KeyboardInterrupt())))  # the audit line's fsync comes first
    with pytest.raises(KeyboardInterrupt):
        update_entry(paths, "Base", _tag("fast"), command="update")
    assert paths.audit_log.read_text(encoding="utf-8") == OLD_LINE
    assert (paths.models / "Base.toml").read_text(encoding="utf-8") == base_descriptor
    assert _leftovers(paths) == []


def test_ctrl_c_just_after_the_file_is_replaced_keeps_its_audit_line(paths: RegistryPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "replace", _once(os.replace, after=lambda: os.kill(os.getpid(), signal.SIGINT)))
    with pytest.raises(KeyboardInterrupt):  # delivered once the file and its line agree
        update_entry(paths, "Base", _tag("fast"), command="update")
    assert "fast" in tomllib.loads((paths.models / "Base.toml").read_text(encoding="utf-8"))["tags"]
    lines = paths.audit_log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and '"fast"' in lines[1]
    assert _leftovers(paths) == []


# SIGTERM (what `timeout` and CI runners send) arrives after the audit line, before the rename.
TERMINATED_WRITER = """
import os, signal, sys
from pathlib import Path
from modreg.registry.store.layout import RegistryPaths
from modreg.registry.mutation.transaction import update_entry

real = os.replace
def replace(*args):
    os.kill(os.getpid(), signal.SIGTERM)
    real(*args)
os.replace = replace
update_entry(RegistryPaths(Path(sys.argv[1])), "Base", lambda d: {**d, "tags": ["mlp", "late"]}, command="update")
print("not reached")
"""


def test_sigterm_between_the_audit_line_and_the_rename_ends_the_process_after_both(paths: RegistryPaths) -> None:
    done = subprocess.run([sys.executable, "-c", TERMINATED_WRITER, str(paths.root)], capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGTERM
    assert "not reached" not in done.stdout
    assert tomllib.loads((paths.models / "Base.toml").read_text(encoding="utf-8"))["tags"] == ["mlp", "late"]
    lines = paths.audit_log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and '"late"' in lines[1]
    assert _leftovers(paths) == []


def test_a_full_disk_at_the_rename_leaves_file_log_and_folder_as_they_were(base_descriptor: str, paths: RegistryPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "replace", _once(os.replace, before=_raise(OSError(errno.ENOSPC, "No space left on device"))))
    with pytest.raises(UsageError) as caught:
        update_entry(paths, "Base", _tag("fast"), command="update")
    assert caught.value.exit_code == ExitCode.USAGE
    assert "Base.toml" in caught.value.message and "No space left on device" in caught.value.message
    assert caught.value.hint
    assert paths.audit_log.read_text(encoding="utf-8") == OLD_LINE
    assert (paths.models / "Base.toml").read_text(encoding="utf-8") == base_descriptor
    assert _leftovers(paths) == []


def test_signals_deferred_delivers_a_held_ctrl_c_when_the_block_ends() -> None:
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with signals_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            steps.append("finished")
    assert steps == ["finished"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
