"""CLI: commands that edit hand-written descriptors change only the lines they mean to, in the
file's own line endings, and keep every comment, document marker and directive."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.registry.store.init import init_registry

runner = CliRunner()

HAND_TOML = """\
# Hand: written on Windows.
schema_version = 1
name = "Hand"   # the name
version = "1.0.0"
category = "basic"
status = "active"
summary = "A hand-written entry"
authors = ["Team <team@example.org>"]
tags = ["a"]  # tags
created = 2026-01-01
updated = 2026-01-01

[metadata]
"the paper" = "https://example.org/hand"   # quoted key
# end of file

[[history]]
version = "1.0.0"
date = 2026-01-01
summary = "first version"
"""

HAND_YAML = """\
%YAML 1.1
---
# Hand: YAML 1.1 on purpose.
schema_version: 1
name: Handy
version: "1.0.0"
category: basic
status: active
summary: A hand-written entry
authors:
  - Team <team@example.org>
tags: [a]
created: 2026-01-01
updated: 2026-01-01
metadata:
  flag: yes
  count: 1
  # after the last key
history:
  - version: 1.0.0
    date: 2026-01-01
    summary: first version
...
"""


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    paths = init_registry(tmp_path / "reg")
    (paths.models / "Hand.toml").write_bytes(HAND_TOML.replace("\n", "\r\n").encode())
    (paths.models / "Handy.yaml").write_bytes(HAND_YAML.encode())
    return paths.root


def invoke(reg: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--registry", str(reg), *args])


def _changed(before: bytes, after: bytes) -> list[bytes]:
    diff = difflib.diff_bytes(difflib.unified_diff, before.splitlines(True), after.splitlines(True), n=0)
    return [line for line in diff if line[:1] in b"-+" and not line.startswith((b"---", b"+++"))]


def test_update_of_a_crlf_file_changes_only_its_lines_and_keeps_crlf(reg: Path) -> None:
    path = reg / "models" / "Hand.toml"
    before = path.read_bytes()
    dry = invoke(reg, "update", "Hand", "--tag", "b", "--set", 'metadata."the paper"="https://example.org/v2"', "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert path.read_bytes() == before
    result = invoke(reg, "update", "Hand", "--tag", "b", "--set", 'metadata."the paper"="https://example.org/v2"')
    assert result.exit_code == 0, result.stderr
    after = path.read_bytes()
    assert after.count(b"\r\n") == after.count(b"\n")
    assert sorted(_changed(before, after)) == sorted([
        b'-tags = ["a"]  # tags\r\n', b'+tags = ["a", "b"]  # tags\r\n',
        b"-updated = 2026-01-01\r\n", b"+updated = " + after.split(b"updated = ")[1][:10] + b"\r\n",
        b'-"the paper" = "https://example.org/hand"   # quoted key\r\n',
        b'+"the paper" = "https://example.org/v2"   # quoted key\r\n',
    ])
    again = invoke(reg, "update", "Hand", "--tag", "b")
    assert again.exit_code == 0 and "nothing to change" in again.stdout + again.stderr
    assert path.read_bytes() == after


def test_deprecate_and_restore_of_a_yaml_1_1_file_keep_markers_directive_and_comments(reg: Path) -> None:
    path = reg / "models" / "Handy.yaml"
    before = path.read_text(encoding="utf-8")
    assert invoke(reg, "update", "Handy", "--set", "metadata.count=2").exit_code == 0
    after = path.read_text(encoding="utf-8")
    assert after.startswith("%YAML 1.1\n---\n") and after.endswith("    summary: first version\n...\n")
    assert "  flag: yes\n  count: 2\n  # after the last key\nhistory:\n" in after
    assert invoke(reg, "deprecate", "Handy", "--reason", "old").exit_code == 0
    assert invoke(reg, "restore", "Handy").exit_code == 0
    assert path.read_text(encoding="utf-8") == after != before


def test_update_keeps_a_byte_order_mark(reg: Path) -> None:
    path = reg / "models" / "Hand.toml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert invoke(reg, "update", "Hand", "--tag", "b").exit_code == 0
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
