"""After a git merge the generated files are fresh without a human (issue 15, point 6), and
`init` keeps what a folder's .gitignore/.gitattributes already say (point 5)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "registry.example"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "T",
                "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"})
    return env


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=_env(), check=True, capture_output=True, text=True).stdout


def _modreg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([shutil.which("modreg") or "modreg", *args], env=_env(), capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(shutil.which("modreg") is None, reason="the post-merge hook runs the installed `modreg` command")
def test_two_branches_each_editing_a_descriptor_merge_into_fresh_outputs(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo / "registry", ignore=shutil.ignore_patterns(".modreg"))
    _git(repo, "init", "-q", "-b", "main")
    assert _modreg("init", str(repo / "registry"), "--git-hooks").returncode == 0
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "registry")
    for branch, name in (("one", "NHITS"), ("two", "LSTM")):
        _git(repo, "checkout", "-q", "-b", branch, "main")
        assert _modreg("--registry", str(repo / "registry"), "update", name, "--tag", f"from-{branch}").returncode == 0
        assert _modreg("--registry", str(repo / "registry"), "build").returncode == 0
        _git(repo, "commit", "-qam", f"{name} tagged on {branch}")
    _git(repo, "checkout", "-q", "main")
    _git(repo, "merge", "-q", "--no-edit", "one")
    _git(repo, "merge", "-q", "--no-edit", "two")
    check = _modreg("--registry", str(repo / "registry"), "build", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert _git(repo, "status", "--porcelain", "--", "registry/index", "registry/reports") == ""
    assert "modreg: regenerate index and reports after merge" in _git(repo, "log", "--format=%s")


def test_init_adds_only_the_lines_an_existing_gitignore_and_gitattributes_lack(tmp_path: Path) -> None:
    folder = tmp_path / "reg"
    folder.mkdir()
    (folder / ".gitignore").write_text("secrets.env\n")
    (folder / ".gitattributes").write_text("*.npz filter=lfs diff=lfs merge=lfs -text\n")
    assert runner.invoke(app, ["init", str(folder)]).exit_code == 0
    assert (folder / ".gitignore").read_text() == "secrets.env\n.modreg/\n"
    attributes = (folder / ".gitattributes").read_text()
    assert attributes.startswith("*.npz filter=lfs diff=lfs merge=lfs -text\n") and "audit.jsonl merge=union" in attributes


def test_edits_keep_a_files_mode_and_new_files_follow_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o002)
    try:
        assert runner.invoke(app, ["init", str(tmp_path / "reg")]).exit_code == 0
        registry = tmp_path / "reg"
        done = runner.invoke(app, ["--registry", str(registry), "register", "X", "--category", "basic", "--summary", "x",
                                   "--author", "A <a@example.org>"])
        assert done.exit_code == 0, done.stderr
        file = registry / "models" / "X.toml"
        assert file.stat().st_mode & 0o777 == 0o664
        file.chmod(0o644)
        assert runner.invoke(app, ["--registry", str(registry), "update", "X", "--summary", "y"]).exit_code == 0
        assert file.stat().st_mode & 0o777 == 0o644
        assert runner.invoke(app, ["--registry", str(registry), "build"]).exit_code == 0
        assert (registry / "index" / "registry.json").stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(previous)
