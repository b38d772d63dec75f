"""How modreg's registry commands scale: wall times at 1,000 and 10,000 descriptors.

    python benchmarks/registry_scale.py [--sizes 1000 10000] [--repeat 3]

Each registry is generated in a temporary folder from `registry.example/`: entry i is a copy of
example model i mod 26 (tags, capabilities, runtime parameters, history, dependencies and
deprecations included), renamed into its own family so that every reference resolves, and
written as TOML or YAML like its model. The real CLI then runs in subprocesses, best of
`--repeat`: `modreg --help`, `validate`, `list`, `show`, and `update --dry-run`, next to a bare
interpreter start (the floor every command pays). Wall and CPU seconds are both printed: on a
busy machine wall times grow with the load, CPU times hardly.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "registry.example"


def load_examples() -> list[tuple[dict[str, Any], str]]:
    """(data, format) of every example descriptor, sorted by name."""
    from modreg.registry.store.files import read_document

    examples = []
    for path in sorted((EXAMPLE / "models").iterdir()):
        if path.suffix in (".toml", ".yaml", ".yml"):
            doc = read_document(path)
            examples.append((doc.data, doc.fmt))
    return examples


def generate(root: Path, size: int) -> list[str]:
    """A registry of `size` descriptors at `root`; returns the entry names."""
    from modreg.registry.store.descriptor import dumps_toml, dumps_yaml
    from modreg.registry.store.init import init_registry

    init_registry(root)
    shutil.copy(EXAMPLE / "modreg.toml", root / "modreg.toml")
    shutil.copytree(EXAMPLE / "templates", root / "templates", dirs_exist_ok=True)
    shutil.copytree(EXAMPLE / "plugins", root / "plugins", dirs_exist_ok=True)  # SeasonalETS's model
    examples = load_examples()
    names = [f"{examples[i % len(examples)][0]['name']}-f{i // len(examples):04d}" for i in range(size)]
    present = set(names)
    for index, name in enumerate(names):
        data, fmt = examples[index % len(examples)]
        entry = _renamed(data, name, f"-f{index // len(examples):04d}", present)
        text = dumps_yaml(entry) if fmt == "yaml" else dumps_toml(entry)
        (root / "models" / f"{name}.{fmt}").write_text(text, encoding="utf-8")
    return names


def _renamed(data: dict[str, Any], name: str, family: str, present: set[str]) -> dict[str, Any]:
    """`data` as entry `name`, its references pointing into the same family (or dropped)."""
    entry = {**data, "name": name}
    dependencies = {f"{dep}{family}": rng for dep, rng in data.get("dependencies", {}).items() if f"{dep}{family}" in present}
    entry.pop("dependencies", None)
    if dependencies:
        entry["dependencies"] = dependencies
    deprecation = data.get("deprecation")
    if deprecation and f"{deprecation.get('replacement')}{family}" in present:
        entry["deprecation"] = {**deprecation, "replacement": f"{deprecation['replacement']}{family}"}
    elif deprecation:
        entry.pop("deprecation")
        entry["status"] = "active"
    return entry


def modreg_command() -> list[str]:
    found = shutil.which("modreg")
    return [found] if found else [sys.executable, "-m", "modreg"]


def best_of(args: list[str], repeat: int) -> tuple[float, float, int]:
    """The shortest wall time and CPU time (user + system, workers included) of `repeat` runs,
    and the exit code. CPU time hardly depends on how busy the machine is; wall time does."""
    walls, cpus, code = [], [], 0
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"})
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        code = done.returncode
    return min(walls), min(cpus), code


def measure(root: Path, names: list[str], repeat: int) -> list[tuple[str, float, float, int]]:
    modreg = modreg_command()
    target = names[len(names) // 2]
    commands = {
        "python -c pass (interpreter start, the floor)": [sys.executable, "-c", "pass"],
        "modreg --help": [*modreg, "--help"],
        "validate": [*modreg, "-r", str(root), "validate"],
        "list": [*modreg, "-r", str(root), "list"],
        f"show {target}": [*modreg, "-r", str(root), "show", target],
        f"update {target} --tag x --dry-run": [*modreg, "-r", str(root), "update", target, "--tag", "bench", "--dry-run"],
    }
    return [(label, *best_of(args, repeat)) for label, args in commands.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    print(f"modreg registry scale benchmark: best of {options.repeat}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    for size in options.sizes:
        with tempfile.TemporaryDirectory(prefix="modreg-scale-") as folder:
            root = Path(folder) / "registry"
            started = time.perf_counter()
            names = generate(root, size)
            print(f"\n{size:,} descriptors (generated in {time.perf_counter() - started:.1f} s)")
            print(f"  {'command':<48} {'wall s':>8} {'cpu s':>8}  exit")
            for label, wall, cpu, code in measure(root, names, options.repeat):
                print(f"  {label:<48} {wall:>8.3f} {cpu:>8.3f}  {code}")


if __name__ == "__main__":
    main()
