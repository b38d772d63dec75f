"""Fixtures of the hostile-registry tests: a fresh copy of registry.example, and a folder outside it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "registry.example"


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """registry.example as a clone would bring it (no local cache)."""
    target = tmp_path / "clone"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".modreg"))
    return target


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the clone with one file that nothing may read, change or add to."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me\n")
    return folder
