"""A read-only registry or a full disk: every mutating command and `run --output/--save` fails
with one sentence naming the file and exit 2, and leaves every file as it was (issue 16, point 5).

The tests run as any user (root ignores permission bits), so the operating system's refusals
are simulated: a read-only folder refuses every open for writing, every new folder, rename and
removal under the registry with EROFS; a full disk makes `fsync` (where modreg's writes of
descriptors, generated files and the audit log end) and the lock's `write` fail with ENOSPC.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modreg._fs import TEMP_PREFIX
from modreg.cli import app
from modreg.errors import ExitCode

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "registry.example"
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

MUTATIONS = {
    "register": ["register", "Fresh", "--category", "basic", "--summary", "A new entry", "--description", "Prose.", "--tag", "baseline", "--capability", "univariate",
                 "--author", "A <a@example.org>"],
    "update": ["update", "Naive", "--tag", "fresh"],
    "version": ["version", "Naive", "--bump", "patch", "-m", "a change"],
    "deprecate": ["deprecate", "Naive", "--reason", "superseded"],
    "archive": ["archive", "RNN"],
    "restore": ["restore", "RNN"],
    "delete": ["delete", "Naive", "--force"],
    "index": ["index"],
    "report": ["report"],
    "build": ["build"],
    "plugin lock": ["plugin", "lock", "seasonal_ets"],
    "bench --record": ["bench", "Naive", "--data", "{data}", "--horizon", "6", "--record"],
}
RUN_WRITES = {
    "run --output": ["run", "Naive", "--data", "{data}", "--horizon", "3", "--output", "{out}/forecasts.csv"],
    "run --save": ["run", "Naive", "--data", "{data}", "--horizon", "3", "--save", "{out}/naive.npz"],
}


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    target = tmp_path / "registry"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".modreg"))
    (target / "index" / "registry.json").write_text("{}\n")  # stale, so index/build/report must write
    (target / "reports" / "registry_summary.md").write_text("stale\n")
    return target


def _prepare(command: str, registry: Path) -> None:
    if command == "plugin lock":  # a changed file, so that `plugin lock` has checksums to write
        with (registry / "plugins" / "seasonal_ets" / "seasonal_ets.py").open("a") as plugin:
            plugin.write("# changed\n")


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file's bytes, but modreg's local state (`.modreg/`: the lock, the cache)."""
    files = (p for p in sorted(folder.rglob("*")) if p.is_file())
    return {str(p.relative_to(folder)): p.read_bytes() for p in files if p.relative_to(folder).parts[0] != ".modreg"}


def _under(folder: Path, spared: Path | None) -> Callable[[Any], bool]:
    prefix, spare = str(folder), None if spared is None else str(spared)

    def inside(path: Any) -> bool:
        try:
            absolute = os.path.abspath(os.fsdecode(path))
        except TypeError:  # a file descriptor
            return False
        return absolute.startswith(prefix) and (spare is None or not absolute.startswith(spare))

    return inside


def _refuse(number: int, path: Any = None) -> OSError:
    return OSError(number, os.strerror(number), None if path is None else os.fsdecode(path))


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Make a folder behave like a read-only mount (EROFS on every write under it but `spared`)."""

    def apply(folder: Path, spared: Path | None = None) -> None:
        inside = _under(folder, spared)
        real_open, real_builtin_open = os.open, builtins.open

        def fake_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if flags & _WRITE_FLAGS and inside(path):
                raise _refuse(errno.EROFS, path)
            return real_open(path, flags, *args, **kwargs)

        def fake_builtin_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if any(c in mode for c in "wax+") and inside(file):
                raise _refuse(errno.EROFS, file)
            return real_builtin_open(file, mode, *args, **kwargs)

        monkeypatch.setattr(os, "open", fake_open)
        monkeypatch.setattr(builtins, "open", fake_builtin_open)
        monkeypatch.setattr(io, "open", fake_builtin_open)
        for name in ("mkdir", "replace", "rename", "unlink", "remove", "rmdir"):
            real = getattr(os, name)

            def refuse(path: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
                if inside(path):
                    raise _refuse(errno.EROFS, path)
                return _real(path, *args, **kwargs)

            monkeypatch.setattr(os, name, refuse)

    yield apply


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Make every fsync (and with `writes`, every os.write: the lock's pid) fail as on a full disk."""

    def apply(writes: bool = True) -> None:
        def no_room(*args: Any, **kwargs: Any) -> Any:
            raise _refuse(errno.ENOSPC)

        monkeypatch.setattr(os, "fsync", no_room)
        if writes:
            monkeypatch.setattr(os, "write", no_room)

    yield apply


