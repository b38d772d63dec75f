"""Point-in-time views from git: `show --at` and `diff --git` in a temporary repository."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from modreg import api
from modreg.errors import NotFound, UsageError
from modreg.registry.history.gitview import WORKING_TREE, EntryAt

TODAY = dt.date(2026, 11, 20)
EXAMPLE_REGISTRY = Path(__file__).resolve().parents[3] / "registry.example"


GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    """Run git with a test identity and no user or system configuration."""
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True, env=env)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository whose `registry/` folder is a copy of the example, in two commits:
    `first` as the example is; `second` with NBEATS deprecated, NHITS versioned, TiDE
    benchmarked, Naive deleted and a new entry registered. Built once; tests get copies."""
    top = tmp_path_factory.mktemp("project")
    root = top / "registry"
    shutil.copytree(EXAMPLE_REGISTRY, root)
    git(top, "init", "-q", "-b", "main")
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "first")
    git(top, "tag", "first")
    api.deprecate("NBEATS", registry=root, reason="use NHITS", replacement="NHITS", sunset="2099-01-01", today=TODAY)
    api.version("NHITS", registry=root, bump="minor", message="lr explicit", today=TODAY)
    api.update("TiDE", registry=root, set_values={"performance.mase": 0.9}, today=TODAY)
    api.delete("Naive", registry=root, force=True)
    api.register("Fresh", registry=root, category="custom", summary="s", description="d", authors=["A <a@b.org>"],
                 tags=["t"], capabilities=["multi_step"], today=TODAY)
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "second")
    return root


@pytest.fixture
def repo(committed: Path, tmp_path: Path) -> Path:
    """A copy of the two-commit repository (its registry folder), free to change."""
    shutil.copytree(committed.parent, tmp_path / "project")
    return tmp_path / "project" / "registry"


# ----- show --at -----


def test_show_at_reads_the_entry_as_it_was(committed: Path) -> None:
    entry = api.show("NBEATS", registry=committed, at="first")
    assert isinstance(entry, EntryAt) and entry.data["status"] == "active"
    assert entry.path == "models/NBEATS.toml" and entry.revision == "first" and len(entry.commit) == 40
    assert api.show("NBEATS", registry=committed, at="HEAD").data["status"] == "deprecated"
    assert entry.to_dict()["revision"] == "first"


def test_show_at_finds_a_deleted_entry(committed: Path) -> None:
    assert api.show("naive", registry=committed, at="HEAD~1").name == "Naive"


def test_show_at_of_an_entry_that_did_not_exist_yet(committed: Path) -> None:
    with pytest.raises(NotFound, match="No model named `Fresh` in the registry at first"):
        api.show("Fresh", registry=committed, at="first")


def test_show_at_suggests_a_close_name(committed: Path) -> None:
    with pytest.raises(NotFound) as caught:
        api.show("NBEAT", registry=committed, at="first")
    assert "NBEATS" in (caught.value.hint or "")


@pytest.mark.parametrize("revision", ["nope", "first~5", "0" * 40])
def test_an_unknown_revision_is_not_found(committed: Path, revision: str) -> None:
    with pytest.raises(NotFound, match="is not a commit"):
        api.show("NHITS", registry=committed, at=revision)


def test_a_revision_that_looks_like_an_option_is_refused(committed: Path) -> None:
    with pytest.raises(UsageError, match="not a git revision"):
        api.show("NHITS", registry=committed, at="--output=/tmp/x")


def test_outside_a_git_repository_is_a_clear_usage_error(tmp_path: Path, example_registry: Path) -> None:
    root = tmp_path / "plain"
    shutil.copytree(example_registry, root)
    with pytest.raises(UsageError, match="not inside a git repository"):
        api.show("NHITS", registry=root, at="HEAD")
    with pytest.raises(UsageError, match="not inside a git repository"):
        api.diff_git("HEAD", registry=root)


# ----- diff --git -----


