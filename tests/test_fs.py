"""modreg._fs: atomic writes keep a device or a pipe that is the target (`--output /dev/null`)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg._fs import write_atomic
from modreg.cli import app

AIR = Path(__file__).resolve().parent / "data" / "air_passengers.csv"
pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")


def _drain(fifo: Path, into: list[bytes]) -> threading.Thread:
    """A reader of `fifo` in a thread (a pipe's writer blocks until one opens it)."""
    def read() -> None:
        with open(fifo, "rb") as handle:
            into.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader


def test_a_named_pipe_is_written_into_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = _drain(fifo, received)
    write_atomic(fifo, "ds,y\n")
    reader.join(10)
    assert received == [b"ds,y\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]  # no temp file left


def test_run_output_to_a_pipe_keeps_the_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "forecasts"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = _drain(fifo, received)
    result = CliRunner().invoke(app, ["run", "Naive", "--data", str(AIR), "--horizon", "3", "--output", str(fifo)])
    reader.join(10)
    assert result.exit_code == 0, result.output
    assert received and received[0].decode().startswith("unique_id,ds,Naive\n")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_inside_a_registry_a_pipe_is_replaced_so_no_write_can_stall(tmp_path: Path) -> None:
    fifo = tmp_path / "index" / "registry.json"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    write_atomic(fifo, "{}\n", root=tmp_path)  # with no reader, writing into the pipe would block
    assert stat.S_ISREG(os.stat(fifo).st_mode)
    assert fifo.read_text() == "{}\n"
