"""Registry commands start without numpy: checked in a fresh interpreter per command.

The static arrows between packages are import-linter's job (tests/test_layers.py); this file
checks what a command actually loads, lazy imports included.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "modreg"
EXAMPLE = Path(__file__).resolve().parents[1] / "registry.example"

PROBE = """
import json, sys
from modreg.cli import main
sys.argv = ["modreg", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as done:
    code = done.code
heavy = sorted({m.split(".")[0] if m.startswith("numpy") else m for m in sys.modules
                if m == "numpy" or m.startswith(("numpy.", "modreg.runtime", "jsonschema"))})
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def _run(args: list[str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, timeout=120, cwd=EXAMPLE
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [["--help"], ["list", "--json"], ["show", "NHITS"], ["update", "--help"], ["search", "lstm"],
     ["search", "--where", "version > 1.0"], ["stats"], ["history", "NHITS"], ["plugin", "list"]],
    ids=" ".join,
)
def test_registry_commands_import_neither_numpy_nor_jsonschema(args: list[str]) -> None:
    result = _run(args)
    assert result["code"] in (0, None)
    assert result["heavy"] == []


def test_validate_never_imports_numpy_or_the_runtime() -> None:
    result = _run(["validate", "--json"])
    assert not [m for m in result["heavy"] if not str(m).startswith("jsonschema")]  # type: ignore[union-attr]