def test_diff_between_two_commits(committed: Path) -> None:
    diff = api.diff_git("first", "HEAD", registry=committed)
    kinds = {entry.name: entry.kind for entry in diff.entries}
    assert kinds == {"Fresh": "added", "Naive": "removed", "NBEATS": "deprecated", "NHITS": "changed", "TiDE": "changed"}
    assert diff.counts() == {"added": 1, "removed": 1, "deprecated": 1, "changed": 2}
    nhits = next(e for e in diff.entries if e.name == "NHITS")
    assert (nhits.old_version, nhits.new_version) == ("1.2.0", "1.3.0")
    assert ("history.1.3.0", "added") in [(c.path, c.kind) for c in nhits.changes]
    nbeats = next(e for e in diff.entries if e.name == "NBEATS")
    assert {c.path: c.new for c in nbeats.changes}["deprecation.replacement"] == "NHITS"
    assert diff.new_commit == git(committed.parent, "rev-parse", "HEAD") and diff.unreadable == []


def test_diff_against_the_working_tree(repo: Path) -> None:
    api.update("TiDE", registry=repo, set_values={"performance.mase": 0.72}, today=TODAY)
    api.archive("NBEATS", registry=repo, today=TODAY)
    diff = api.diff_git("HEAD", registry=repo)
    assert diff.new == WORKING_TREE and diff.new_commit is None
    assert [(e.name, e.kind) for e in diff.entries] == [("NBEATS", "archived"), ("TiDE", "changed")]
    [mase] = [c for c in diff.entries[1].changes if c.path == "performance.mase"]
    assert (mase.old, mase.new, mase.delta, mase.percent) == (0.9, 0.72, -0.18, -20.0)


def test_a_commit_against_itself_and_reformatting_show_nothing(repo: Path) -> None:
    assert api.diff_git("HEAD", "HEAD", registry=repo).entries == []
    path = repo / "models" / "TiDE.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# a comment changes no value\n", encoding="utf-8")
    assert api.diff_git("HEAD", registry=repo).entries == []


def test_a_restore_is_reported_as_restored(repo: Path) -> None:
    api.restore("NBEATS", registry=repo, today=TODAY)
    [entry] = api.diff_git("HEAD", registry=repo).entries
    assert (entry.name, entry.kind) == ("NBEATS", "restored")


def test_an_unreadable_file_is_reported_not_fatal(repo: Path) -> None:
    (repo / "models" / "TiDE.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    diff = api.diff_git("HEAD", registry=repo)
    assert diff.entries == [] and [p.path for p in diff.unreadable] == ["working tree:models/TiDE.yaml"]


def test_a_registry_at_the_top_of_the_repository(tmp_path: Path, example_registry: Path) -> None:
    root = tmp_path / "reg"
    shutil.copytree(example_registry, root)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "only")
    api.deprecate("RNN", registry=root, reason="again", today=TODAY)
    [entry] = api.diff_git("HEAD", registry=root).entries
    assert entry.name == "RNN" and entry.kind == "changed"
    assert api.show("RNN", registry=root, at="HEAD").data["deprecation"]["replacement"] == "GRU"


def test_a_blob_larger_than_a_descriptor_is_never_read(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from modreg.registry.history.gitview import GitRepo

    top = repo.parent
    (repo / "models" / "NHITS.toml").write_bytes(b"#" * (2 * 1024 * 1024))  # a cloned history's blob of zeros is the same
    git(top, "commit", "-qam", "huge")
    big = git(top, "rev-parse", "HEAD:registry/models/NHITS.toml")
    asked: list[bytes] = []
    real_run = GitRepo.run

    def spying(self: GitRepo, *args: str, stdin: bytes | None = None) -> bytes:
        if args[:2] == ("cat-file", "--batch"):
            asked.append(stdin or b"")
        return real_run(self, *args, stdin=stdin)

    monkeypatch.setattr(GitRepo, "run", spying)
    with pytest.raises(UsageError, match=r"HEAD:models/NHITS.toml is 2,097,152 bytes"):
        api.show("NHITS", registry=repo, at="HEAD")
    result = api.diff_git("first", "HEAD", registry=repo)
    assert [p.path for p in result.unreadable] == ["HEAD:models/NHITS.toml"]
    assert asked and not any(big.encode("ascii") in stdin for stdin in asked)
