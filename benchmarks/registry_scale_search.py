"""Search, index and show at 1,000 / 10,000 / 100,000 generated descriptors.

    python benchmarks/registry_scale_search.py                 # 1k and 10k
    python benchmarks/registry_scale_search.py 1000 10000 100000
    python benchmarks/registry_scale_search.py --keep /tmp/reg 10000

Each size gets a fresh registry of realistic descriptors (1-2 KB, 70% TOML and 30% YAML,
history, runtime parameters, performance on 40% of them), made deterministically from a seed.
Every figure is a whole `modreg` process, start to exit, as a user would see it:

    index cold        no .modreg/ cache and no index/: parse everything, write five files
    index 1 edit      one descriptor's summary changed: re-parse one file, rewrite what changed
    search cold       no cache: parse everything into it, then rank
    search warm       cache up to date: stat the files, rank with FTS5 (median of 5)
    search --where    an expression over performance, tags and category (median of 3)
    show              one entry (median of 3)

Two floors come first, since every figure includes them and they follow the machine's load:
a bare `python -c pass`, and `modreg --help` (interpreter, typer).

Each figure is printed as wall seconds and CPU seconds (user + system of the process and its
workers): on a busy machine wall times grow with the load, CPU times hardly. The load average
is printed at the end.

Files are made older than the cache's racy window before timing (as in a real checkout,
where descriptors are not seconds old), so "warm" means what it means in daily use.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CATEGORIES = ("basic", "recurrent", "advanced", "transformer", "specialized", "custom")
CAPABILITIES = ("univariate", "multivariate", "multi_step", "probabilistic", "exogenous", "batch_processing", "long_horizon", "interpretable")
TAGS = (
    "energy", "retail", "finance", "weather", "traffic", "demand", "sales", "mlp", "rnn", "lstm", "gru",
    "attention", "transformer", "convolutional", "linear", "baseline", "decomposition", "long-horizon",
    "probabilistic", "hierarchical", "intermittent", "seasonal", "trend", "residual", "mixer", "patching",
    "frequency-domain", "graph", "covariates", "quantile", "ensemble", "neural", "classical", "fast",
    "gpu-free", "streaming", "multi-rate", "encoder-decoder", "dilated", "benchmark",
)
WORDS = (
    "forecast horizon window series seasonal trend residual block stack layer encoder decoder attention "
    "hidden state gate kernel pooling interpolation basis expansion patch token channel mixing linear "
    "quantile distribution sample path covariate exogenous static calendar holiday demand load price "
    "volume sensor traffic weather energy retail scaling normalisation dropout learning rate steps"
).split()
RUNTIME_MODELS = ("MLP", "NHITS", "NBEATS", "LSTM", "GRU", "TCN", "DLinear", "NLinear", "PatchTST")
DATASETS = ("air-passengers", "uk-gas", "nile", "visnights")
AUTHORS = tuple(f"Team {i:02d} <team{i:02d}@example.org>" for i in range(40))
WHERE = "performance.mase < 0.9 and (tags in ['energy','retail'] or category = 'advanced')"


# ----- generating a registry -----


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _entry(rng: random.Random, index: int, total: int) -> dict:
    name = f"Model{index:06d}"
    status = rng.choices(("active", "deprecated", "archived"), (90, 7, 3))[0]
    major, minor = rng.randint(1, 3), rng.randint(0, 9)
    entry = {
        "name": name,
        "version": f"{major}.{minor}.{rng.randint(0, 5)}",
        "category": rng.choice(CATEGORIES),
        "status": status,
        "summary": " ".join(rng.choices(WORDS, k=rng.randint(6, 12))).capitalize(),
        "description": "\n".join(" ".join(rng.choices(WORDS, k=14)) + "." for _ in range(rng.randint(2, 6))),
        "authors": rng.sample(AUTHORS, rng.randint(1, 2)),
        "tags": rng.sample(TAGS, rng.randint(2, 6)),
        "capabilities": rng.sample(CAPABILITIES, rng.randint(2, 5)),
        "created": f"2026-0{rng.randint(1, 9)}-{rng.randint(10, 28)}",
        "updated": f"2026-1{rng.randint(0, 2)}-{rng.randint(10, 28)}",
        "history": [
            {"version": f"{major}.{m}.0", "date": f"2026-0{m + 1}-01", "summary": " ".join(rng.choices(WORDS, k=5))}
            for m in range(min(minor, rng.randint(0, 3)))
        ],
    }
    if rng.random() < 0.7:
        entry["runtime"] = {
            "model": rng.choice(RUNTIME_MODELS),
            "params": {"h": rng.choice((6, 12, 24)), "input_size": rng.choice((12, 24, 48)), "max_steps": rng.choice((100, 200, 500))},
        }
    if rng.random() < 0.4:
        entry["performance"] = {
            "dataset": rng.choice(DATASETS),
            "horizon": 12,
            "mase": round(rng.uniform(0.5, 1.6), 3),
            "smape": round(rng.uniform(2.0, 20.0), 2),
            "fit_seconds": round(rng.uniform(0.1, 30.0), 2),
        }
    if index > 0 and rng.random() < 0.2:
        entry["dependencies"] = {f"Model{rng.randrange(index):06d}": f">={major}.0,<{major + 1}"}
    if status == "deprecated":
        entry["deprecation"] = {"reason": "superseded", "replacement": f"Model{(index + 1) % total:06d}", "since": "2026-10-01", "sunset": "2027-06-01"}
    entry["metadata"] = {"paper": f"https://arxiv.org/abs/2{rng.randint(100, 999)}.{rng.randint(10000, 99999)}"}
    return entry


def _toml(entry: dict) -> str:
    lines = ["schema_version = 1"]
    for key in ("name", "version", "category", "status", "summary"):
        lines.append(f"{key} = {_q(entry[key])}")
    lines.append(f'description = """\n{entry["description"]}"""')
    for key in ("authors", "tags", "capabilities"):
        lines.append(f"{key} = [{', '.join(_q(v) for v in entry[key])}]")
    lines += [f"created = {entry['created']}", f"updated = {entry['updated']}"]
    if "runtime" in entry:
        runtime = entry["runtime"]
        lines += ["", "[runtime]", f"model = {_q(runtime['model'])}", 'precision = "float32"', "", "[runtime.params]"]
        lines += [f"{k} = {v}" for k, v in runtime["params"].items()]
    for table in ("dependencies", "deprecation", "performance", "metadata"):
        if table in entry:
            lines += ["", f"[{table}]"]
            for key, value in entry[table].items():
                bare = isinstance(value, (int, float)) or key in ("since", "sunset")
                lines.append(f"{_q(key) if '.' in key else key} = {value if bare else _q(value)}")
    for item in entry["history"]:
        lines += ["", "[[history]]", f"version = {_q(item['version'])}", f"date = {item['date']}", f"summary = {_q(item['summary'])}"]
    return "\n".join(lines) + "\n"


def _yaml(entry: dict) -> str:
    lines = ["schema_version: 1"]
    for key in ("name", "version", "category", "status", "summary"):
        lines.append(f"{key}: {_q(entry[key])}")
    lines.append("description: |")
    lines += [f"  {line}" for line in entry["description"].split("\n")]
    for key in ("authors", "tags", "capabilities"):
        lines.append(f"{key}: [{', '.join(_q(v) for v in entry[key])}]")
    lines += [f"created: {entry['created']}", f"updated: {entry['updated']}"]
    if "runtime" in entry:
        runtime = entry["runtime"]
        lines += ["runtime:", f"  model: {_q(runtime['model'])}", "  precision: float32", "  params:"]
        lines += [f"    {k}: {v}" for k, v in runtime["params"].items()]
    for table in ("dependencies", "deprecation", "performance", "metadata"):
        if table in entry:
            lines.append(f"{table}:")
            for key, value in entry[table].items():
                bare = isinstance(value, (int, float)) or key in ("since", "sunset")
                lines.append(f"  {key}: {value if bare else _q(value)}")
    if entry["history"]:
        lines.append("history:")
        for item in entry["history"]:
            lines += [f"  - version: {_q(item['version'])}", f"    date: {item['date']}", f"    summary: {_q(item['summary'])}"]
    return "\n".join(lines) + "\n"


def generate(root: Path, count: int, seed: int = 7) -> None:
    """A registry of `count` descriptors at `root` (which must not exist)."""
    rng = random.Random(seed)
    models = root / "models"
    models.mkdir(parents=True)
    (root / "modreg.toml").write_text("schema_version = 1\n", encoding="utf-8")
    for index in range(count):
        entry = _entry(rng, index, count)
        yaml = rng.random() < 0.3
        text = _yaml(entry) if yaml else _toml(entry)
        (models / f"{entry['name']}.{'yaml' if yaml else 'toml'}").write_text(text, encoding="utf-8")


# ----- timing -----


Timing = tuple[float, float]  # (wall seconds, CPU seconds)


def _seconds(command: list[str]) -> Timing:
    """Wall and CPU seconds one process takes, start to exit (it must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"`{' '.join(command)}` failed ({done.returncode}):\n{done.stderr}")
    return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def _modreg(root: Path, *args: str) -> Timing:
    """Seconds one `modreg --registry ROOT ARGS...` process takes."""
    return _seconds([sys.executable, "-m", "modreg", "--registry", str(root), *args])


