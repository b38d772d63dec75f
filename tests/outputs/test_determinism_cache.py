"""The local cache never makes `build --check` disagree with a machine that has no cache.

The cache keeps rendered index fragments and the digests of the files it generated, and trusts
them while `code_fingerprint()` (a hash of the code that renders them) is unchanged. A change to
any module that shapes those bytes must therefore change the fingerprint; otherwise, after an
upgrade, a contributor's `build --check` says "up to date" from the cache while CI, building
from scratch, says stale.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import modreg

PACKAGE = Path(modreg.__file__).resolve().parent
# Modules whose code decides the bytes of index/ and reports/ beyond outputs/*.py.
SHAPING = ("registry/store/canonical.py", "registry/store/fields.py")


def _fingerprint(src: Path) -> str:
    code = "from modreg.registry.search._cacheschema import code_fingerprint; print(code_fingerprint())"
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.parametrize("module", SHAPING)
def test_a_change_to_code_that_shapes_the_outputs_renews_the_cache(tmp_path: Path, module: str) -> None:
    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src / "modreg", ignore=shutil.ignore_patterns("__pycache__"))
    before = _fingerprint(src)
    with (src / "modreg" / module).open("a", encoding="utf-8") as handle:
        handle.write("\n# a release that changes how the outputs are rendered\n")
    assert _fingerprint(src) != before
