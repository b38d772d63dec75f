"""The repository's .pre-commit-hooks.yaml, run by pre-commit itself (`pre-commit try-repo`)
against a temporary git repository holding a registry in a subfolder: a good change passes,
a bad one fails with the problem named, without any --registry. (try-repo installs the hooks'
environment afresh on every run, about a minute each; stale outputs are tested by the CLI's
and the action's tests.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pre_commit", reason="pre-commit is in the test extra: pip install -e '.[test]'")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _env(home: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("MODREG_", "PYTHONPATH", "PRE_COMMIT"))}
    return {**keep, "PRE_COMMIT_HOME": str(home), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, pre_commit_home: Path) -> Path:
    """This project as it is now (uncommitted changes too), committed in a repository of its own."""
    folder = tmp_path_factory.mktemp("hooks") / "modreg"
    ignore = shutil.ignore_patterns(".git", ".modreg", "__pycache__", "*.egg-info", ".pytest_cache", ".hypothesis",
                                    "build", "dist", ".venv", "benchmarks", "tests")
    shutil.copytree(ROOT, folder, ignore=ignore)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "hooks"]):
        subprocess.run(["git", *args], cwd=folder, env=_env(pre_commit_home), check=True, capture_output=True)
    return folder


@pytest.fixture
def repository(tmp_path: Path, pre_commit_home: Path) -> Path:
    """A git repository with the example registry in registry/, committed."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "registry.example", repo / "registry", ignore=shutil.ignore_patterns(".modreg"))
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "registry"]):
        subprocess.run(["git", *args], cwd=repo, env=_env(pre_commit_home), check=True, capture_output=True)
    return repo


def _modreg(repo: Path, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    subprocess.run([sys.executable, "-m", "modreg", *args], cwd=repo, env=env, check=True, capture_output=True)


def _try_repo(repo: Path, home: Path, hooks: Path) -> subprocess.CompletedProcess[str]:
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=_env(home))
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hooks), "--verbose"],
                          cwd=repo, env=_env(home), capture_output=True, text=True, timeout=900)


def test_a_good_change_passes_both_hooks(repository: Path, pre_commit_home: Path, hook_repo: Path) -> None:
    nhits = repository / "registry" / "models" / "NHITS.toml"
    nhits.write_text(nhits.read_text(encoding="utf-8").replace('"mlp", ', '"mlp", "energy", '), encoding="utf-8")
    _modreg(repository, "-r", "registry", "build")  # the generated files follow the change
    done = _try_repo(repository, pre_commit_home, hook_repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "modreg validate" in done.stdout and "modreg build --check" in done.stdout
    assert done.stdout.count("Passed") >= 2


def test_a_bad_change_fails_naming_the_problem(repository: Path, pre_commit_home: Path, hook_repo: Path) -> None:
    lstm = repository / "registry" / "models" / "LSTM.toml"
    lstm.write_text(lstm.read_text(encoding="utf-8").replace('category = "recurrent"', 'category = "recurent"'),
                    encoding="utf-8")
    done = _try_repo(repository, pre_commit_home, hook_repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "registry/models/LSTM.toml:" in done.stdout and "did you mean `recurrent`?" in done.stdout
    assert done.stdout.count("Failed") == 2  # validation, and build --check (which validates first)
    assert "run `modreg -r registry build` again" in done.stdout
