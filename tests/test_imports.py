"""Import discipline: registry commands start without numpy, and the layout's arrows point one way.

`cli -> api -> (registry, outputs, plugins, runtime)`: registry/ and outputs/ never import
runtime/ or cli/ (nor numpy), and runtime/ never imports cli/. Checked on the source (every
import statement, also those inside functions) and, for the commands, in a fresh interpreter.
"""

from __future__ import annotations

import ast
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


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found += [(node.lineno, f"{base}.{alias.name}" if base.endswith("modreg") else base) for alias in node.names]
    return found


FORBIDDEN = {
    "registry": ("modreg.runtime", "modreg.cli", "numpy"),
    "outputs": ("modreg.runtime", "modreg.cli", "numpy"),
    "runtime": ("modreg.cli",),
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_import_only_downwards(layer: str) -> None:
    folder = SOURCE / layer
    assert folder.is_dir() or layer == "outputs", f"{folder} is missing"
    offences = [
        f"{path.relative_to(SOURCE)}:{line}: imports {module}"
        for path in sorted(folder.rglob("*.py"))
        for line, module in _imports(path)
        if any(module == banned or module.startswith(banned + ".") for banned in FORBIDDEN[layer])
    ]
    assert offences == []
