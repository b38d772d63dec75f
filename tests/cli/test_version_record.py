"""Every version an entry has had stays readable: history, diff, and git's memory of older states.

Issue 15, point 1 (history lost versions) and 5 (snapshots written as one-line tables).
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.errors import ExitCode

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "registry.example"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin",
}


def _modreg(registry: Path, *args: str) -> tuple[int, str, str]:
    done = runner.invoke(app, ["--registry", str(registry), *args])
    return done.exit_code, done.stdout, done.stderr


def _versions(registry: Path, name: str, suffix: str = ".toml") -> list[str]:
    data = tomllib.loads((registry / "models" / f"{name}{suffix}").read_text(encoding="utf-8"))
    return [item["version"] for item in data.get("history", [])]


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    target = tmp_path / "registry"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".modreg"))
    return target


def test_a_bump_keeps_the_outgoing_version_and_its_changes(example_copy: Path) -> None:
    before = _versions(example_copy, "NHITS")
    current = tomllib.loads((example_copy / "models" / "NHITS.toml").read_text())["version"]
    code, _, err = _modreg(example_copy, "version", "NHITS", "--bump", "minor", "-m", "more steps")
    assert code == 0, err
    after = _versions(example_copy, "NHITS")
    assert current in after and after[-1] != current and after[: len(before)] == before
    code, out, err = _modreg(example_copy, "diff", "NHITS", current, after[-1])
    assert code == 0, err
    assert "no differences" in out


def test_register_records_the_first_version_and_a_bump_keeps_it(empty_registry: Path) -> None:
    code, _, err = _modreg(empty_registry, "register", "Alpha", "--category", "basic", "--summary", "alpha", "--author", "A <a@example.org>")
    assert code == 0, err
    assert _versions(empty_registry, "Alpha") == ["0.1.0"]
    assert _modreg(empty_registry, "version", "Alpha", "--bump", "minor", "-m", "second")[0] == 0
    assert _versions(empty_registry, "Alpha") == ["0.1.0", "0.2.0"]
    code, out, _ = _modreg(empty_registry, "diff", "Alpha", "0.1.0", "0.2.0")
    assert code == 0 and "no differences" in out


def test_a_hand_edited_version_is_recorded_on_the_next_change(empty_registry: Path) -> None:
    assert _modreg(empty_registry, "register", "Beta", "--category", "basic", "--summary", "beta", "--author", "A <a@example.org>")[0] == 0
    file = empty_registry / "models" / "Beta.toml"
    file.write_text(file.read_text().replace('version = "0.1.0"', 'version = "0.3.0"', 1))
    code, _, err = _modreg(empty_registry, "update", "Beta", "--set", "summary=beta, edited")
    assert code == 0, err
    assert _versions(empty_registry, "Beta") == ["0.1.0", "0.3.0"]


def test_a_new_snapshot_is_written_one_key_per_line(example_copy: Path) -> None:
    assert _modreg(example_copy, "version", "NHITS", "--bump", "patch", "-m", "x")[0] == 0
    text = (example_copy / "models" / "NHITS.toml").read_text()
    added = text[text.rindex("[[history]]"):]
    assert "[history.snapshot.runtime.params]" in added
    assert max(len(line) for line in added.splitlines()) <= 100


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, env=GIT_ENV, check=True, capture_output=True)


def test_history_and_diff_read_versions_only_git_remembers(empty_registry: Path) -> None:
    assert _modreg(empty_registry, "register", "Gamma", "--category", "basic", "--summary", "gamma", "--author", "A <a@example.org>",
                   "--runtime-model", "Naive", "--param", "h=2")[0] == 0
    _git(empty_registry, "init", "-q")
    _git(empty_registry, "add", "-A")
    _git(empty_registry, "commit", "-qm", "gamma 0.1.0")
    file = empty_registry / "models" / "Gamma.toml"
    data = tomllib.loads(file.read_text())
    text = file.read_text().replace('version = "0.1.0"', 'version = "0.2.0"', 1).replace('summary = "gamma"', 'summary = "gamma two"')
    head, _, _ = text.partition("[[history]]")  # a hand edit that also dropped the history
    file.write_text(head)
    _git(empty_registry, "commit", "-qam", "gamma 0.2.0 by hand")
    code, out, err = _modreg(empty_registry, "history", "Gamma")
    assert code == 0, err
    assert "0.1.0" in out and "git" in out and data["version"] == "0.1.0"
    code, out, err = _modreg(empty_registry, "diff", "Gamma", "0.1.0", "0.2.0")
    assert code == 0, err
    code, _, err = _modreg(empty_registry, "diff", "Gamma", "0.0.9", "0.2.0")
    assert code == ExitCode.NOT_FOUND and "0.1.0" in err
