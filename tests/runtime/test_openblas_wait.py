"""`modreg.runtime` asks OpenBLAS for short idle spins before numpy loads it, unless told otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = "import os, modreg.runtime, numpy; print(os.environ['OPENBLAS_THREAD_TIMEOUT'])"


@pytest.mark.parametrize(("given", "expected"), [(None, "4"), ("12", "12")])
def test_the_runtime_sets_the_openblas_wait_unless_the_environment_did(given: str | None, expected: str) -> None:
    env = {key: value for key, value in os.environ.items() if key != "OPENBLAS_THREAD_TIMEOUT"}
    if given is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = given
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == expected


def test_registry_commands_do_not_touch_the_environment() -> None:
    env = {key: value for key, value in os.environ.items() if key != "OPENBLAS_THREAD_TIMEOUT"}
    code = "import os, modreg.cli, modreg.api; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "None"
