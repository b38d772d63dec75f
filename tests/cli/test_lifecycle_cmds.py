"""CLI: version, history, diff, deprecate, archive, restore, delete, audit, show --at.

Also: edits of hand-written files change only their lines (checked with `git diff`), and 50
processes versioning and deprecating at once lose nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import re
import shlex
import shutil
import subprocess
import time
import tomllib
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from modreg import api
from modreg.cli import app
from modreg.errors import ExitCode
from modreg.registry.store.audit import read_audit
from modreg.registry.store.layout import RegistryPaths
from modreg.registry.checks.validate import validate_registry

runner = CliRunner()
TODAY = dt.date.today()
FUTURE = (TODAY + dt.timedelta(days=120)).isoformat()
EXAMPLE = Path(__file__).resolve().parents[2] / "registry.example"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
}

ALPHA_TOML = '''\
# Alpha: written by hand; modreg must keep every comment.
schema_version = 1
name = "Alpha"
version = "1.0.0"   # raised by `modreg version`
category = "basic"
status = "active"   # the lifecycle status
summary = "The alpha model"  # keep it short
authors = ["Team <team@example.org>"]
tags = ["baseline", "mlp"]   # searchable
capabilities = ["multi_step"]
created = 2026-01-01
updated = 2026-01-01  # touched by every command

# How `modreg run` builds it.
[runtime]
model = "MLP"   # a built-in runtime model
[runtime.params]
h = 12           # the horizon
input_size = 24  # the input window

# Papers and links.
[metadata]
paper = "https://example.org/alpha"   # the paper
'''

BETA_YAML = '''\
# Beta: hand-written YAML; comments must survive.
schema_version: 1
name: Beta
version: "2.0.0"   # raised by `modreg version`
category: recurrent
status: active   # the lifecycle status
summary: The beta model   # keep it short
authors:
  - Team <team@example.org>   # the maintainers
tags: [lstm]
capabilities: [multi_step]
created: 2026-01-02
updated: 2026-01-02   # touched by every command
# How `modreg run` builds it.
runtime:
  model: MLP   # a built-in runtime model
  params:
    h: 12   # the horizon
    input_size: 24
metadata:
  paper: https://example.org/beta   # the paper
'''


def invoke(root: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--registry", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True, env={**os.environ, **GIT_ENV})
    return done.stdout


@pytest.fixture
def registry(empty_registry: Path) -> Path:
    """An empty registry with the hand-written Alpha (TOML) and Beta (YAML)."""
    (empty_registry / "models" / "Alpha.toml").write_text(ALPHA_TOML, encoding="utf-8")
    (empty_registry / "models" / "Beta.yaml").write_text(BETA_YAML, encoding="utf-8")
    return empty_registry


def _toml(root: Path, name: str) -> dict:
    return tomllib.loads((root / "models" / f"{name}.toml").read_text(encoding="utf-8"))


# ----- version and history -----


def test_version_bumps_and_records_history(registry: Path) -> None:
    code, out, err = invoke(registry, "version", "Alpha", "--bump", "minor", "-m", "wider input")
    assert code == 0 and out == "" and "Alpha: version 1.0.0 -> 1.1.0 (Alpha.toml)." in err
    data = _toml(registry, "Alpha")
    assert data["version"] == "1.1.0" and data["history"][-1]["summary"] == "wider input"
    code, out, _ = invoke(registry, "history", "Alpha")
    assert code == 0 and re.search(r"^\*\s+1\.1\.0\s+" + TODAY.isoformat() + r"\s+wider input$", out, re.M)


def test_version_not_greater_is_exit_4(registry: Path) -> None:
    code, out, err = invoke(registry, "version", "Alpha", "--set", "1.0.0", "-m", "same")
    assert code == ExitCode.CONFLICT and out == ""
    assert "The new version 1.0.0 is not greater than the current version 1.0.0." in err and "hint:" in err


def test_version_needs_bump_or_set_and_a_message(registry: Path) -> None:
    assert invoke(registry, "version", "Alpha", "-m", "x")[0] == ExitCode.USAGE
    assert invoke(registry, "version", "Alpha", "--bump", "minor")[0] == ExitCode.USAGE
    assert invoke(registry, "version", "Alpha", "--bump", "huge", "-m", "x")[0] == ExitCode.USAGE


def test_version_dry_run_prints_the_diff_and_writes_nothing(registry: Path) -> None:
    code, out, err = invoke(registry, "version", "Beta", "--bump", "patch", "-m", "fix", "--dry-run")
    assert code == 0 and '-version: "2.0.0"   # raised by `modreg version`' in out and '+version: "2.0.1"' in out
    assert "dry run" in err and (registry / "models" / "Beta.yaml").read_text(encoding="utf-8") == BETA_YAML


def test_version_with_an_artifact(registry: Path) -> None:
    (registry / "artifacts").mkdir()
    (registry / "artifacts" / "alpha.npz").write_bytes(b"w")
    code, out, _ = invoke(registry, "--json", "version", "Alpha", "--bump", "patch", "-m", "weights", "--artifact", str(registry / "artifacts" / "alpha.npz"))
    assert code == 0 and json.loads(out)["version"] == "1.0.1"
    assert _toml(registry, "Alpha")["artifacts"][0]["path"] == "artifacts/alpha.npz"
    assert invoke(registry, "validate")[0] == 0
    (registry / "artifacts" / "alpha.npz").write_bytes(b"changed")
    code, out, _ = invoke(registry, "validate")
    assert code == ExitCode.INTEGRITY and "artifacts/alpha.npz" in out


def test_history_json(registry: Path) -> None:
    invoke(registry, "version", "Beta", "--bump", "major", "-m", "new head")
    code, out, _ = invoke(registry, "history", "Beta", "--json")
    history = json.loads(out)
    assert code == 0 and history["current"] == "3.0.0" and [i["version"] for i in history["items"]] == ["2.0.0", "3.0.0"]
    assert history["items"][0]["snapshot"]["runtime"]["params"] == {"h": 12, "input_size": 24}  # 2.0.0 as it ended


# ----- diff -----


def test_diff_of_two_versions_in_each_format(registry: Path) -> None:
    invoke(registry, "version", "Alpha", "--bump", "patch", "-m", "before")
    invoke(registry, "update", "Alpha", "--set", "runtime.params.input_size=36", "--set", "performance.mase=0.9")
    invoke(registry, "version", "Alpha", "--bump", "patch", "-m", "after")
    code, out, _ = invoke(registry, "diff", "Alpha", "1.0.1", "1.0.2")
    assert code == 0
    assert out == "Alpha 1.0.1 -> 1.0.2\n  ~ runtime.params.input_size: 24 -> 36\n  + performance.mase = 0.9\n"
    code, out, _ = invoke(registry, "diff", "Alpha", "1.0.1", "1.0.2", "--format", "md")
    assert out.startswith("### `Alpha` 1.0.1 → 1.0.2\n\n| field | 1.0.1 | 1.0.2 | change |\n")
    assert "| `runtime.params.input_size` | `24` | `36` | changed |" in out
    code, out, _ = invoke(registry, "diff", "Alpha", "1.0.1", "1.0.2", "--format", "json")
    assert [c["path"] for c in json.loads(out)["items"]] == ["version", "runtime.params.input_size", "performance.mase"]


def test_diff_usage_errors(registry: Path) -> None:
    assert invoke(registry, "diff", "Alpha")[0] == ExitCode.USAGE
    assert invoke(registry, "diff", "--git", "a", "b", "c")[0] == ExitCode.USAGE
    code, _, err = invoke(registry, "diff", "Alpha", "9.9.9")
    assert code == ExitCode.NOT_FOUND and "no version 9.9.9" in err


# ----- lifecycle -----


def test_deprecate_archive_restore(registry: Path) -> None:
    code, _, err = invoke(registry, "deprecate", "Beta", "--reason", "use Alpha", "--replacement", "Alpha", "--sunset", FUTURE)
    assert code == 0 and f"deprecated Beta; use Alpha; sunset {FUTURE}." in err
    code, _, err = invoke(registry, "show", "Beta")
    assert code == 0 and f"warning: Beta is deprecated (use Alpha); use Alpha instead; sunset {FUTURE}." in err
    assert invoke(registry, "archive", "Beta")[0] == 0
    assert yaml.safe_load((registry / "models" / "Beta.yaml").read_text(encoding="utf-8"))["status"] == "archived"
    code, _, err = invoke(registry, "restore", "Beta")
    assert code == 0 and "restored Beta: active again." in err
    assert "deprecation" not in yaml.safe_load((registry / "models" / "Beta.yaml").read_text(encoding="utf-8"))


def test_refused_transitions_exit_4_naming_from_and_to(registry: Path) -> None:
    code, _, err = invoke(registry, "archive", "Alpha")
    assert code == ExitCode.CONFLICT and "`archive` cannot move `Alpha` from active to archived; it allows deprecated -> archived." in err
    code, _, err = invoke(registry, "restore", "Alpha")
    assert code == ExitCode.CONFLICT and "it is active already" in err


def test_deprecate_checks_its_options(registry: Path) -> None:
    assert invoke(registry, "deprecate", "Beta", "--reason", "x", "--replacement", "Nope")[0] == ExitCode.NOT_FOUND
    code, _, err = invoke(registry, "deprecate", "Beta", "--reason", "x", "--sunset", "2001-01-01")
    assert code == ExitCode.USAGE and "not in the future" in err
    invoke(registry, "deprecate", "Alpha", "--reason", "old")
    code, _, err = invoke(registry, "deprecate", "Beta", "--reason", "x", "--replacement", "Alpha")
    assert code == ExitCode.CONFLICT and "a replacement must be active" in err


def test_deprecate_dry_run_json(registry: Path) -> None:
    code, out, _ = invoke(registry, "--json", "deprecate", "Alpha", "--reason", "old", "--dry-run")
    mutation = json.loads(out)
    assert code == 0 and mutation["dry_run"] and not mutation["written"] and "+[deprecation]" in mutation["diff"]
    assert _toml(registry, "Alpha")["status"] == "active"


def test_delete_refused_with_dependents_then_forced_and_brought_back(registry: Path) -> None:
    invoke(registry, "update", "Beta", "--set", 'dependencies.Alpha=">=1.0"')
    code, _, err = invoke(registry, "delete", "Alpha")
    assert code == ExitCode.CONFLICT and "`Alpha` is still needed by 1 entry: Beta (depends on it: >=1.0)" in err
    code, _, err = invoke(registry, "delete", "Alpha", "--force")
    assert code == 0 and "warning: Beta (depends on it: >=1.0) now refers to a missing entry" in err
    command = re.search(r"to bring it back: (mv .+)$", err, re.M)
    assert command is not None and not (registry / "models" / "Alpha.toml").exists()
    subprocess.run(shlex.split(command.group(1)), cwd=Path.cwd(), check=True)
    assert (registry / "models" / "Alpha.toml").read_text(encoding="utf-8") == ALPHA_TOML
    assert invoke(registry, "validate")[0] == 0


def test_audit_lists_who_did_what(registry: Path) -> None:
    invoke(registry, "version", "Alpha", "--bump", "minor", "-m", "m")
    invoke(registry, "deprecate", "Beta", "--reason", "old")
    code, out, _ = invoke(registry, "audit")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["time", "user", "command", "name", "version", "changes"]
    assert "version: 1.0.0 -> 1.1.0" in lines[1] and " deprecate " in lines[2] and "status: active -> deprecated" in lines[2]
    code, out, _ = invoke(registry, "audit", "Beta", "--json")
    [entry] = json.loads(out)["items"]
    assert entry["command"] == "deprecate" and entry["changes"]["deprecation"]["new"]["reason"] == "old"
    code, _, err = invoke(registry, "audit", "Gamma")
    assert code == 0 and "No audit entries for Gamma." in err


# ----- git: show --at and diff --git -----


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The example registry committed to a fresh git repository, then NHITS versioned and RNN archived."""
    root = tmp_path / "project" / "registry"
    shutil.copytree(EXAMPLE, root)
    git(root.parent, "init", "-q")
    git(root.parent, "add", "-A")
    git(root.parent, "commit", "-q", "-m", "first")
    invoke(root, "version", "NHITS", "--bump", "minor", "-m", "lr explicit")
    invoke(root, "archive", "RNN")
    return root


