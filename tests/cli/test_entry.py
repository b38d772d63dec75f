"""`modreg` / `python -m modreg` start-up: Ctrl-C while the CLI is still being imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import modreg
from modreg._entry import INTERRUPTED
from modreg.errors import ExitCode


def test_the_entry_uses_the_documented_interrupt_code() -> None:
    assert INTERRUPTED == ExitCode.INTERRUPTED


def test_ctrl_c_during_start_up_is_interrupted_not_a_traceback(tmp_path: Path) -> None:
    fake = tmp_path / "typer"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise KeyboardInterrupt  # Ctrl-C while typer is imported\n")
    src = Path(modreg.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(src)])}
    done = subprocess.run([sys.executable, "-m", "modreg", "--help"], capture_output=True, text=True, env=env,
                          timeout=60, check=False, cwd=tmp_path)
    assert (done.returncode, done.stderr, done.stdout) == (INTERRUPTED, "interrupted\n", "")