def _median(root: Path, runs: int, *args: str) -> Timing:
    return _middle([_modreg(root, *args) for _ in range(runs)])


def _middle(timings: list[Timing]) -> Timing:
    return statistics.median(wall for wall, _ in timings), statistics.median(cpu for _, cpu in timings)


def _edit_one(root: Path) -> None:
    path = sorted((root / "models").glob("*.toml"))[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("summary = \"", "summary = \"Edited: ", 1), encoding="utf-8")


def measure(root: Path, count: int) -> dict[str, Timing]:
    from modreg.registry.search.cache import RACY_NS

    start = time.perf_counter()
    generate(root, count)
    generated = time.perf_counter() - start
    time.sleep(max(0.0, RACY_NS / 1e9 - generated) + 0.1)
    figures: dict[str, Timing] = {"generate": (generated, time.process_time())}
    figures["python -c pass (floor)"] = _middle([_seconds([sys.executable, "-c", "pass"]) for _ in range(3)])
    figures["modreg --help (floor)"] = _median(root, 3, "--help")
    figures["index cold"] = _modreg(root, "index")
    figures["index warm (no change)"] = _modreg(root, "index")
    _edit_one(root)
    figures["index 1 edit"] = _modreg(root, "index")
    shutil.rmtree(root / ".modreg")
    figures["search cold"] = _modreg(root, "search", "long horizon")
    figures["search warm"] = _median(root, 5, "search", "long horizon")
    figures["search --where"] = _median(root, 3, "search", "--where", WHERE)
    figures["show"] = _median(root, 3, "show", "Model000001")
    return figures


def _fingerprint() -> str:
    """The cache's code fingerprint, read afresh (a change mid-run invalidates the figures)."""
    done = subprocess.run(
        [sys.executable, "-c", "from modreg.registry.search.cache import code_fingerprint; print(code_fingerprint())"],
        capture_output=True, text=True, check=True,
    )
    return done.stdout.strip()


def _table(results: dict[int, dict[str, Timing]]) -> str:
    sizes = sorted(results)
    rows = list(next(iter(results.values())))
    width = max(len(row) for row in rows)
    lines = [f"{'':{width}}  " + "  ".join(f"{f'{size:,} wall / cpu s':>22}" for size in sizes)]
    for row in rows:
        lines.append(f"{row:{width}}  " + "  ".join(f"{results[size][row][0]:>10.3f} / {results[size][row][1]:>7.3f}  " for size in sizes))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000, 10_000])
    parser.add_argument("--keep", type=Path, help="build the registries under this folder and keep them")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="modreg-scale-"))
    results = {}
    try:
        for size in args.sizes:
            root = base / f"registry-{size}"
            shutil.rmtree(root, ignore_errors=True)
            before = _fingerprint()
            results[size] = measure(root, size)
            if _fingerprint() != before:
                print(f"warning: modreg's code changed while timing {size:,}: its cache was rebuilt", file=sys.stderr)
            print(f"{size:,} descriptors done", file=sys.stderr, flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    print(_table(results))
    print(f"load average {os.getloadavg()[0]:.2f} (1 min), {os.getloadavg()[1]:.2f} (5 min), {os.cpu_count()} CPUs; "
          f"largest resident memory of any modreg process: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