def test_show_at_a_revision(repo: Path) -> None:
    code, out, err = invoke(repo, "show", "NHITS", "--at", "HEAD")
    assert code == 0 and out.startswith("NHITS 1.2.0") and "NHITS as it was at HEAD:" in err
    code, out, _ = invoke(repo, "--json", "show", "RNN", "--at", "HEAD")
    assert json.loads(out)["descriptor"]["status"] == "deprecated"
    code, _, err = invoke(repo, "show", "NHITS", "--at", "v9")
    assert code == ExitCode.NOT_FOUND and "`v9` is not a commit" in err


def test_diff_git_against_the_working_tree(repo: Path) -> None:
    code, out, _ = invoke(repo, "diff", "--git", "HEAD")
    assert code == 0 and out.startswith("HEAD -> working tree: 1 archived, 1 changed\n")
    assert "x RNN 1.0.0 (archived)\n    ~ status: \"deprecated\" -> \"archived\"\n" in out
    code, out, _ = invoke(repo, "diff", "--git", "HEAD", "--format", "md")
    assert "| `NHITS` | changed | 1.2.0 → 1.3.0 |" in out and "<details><summary><code>RNN</code> (archived)" in out
    code, out, _ = invoke(repo, "--json", "diff", "--git", "HEAD")
    assert [e["kind"] for e in json.loads(out)["items"]] == ["changed", "archived"]


