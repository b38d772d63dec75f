"""store._parallel: chunked work in a process pool whose workers never outlive their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modreg.registry.store._parallel import THRESHOLD, map_chunked

# The parent starts a pool whose workers write their pid and then block; the test kills the parent.
STUCK_POOL = """
import os, sys, time
from pathlib import Path
from modreg.registry.store import _parallel

def stuck(chunk):
    Path(sys.argv[1], str(os.getpid())).touch()
    time.sleep(120)
    return chunk

_parallel.worker_count = lambda: 2
_parallel.map_chunked(stuck, list(range(_parallel.THRESHOLD + 1)))
"""


def _double(chunk: list[int]) -> list[int]:
    return [2 * item for item in chunk]


def test_results_come_back_in_item_order_in_and_out_of_the_pool() -> None:
    for count in (3, THRESHOLD + 57):
        assert map_chunked(_double, list(range(count))) == [2 * item for item in range(count)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:  # a zombie waits for its reaper, it runs no more
        return handle.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3] / "src")}
    parent = subprocess.Popen([sys.executable, "-c", STUCK_POOL, str(tmp_path)], env=env)
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = [int(path.name) for path in tmp_path.iterdir()]
        assert len(workers) == 2
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(30)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:  # never leave them running past the test
        os.kill(pid, signal.SIGKILL)
    assert not left
