"""A terminal in an ASCII locale (LC_ALL=C with Python's UTF-8 mode and locale coercion off):
what it cannot show is escaped, and the command still succeeds (`show` printed `·` and ended
in a UnicodeEncodeError traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import modreg

EXAMPLE = Path(__file__).resolve().parents[2] / "registry.example"


def test_show_in_an_ascii_locale_escapes_what_it_cannot_print() -> None:
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "PYTHONIOENCODING": "",
           "PYTHONPATH": str(Path(modreg.__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-m", "modreg", "--registry", str(EXAMPLE), "show", "NHITS"],
                          capture_output=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode("ascii", "replace")
    assert done.stdout.splitlines()[0] == rb"NHITS 1.2.0  \xb7  advanced  \xb7  active" and done.stderr == b""