def test_git_commands_outside_a_repository(registry: Path) -> None:
    code, _, err = invoke(registry, "diff", "--git", "HEAD")
    assert code == ExitCode.USAGE and "is not inside a git repository" in err


# ----- Edits keep what a person wrote -----


def _commented_lines(text: str) -> list[str]:
    return [line[line.index("#") :] for line in text.splitlines() if "#" in line]


def _spaced(line: str) -> str:
    """The line with the blanks before its comment made one (alignment may shift)."""
    return re.sub(r"\s+#", " #", line)


def _diff_lines(repo: Path, path: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines of `git diff` for `path`."""
    out = git(repo, "diff", "-U0", "--", path).splitlines()
    removed = [line[1:] for line in out if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in out if line.startswith("+") and not line.startswith("+++")]
    return removed, added


@pytest.mark.parametrize(
    ("name", "original", "replaced"),
    [
        ("Alpha.toml", ALPHA_TOML, {
            'version = "1.0.0"   # raised by `modreg version`': 'version = "1.1.0"   # raised by `modreg version`',
            'status = "active"   # the lifecycle status': 'status = "deprecated"   # the lifecycle status',
            'summary = "The alpha model"  # keep it short': 'summary = "The first model"  # keep it short',
            "updated = 2026-01-01  # touched by every command": f"updated = {TODAY.isoformat()}  # touched by every command",
        }),
        ("Beta.yaml", BETA_YAML, {
            'version: "2.0.0"   # raised by `modreg version`': 'version: "2.1.0"   # raised by `modreg version`',
            "status: active   # the lifecycle status": "status: deprecated   # the lifecycle status",
            "summary: The beta model   # keep it short": "summary: The first model   # keep it short",
            "updated: 2026-01-02   # touched by every command": f"updated: {TODAY.isoformat()}   # touched by every command",
        }),
    ],
    ids=["toml", "yaml"],
)
def test_deprecate_version_update_change_only_their_lines(
    registry: Path, name: str, original: str, replaced: dict[str, str]
) -> None:
    git(registry, "init", "-q")
    git(registry, "add", "-A")
    git(registry, "commit", "-q", "-m", "hand-written")
    stem = name.split(".")[0]
    assert invoke(registry, "deprecate", stem, "--reason", "superseded", "--sunset", FUTURE)[0] == 0
    assert invoke(registry, "version", stem, "--bump", "minor", "-m", "deprecation recorded")[0] == 0
    assert invoke(registry, "update", stem, "--summary", "The first model")[0] == 0
    text = (registry / "models" / name).read_text(encoding="utf-8")
    assert _commented_lines(text) == _commented_lines(original)  # every comment, in order
    removed, added = _diff_lines(registry, f"models/{name}")
    assert sorted(removed) == sorted(replaced)
    expected = {_spaced(line) for line in replaced.values()}  # ruamel keeps a comment's column
    assert expected <= {_spaced(line) for line in added}
    new_blocks = [line for line in added if _spaced(line) not in expected]
    assert any("deprecation" in line for line in new_blocks) and any("history" in line for line in new_blocks)
    assert not [p for p in validate_registry(RegistryPaths(registry)) if p.severity == "error"]


# ----- 50 processes at once -----


def _worker(root: str, index: int, start: float) -> None:
    while time.monotonic() < start:  # start together
        time.sleep(0.001)
    name = "Alpha" if index % 2 else "Beta"
    if index % 5 == 0:
        api.deprecate(name, registry=root, reason=f"reason {index}", lock_timeout=120)
    else:
        api.version(name, registry=root, bump="patch", message=f"change {index}", lock_timeout=120)


def test_fifty_processes_versioning_and_deprecating_lose_nothing(registry: Path) -> None:
    for name in ("Alpha", "Beta"):  # load the edit and validation libraries once, before forking
        api.version(name, registry=registry, bump="patch", message="warm-up", dry_run=True)
        api.deprecate(name, registry=registry, reason="warm-up", dry_run=True)
    context = multiprocessing.get_context("fork")
    start = time.monotonic() + 0.5
    workers = [context.Process(target=_worker, args=(str(registry), i, start)) for i in range(50)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * 50
    paths = RegistryPaths(registry)
    for name, indices in (("Alpha", range(1, 50, 2)), ("Beta", range(0, 50, 2))):
        versions = [i for i in indices if i % 5]
        history = api.history(name, registry=registry)
        first, *made = history.items  # the hand-written starting version, recorded by the first change
        assert sorted(item.summary for item in made) == sorted(f"change {i}" for i in versions)
        base = 1 if name == "Alpha" else 2
        assert [item.version for item in history.items] == [f"{base}.0.{n}" for n in range(0, len(versions) + 1)]
        assert history.current == history.items[-1].version
    assert len(read_audit(paths)) == 50
    assert {e.command for e in read_audit(paths)} == {"version", "deprecate"}
    assert not [p for p in validate_registry(paths) if p.severity == "error"]
