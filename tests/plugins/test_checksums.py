"""Checksums: listing a plugin's files, verifying them, and `plugin lock` writing them."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from modreg.plugins.base import PluginIntegrityError
from modreg.plugins.checksums import plugin_files, read_regular, verify_files
from modreg.plugins.plugin_lock import lock_plugin
from modreg.plugins.manifest import read_manifest
from modreg.registry.store.layout import RegistryPaths

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import DemoPlugin


def _files(plugin: DemoPlugin) -> dict[str, str]:
    return tomllib.loads((plugin.folder / "plugin.toml").read_text())["files"]


def test_plugin_files_are_every_file_but_the_manifest_and_signature(demo: DemoPlugin) -> None:
    (demo.folder / "plugin.toml.sig").write_text("sig")
    (demo.folder / "data").mkdir()
    (demo.folder / "data" / "weights.csv").write_text("1,2\n")
    assert plugin_files(demo.folder, "demo") == ["data/weights.csv", "demo_model.py", "helpers.py"]


@pytest.mark.parametrize("make", ["pycache", "pyc", "fifo"])
def test_plugin_files_refuse_what_could_stand_in_for_a_source(demo: DemoPlugin, make: str) -> None:
    import os

    if make == "pycache":
        (demo.folder / "__pycache__").mkdir()
        (demo.folder / "__pycache__" / "x.pyc").write_bytes(b"\0")
    elif make == "pyc":
        (demo.folder / "helpers.pyc").write_bytes(b"\0")
    else:
        os.mkfifo(demo.folder / "pipe")
    with pytest.raises(PluginIntegrityError):
        plugin_files(demo.folder, "demo")


def test_lock_writes_the_sha256_of_every_file(make_plugin: Callable[..., DemoPlugin]) -> None:
    plugin = make_plugin(lock=False)
    result = lock_plugin(RegistryPaths(plugin.registry), plugin.folder)
    expected = {name: hashlib.sha256((plugin.folder / name).read_bytes()).hexdigest()
                for name in ("demo_model.py", "helpers.py")}
    assert result.written and result.files == expected == _files(plugin)
    assert "+[files]" in result.diff


def test_lock_keeps_comments_and_changes_only_the_files_table(demo: DemoPlugin) -> None:
    manifest = demo.folder / "plugin.toml"
    before = manifest.read_text()
    assert before.startswith("# A demo plugin for the tests.\n")
    (demo.folder / "helpers.py").write_text("import numpy as np\n\n\ndef repeat_last(y, h):\n    return np.full(h, y[-1])\n")
    result = lock_plugin(RegistryPaths(demo.registry), demo.folder)
    changed = [line for line in result.diff.splitlines() if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]
    assert len(changed) == 2 and all('"helpers.py"' in line for line in changed)
    assert manifest.read_text().splitlines()[:15] == before.splitlines()[:15]


def test_lock_twice_changes_nothing(demo: DemoPlugin) -> None:
    result = lock_plugin(RegistryPaths(demo.registry), demo.folder)
    assert not result.changed and not result.written


def test_lock_dry_run_writes_nothing(make_plugin: Callable[..., DemoPlugin]) -> None:
    plugin = make_plugin(lock=False)
    before = (plugin.folder / "plugin.toml").read_text()
    result = lock_plugin(RegistryPaths(plugin.registry), plugin.folder, dry_run=True)
    assert result.diff and not result.written and (plugin.folder / "plugin.toml").read_text() == before


def test_lock_appends_to_the_audit_log(make_plugin: Callable[..., DemoPlugin]) -> None:
    plugin = make_plugin()
    [line] = (plugin.registry / "audit.jsonl").read_text().splitlines()
    entry = json.loads(line)
    assert (entry["command"], entry["name"], entry["version"]) == ("plugin lock", "demo", "1.0.0")


def test_lock_removes_files_that_are_gone(demo: DemoPlugin) -> None:
    (demo.folder / "extra.py").write_text("")
    lock_plugin(RegistryPaths(demo.registry), demo.folder)
    assert "extra.py" in _files(demo)
    (demo.folder / "extra.py").unlink()
    lock_plugin(RegistryPaths(demo.registry), demo.folder)
    assert sorted(_files(demo)) == ["demo_model.py", "helpers.py"]


def test_lock_refuses_a_symlink(demo: DemoPlugin, tmp_path: Path) -> None:
    (tmp_path / "outside.py").write_text("")
    (demo.folder / "link.py").symlink_to(tmp_path / "outside.py")
    with pytest.raises(PluginIntegrityError, match="link.py is a symlink"):
        lock_plugin(RegistryPaths(demo.registry), demo.folder)


def test_verify_returns_the_sources_it_hashed(demo: DemoPlugin) -> None:
    (demo.folder / "notes.md").write_text("notes")
    demo.lock()
    sources = verify_files(read_manifest(demo.folder)[0], strict=True)
    assert sources == {name: (demo.folder / name).read_bytes() for name in ("demo_model.py", "helpers.py")}


def test_verify_without_strict_reads_python_sources_only(demo: DemoPlugin) -> None:
    (demo.folder / "unlisted.py").write_text("x = 1\n")
    sources = verify_files(read_manifest(demo.folder)[0], strict=False)
    assert sorted(sources) == ["demo_model.py", "helpers.py", "unlisted.py"]


def test_read_regular_never_follows_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert read_regular(tmp_path / "real", "p", "real") == b"x"
    with pytest.raises(PluginIntegrityError, match="link is a symlink"):
        read_regular(tmp_path / "link", "p", "link")
