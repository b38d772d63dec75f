"""Runs and model loads that would exhaust memory are refused before allocating (issue 16, point 4).

The hostile cases run in a child process under an address-space limit (RLIMIT_AS, like
`ulimit -v`), as a small machine would be: modreg must exit 2 with the estimate, quickly,
instead of being killed or ending in a MemoryError traceback.
"""

from __future__ import annotations

import os
import resource
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import modreg
from modreg.cli import app
from modreg.errors import ExitCode
from modreg.runtime.memory import ENV_VAR

EXAMPLE = Path(__file__).resolve().parents[2] / "registry.example"
DATA = EXAMPLE / "data" / "air_passengers.csv"
LIMIT = 3 * 1024**3  # a small machine's address space
SECONDS = 60.0  # the refusals take about a second; a run that allocates would be killed or take minutes


def _limited(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))

    environment = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    environment["PYTHONPATH"] = str(Path(modreg.__file__).resolve().parents[1])
    environment.update(env or {})
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "modreg", "--registry", str(EXAMPLE), *args], capture_output=True,
                          text=True, timeout=300, preexec_fn=limit, env=environment)
    return done, time.monotonic() - started


def _refused(done: subprocess.CompletedProcess[str], seconds: float) -> None:
    assert done.returncode == ExitCode.USAGE, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and seconds < SECONDS
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "would need about" in errors[0] and "nothing was allocated" in errors[0], done.stderr


@pytest.mark.parametrize("args", [
    ["run", "Naive", "--horizon", "1000000000"],
    ["run", "MLP", "--param", "hidden_size=10000000", "--param", "max_steps=1"],
    ["run", "LSTM", "--param", "encoder_hidden_size=1000000", "--param", "max_steps=1"],
    ["run", "MLP", "--param", "num_layers=100000", "--param", "max_steps=1"],
], ids=["horizon", "hidden-size", "recurrent-size", "layers"])
def test_a_run_beyond_the_budget_exits_2_fast(args: list[str]) -> None:
    done, seconds = _limited(*args, "--data", str(DATA))
    _refused(done, seconds)


def test_an_ensemble_with_a_member_beyond_the_budget_exits_2_fast() -> None:
    member = '{model = "MLP", params = {hidden_size = 10000000}}'
    done, seconds = _limited("run", "Ensemble", "--data", str(DATA), "--horizon", "12",
                             "--param", f"members=[{member}]", "--param", "max_steps=1")
    _refused(done, seconds)
    assert "member 1 (MLP)" in done.stderr


def test_a_bench_beyond_the_budget_exits_2_before_any_fit() -> None:
    done, seconds = _limited("bench", "MLP", "--data", str(DATA), "--param", "hidden_size=10000000")
    _refused(done, seconds)


def _declaring(path: Path, declared: int) -> Path:
    """A small compressed .npz whose zip directory declares a member of `declared` bytes unpacked
    (its compressed size stays true, so the archive is well formed: Python 3.13's zipfile refuses
    entries whose stored bytes overlap, a different refusal)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive, archive.open("state/w.npy", "w") as member:
        np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": (declared // 8,)})
        member.write(bytes(64))
    raw = bytearray(path.read_bytes())
    central = raw.index(b"PK\x01\x02")
    header = 128  # write_array_header_1_0 pads the header to a multiple of 64 bytes
    struct.pack_into("<I", raw, central + 24, declared + header)  # the uncompressed size
    path.write_bytes(bytes(raw))
    return path


def test_a_small_model_file_declaring_gibibytes_exits_2_before_unpacking(tmp_path: Path) -> None:
    path = _declaring(tmp_path / "bomb.npz", 3 * 1024**3)
    assert path.stat().st_size < 1024
    done, seconds = _limited("run", "Naive", "--data", str(DATA), "--load", str(path))
    _refused(done, seconds)
    assert "bomb.npz" in done.stderr


def test_the_budget_can_be_lowered_and_raised_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.setenv(ENV_VAR, "1K")
    done = runner.invoke(app, ["--registry", str(EXAMPLE), "run", "Naive", "--data", str(DATA)])
    assert done.exit_code == ExitCode.USAGE and f"${ENV_VAR}" in done.stderr and "would need about" in done.stderr
    monkeypatch.setenv(ENV_VAR, "64G")
    done = runner.invoke(app, ["--registry", str(EXAMPLE), "run", "Naive", "--data", str(DATA)])
    assert done.exit_code == 0 and done.stdout.count("\n") == 13
    monkeypatch.setenv(ENV_VAR, "lots")
    done = runner.invoke(app, ["--registry", str(EXAMPLE), "run", "Naive", "--data", str(DATA)])
    assert done.exit_code == ExitCode.USAGE and "is not a memory size" in done.stderr


def test_an_allocation_the_estimate_missed_still_ends_in_one_sentence() -> None:
    """With the budget raised past the machine, the failed allocation is exit 2, not a traceback."""
    done, seconds = _limited("run", "MLP", "--data", str(DATA), "--param", "hidden_size=10000000",
                             "--param", "max_steps=1", env={ENV_VAR: "100000T"})
    assert done.returncode == ExitCode.USAGE and "Traceback" not in done.stderr and seconds < SECONDS
    assert "ran out of memory" in done.stderr
