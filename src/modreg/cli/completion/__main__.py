"""`python -m modreg.cli.completion [FOLDER]`: write the three completion scripts (default: completions/)."""

from __future__ import annotations

import sys
from pathlib import Path

from modreg.cli.completion import write_all

target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[4] / "completions"
for path in write_all(target):
    print(path)
