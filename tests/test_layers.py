"""The tree's layers hold: import-linter's contracts, no import loops, small modules.

The contracts live in pyproject.toml (`[tool.importlinter]`): the layers of DESIGN.md
section 1, numpy and the runtime forbidden to the registry, the runtime kept a pure numpy
library. A deliberately wrong import in a copy of the package must fail them, naming the line.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "modreg"
MAX_LINES = 400


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the package under `root/src`, with the project's contracts."""
    env = {"PYTHONPATH": str(root / "src"), "PATH": "/usr/bin:/bin", "HOME": str(root)}
    return subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
                           "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          capture_output=True, text=True, cwd=root, env=env, timeout=300)


def test_the_import_contracts_hold() -> None:
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(("module", "wrong_import", "contract"), [
    ("runtime/metrics.py", "from modreg.registry.store import layout", "The runtime is a numpy library"),
    ("registry/store/names.py", "import numpy", "Registry commands never import numpy"),
    ("outputs/stats.py", "from modreg.plugins import base", "Plugins and outputs are independent"),
])
def test_a_wrong_import_breaks_a_contract_and_names_its_line(tmp_path: Path, module: str, wrong_import: str,
                                                               contract: str) -> None:
    shutil.copytree(SOURCE, tmp_path / "src" / "modreg", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "src" / "modreg" / module
    lines = target.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(("from ", "import ")))
    lines.insert(at, wrong_import)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = _lint(tmp_path)
    assert done.returncode == 1
    assert f"{contract}" in done.stdout and "BROKEN" in done.stdout
    assert f"(l.{at + 1})" in done.stdout


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph("modreg", exclude_type_checking_imports=True)
    loops = [sorted(group) for group in _strongly_connected(graph) if len(group) > 1]
    assert loops == []


def test_importing_the_runtime_loads_nothing_of_the_registry() -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import modreg.runtime.models"],
                          capture_output=True, text=True, timeout=120)
    loaded = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line]
    assert "modreg.runtime.models" in loaded
    outside = [m for m in loaded if m.startswith(("modreg.registry", "modreg.plugins", "modreg.outputs", "modreg.cli",
                                                  "modreg.forecast", "modreg.api"))]
    assert outside == []


def test_every_module_stays_under_400_lines() -> None:
    long = {str(p.relative_to(SOURCE)): n for p in SOURCE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def _strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's strongly connected components of the module import graph (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[set[str]] = []
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups
