"""Code in a cloned registry's folder never runs in modreg's child processes (issue 16, point 2)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "registry.example"
PLANTED = "import pathlib; pathlib.Path({sentinel!r}).write_text('ran')\nraise SystemExit('planted module ran')\n"


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of registry.example whose root holds json.py and socket.py that leave a sentinel."""
    registry = tmp_path / "registry"
    shutil.copytree(EXAMPLE, registry, ignore=shutil.ignore_patterns(".modreg"))
    sentinel = tmp_path / "sentinel"
    for name in ("json.py", "socket.py", "selectors.py"):
        (registry / name).write_text(PLANTED.format(sentinel=str(sentinel)))
    return registry, sentinel


def _modreg(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from modreg.cli import main; sys.argv = ['modreg', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-I", "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_plugin_health_children_ignore_the_registry_folder(planted: tuple[Path, Path]) -> None:
    registry, sentinel = planted
    done = _modreg(registry, "--registry", ".", "plugin", "health", "seasonal_ets")
    assert not sentinel.exists(), done.stderr
    assert done.returncode == 0, done.stdout + done.stderr


def test_bench_workers_ignore_the_registry_folder(planted: tuple[Path, Path]) -> None:
    registry, sentinel = planted
    done = _modreg(registry, "--registry", ".", "bench", "Naive", "SeasonalNaive", "--data", "data/air_passengers.csv",
                   "--horizon", "12", "--jobs", "2")
    assert not sentinel.exists(), done.stderr
    assert done.returncode == 0, done.stdout + done.stderr