def _args(template: list[str], registry: Path, out: Path) -> list[str]:
    data = str(registry / "data" / "air_passengers.csv")
    return [part.format(data=data, out=out) for part in template]


def _check_failure(done: Any, before: dict[str, bytes], registry: Path, reason: str) -> None:
    assert done.exception is None or isinstance(done.exception, SystemExit), repr(done.exception)
    assert done.exit_code == ExitCode.USAGE, done.output
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and reason in errors[0].lower(), done.stderr
    assert _snapshot(registry) == before  # nothing half-written, nothing left behind
    assert not [p for p in registry.rglob("*") if p.name.startswith(TEMP_PREFIX)]


@pytest.mark.parametrize("command", sorted(MUTATIONS))
@pytest.mark.parametrize("lock", ["read-only", "writable"])
def test_a_read_only_registry_is_left_as_it_was(command: str, lock: str, registry: Path, tmp_path: Path,
                                               read_only: Callable[..., None]) -> None:
    """Read-only throughout (the lock fails first), or all but `.modreg/` (the writes fail)."""
    _prepare(command, registry)
    before = _snapshot(registry)
    read_only(registry, None if lock == "read-only" else registry / ".modreg")
    done = runner.invoke(app, ["--registry", str(registry), *_args(MUTATIONS[command], registry, tmp_path)])
    _check_failure(done, before, registry, "read-only file system")
    assert str(registry) in done.stderr


@pytest.mark.parametrize("command", sorted(MUTATIONS))
@pytest.mark.parametrize("lock", ["full", "written"])
def test_a_full_disk_leaves_the_registry_as_it_was(command: str, lock: str, registry: Path, tmp_path: Path,
                                                  full_disk: Callable[..., None]) -> None:
    """No room even for the lock's pid, or room for it but not for the files (fsync fails)."""
    _prepare(command, registry)
    before = _snapshot(registry)
    full_disk(writes=lock == "full")
    done = runner.invoke(app, ["--registry", str(registry), *_args(MUTATIONS[command], registry, tmp_path)])
    _check_failure(done, before, registry, "no space left on device")


@pytest.mark.parametrize("command", sorted(RUN_WRITES))
@pytest.mark.parametrize("failure", ["read-only", "full"])
def test_run_outputs_fail_whole_on_an_unwritable_folder(command: str, failure: str, registry: Path, tmp_path: Path,
                                                        read_only: Callable[..., None],
                                                        full_disk: Callable[..., None]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "forecasts.csv").write_text("old\n")
    (out / "naive.npz").write_bytes(b"old")
    before = _snapshot(out)
    if failure == "read-only":
        read_only(out)
    else:
        full_disk()
    done = runner.invoke(app, ["--registry", str(registry), *_args(RUN_WRITES[command], registry, out)])
    reason = "read-only file system" if failure == "read-only" else "no space left on device"
    _check_failure(done, before, out, reason)
    assert str(out) in done.stderr


def test_init_in_a_read_only_folder(tmp_path: Path, read_only: Callable[..., None]) -> None:
    target = tmp_path / "new"
    read_only(tmp_path)
    done = runner.invoke(app, ["init", str(target)])
    assert done.exit_code == ExitCode.USAGE and "read-only file system" in done.stderr and "Traceback" not in done.stderr
    assert not target.exists()
