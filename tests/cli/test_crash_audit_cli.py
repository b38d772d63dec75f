"""`build` killed mid-write, and a lock held elsewhere, as the command line shows them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from modreg._fs import TEMP_PREFIX
from modreg.cli import app
from modreg.errors import ExitCode

runner = CliRunner()

# `build` killed (as by kill -9) after writing its generated files' temp files, at the first rename.
KILLED_BUILD = """
import os, sys
from modreg.api import build

real = os.replace
def replace(source, target, *args, **kwargs):
    if "index" in str(target) or "reports" in str(target):
        os._exit(9)
    real(source, target, *args, **kwargs)
os.replace = replace
build(registry=sys.argv[1])
"""


def test_the_next_build_sweeps_what_a_killed_build_left_in_index(clone: Path) -> None:
    before = {p.name: p.read_bytes() for p in (clone / "index").iterdir()}
    (clone / "models" / "Naive.toml").write_text((clone / "models" / "Naive.toml").read_text().replace("summary = \"", "summary = \"New: ", 1))
    done = subprocess.run([sys.executable, "-c", KILLED_BUILD, str(clone)], capture_output=True, timeout=60)
    assert done.returncode == 9
    left = [p for folder in ("index", "reports") for p in (clone / folder).iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert left  # the killed build's temp files (it stages every changed output before the first rename)
    assert {p.name: p.read_bytes() for p in (clone / "index").iterdir() if not p.name.startswith(TEMP_PREFIX)} == before
    result = runner.invoke(app, ["-r", str(clone), "build"])
    assert result.exit_code == 0, result.output
    assert not [p for folder in ("index", "reports") for p in (clone / folder).iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert runner.invoke(app, ["-r", str(clone), "build", "--check"]).exit_code == 0


def test_update_while_a_modreg_on_another_host_holds_the_lock(clone: Path, lock_held_elsewhere: Any) -> None:
    with lock_held_elsewhere(clone, recorded="3131 ci-runner-2\n"):
        before = (clone / "models" / "Naive.toml").read_bytes()
        result = runner.invoke(app, ["-r", str(clone), "update", "Naive", "--tag", "fresh", "--lock-timeout", "0.2"])
    assert result.exit_code == ExitCode.CONFLICT
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("hint:")
    assert "process 3131 on host ci-runner-2" in lines[0] and "Traceback" not in result.output
    assert (clone / "models" / "Naive.toml").read_bytes() == before
