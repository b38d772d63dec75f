"""How modreg's registry commands scale: wall times at 1,000 and 10,000 descriptors.

    python benchmarks/registry_scale.py [--sizes 1000 10000] [--repeat 3]

Each registry is generated in a temporary folder from `registry.example/`: entry i is a copy of
example model i mod 26 (tags, capabilities, runtime parameters, history, dependencies and
deprecations included), renamed into its own family so that every reference resolves, and
written as TOML or YAML like its model. The real CLI then runs in subprocesses, best of
`--repeat`: `modreg --help`, `validate`, `list`, `show`, `update --dry-run`, and one real
`register`, `update` and `version`, next to a bare interpreter start (the floor every command
pays). Wall and CPU seconds are both printed: on a busy machine wall times grow with the load,
CPU times hardly.

Then many writers at once (`--writers 200`, `--same 100`; 0 skips them): that many `modreg
register` processes of different names started together, with default settings, then as many
of one name. Printed: how many succeeded and how many gave up, the wall time from the first
start to the last exit, the throughput (registers per second), the longest single command
(start to exit: its wait in line included), and whether every register is in models/ and in
the audit log.
"""

from __future__ import annotations

import argparse
import json
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
    figures = [(label, *best_of(args, repeat)) for label, args in commands.items()]
    for label, args in _mutations(root, names, modreg).items():
        figures.append((label, *best_of(args, 1)))  # each changes the registry: run once
    return figures


def _mutations(root: Path, names: list[str], modreg: list[str]) -> dict[str, list[str]]:
    """One real register, update and version (they write; the lock and the audit line included)."""
    target = names[len(names) // 3]
    base = [*modreg, "-r", str(root)]
    return {
        "register NEW --category custom ...": [*base, "register", "BenchNew", *_FIELDS],
        f"update {target} --tag bench": [*base, "update", target, "--tag", "bench"],
        f"version {target} --bump patch -m ...": [*base, "version", target, "--bump", "patch", "-m", "benchmark"],
    }


FAILURES: set[str] = set()  # the first line of each distinct error a writer printed

# What registry.example's policy requires of a new entry (modreg.toml [validation] required_fields).
_FIELDS = ("--category", "custom", "--summary", "Written by a benchmark", "--description", "An entry the benchmark registers.",
           "--author", "Bench <bench@example.org>", "--tag", "bench", "--capability", "univariate")


def writers(root: Path, names: list[str]) -> tuple[float, float, list[int]]:
    """Start one `modreg register` per name at once; (wall from first start to last exit,
    longest single command, exit codes)."""
    modreg = modreg_command()
    env = {**os.environ, "NO_COLOR": "1"}
    started = time.perf_counter()
    processes = []
    for name in names:
        args = [*modreg, "-r", str(root), "register", name, *_FIELDS]
        processes.append((time.perf_counter(), subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)))
    longest, codes, errors = 0.0, [], set()
    pending = dict(enumerate(processes))
    while pending:
        for index, (begun, process) in list(pending.items()):
            if process.poll() is not None:
                longest = max(longest, time.perf_counter() - begun)
                codes.append(process.returncode)
                message = process.communicate()[1].decode("utf-8", "replace").strip().splitlines()
                if process.returncode and message:
                    errors.add(message[0].replace(str(root), "ROOT"))
                del pending[index]
        time.sleep(0.01)
    FAILURES.update(errors)
    return time.perf_counter() - started, longest, codes


def measure_writers(root: Path, count: int, same: int) -> list[str]:
    """The lines reporting `count` writers of different names and `same` writers of one name."""
    lines = []
    names = [f"Writer{i:04d}" for i in range(count)]
    before = _audit_lines(root)
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, longest, codes = writers(root, names)
    used = _cpu_since(cpu)
    done = sum(code == 0 for code in codes)
    present = sum((root / "models" / f"{name}.toml").is_file() for name in names)
    logged = _audit_lines(root) - before
    lines.append(f"  {count} registers of different names at once: {done} ok, {sum(code == 4 for code in codes)} exit 4, "
                 f"{sum(code not in (0, 4) for code in codes)} other; {present} files and {logged} audit lines written")
    lines.append(f"    {wall:.1f} s wall ({used:.1f} s CPU) from first start to last exit: {done / wall:.1f} registers/s; "
                 f"longest command {longest:.1f} s (its wait in line included)")
    if same:
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, longest, codes = writers(root, ["SameName"] * same)
        lines.append(f"  {same} registers of one name at once: {sum(code == 0 for code in codes)} ok, "
                     f"{sum(code == 4 for code in codes)} exit 4 (name taken), {sum(code not in (0, 4) for code in codes)} other; "
                     f"{wall:.1f} s wall ({_cpu_since(cpu):.1f} s CPU), longest command {longest:.1f} s")
    lines.extend(f"    a writer's error: {message}" for message in sorted(FAILURES)[:5] if "already exists" not in message)
    return lines


def _cpu_since(before: resource.struct_rusage) -> float:
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def _audit_lines(root: Path) -> int:
    try:
        return sum(1 for line in (root / "audit.jsonl").read_text(encoding="utf-8").splitlines() if json.loads(line))
    except FileNotFoundError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--writers", type=int, default=200, help="concurrent registers of different names (0: none)")
    parser.add_argument("--same", type=int, default=100, help="concurrent registers of one name")
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
            if options.writers:
                print("\n".join(measure_writers(root, options.writers, options.same)), flush=True)
            print(f"  (load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
