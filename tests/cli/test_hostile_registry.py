"""A hostile cloned registry: links, paths, escapes and names never reach outside it (issue 16)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.errors import ExitCode

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "registry.example"


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    target = tmp_path / "clone"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".modreg"))
    return target


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me\n")
    return folder


def _modreg(registry: Path, *args: str) -> tuple[int, str]:
    done = runner.invoke(app, ["--registry", str(registry), *args])
    return done.exit_code, done.stderr


def _untouched(outside: Path) -> bool:
    return sorted(p.name for p in outside.iterdir()) == ["precious.txt"] and (outside / "precious.txt").read_text() == "keep me\n"


def test_a_linked_lock_file_is_refused(clone: Path, outside: Path) -> None:
    (clone / ".modreg").mkdir()
    (clone / ".modreg" / "lock").symlink_to(outside / "precious.txt")
    code, err = _modreg(clone, "update", "Naive", "--tag", "x")
    assert code == ExitCode.INTEGRITY and "symbolic link" in err and _untouched(outside)


def test_a_linked_audit_log_is_refused(clone: Path, outside: Path) -> None:
    (clone / "audit.jsonl").symlink_to(outside / "precious.txt")
    code, err = _modreg(clone, "update", "Naive", "--tag", "x")
    assert code == ExitCode.INTEGRITY and "audit.jsonl" in err and _untouched(outside)
    assert "tags = [" in (clone / "models" / "Naive.toml").read_text() and '"x"' not in (clone / "models" / "Naive.toml").read_text()


def test_a_linked_index_folder_is_refused(clone: Path, outside: Path) -> None:
    shutil.rmtree(clone / "index")
    (clone / "index").symlink_to(outside, target_is_directory=True)
    code, err = _modreg(clone, "build")
    assert code == ExitCode.INTEGRITY and "index" in err and _untouched(outside)


@pytest.mark.parametrize("check", [True, False], ids=["build --check", "build"])
def test_an_output_linked_to_an_endless_file_is_refused_before_any_read(clone: Path, check: bool) -> None:
    (clone / "reports" / "registry_summary.md").unlink()
    (clone / "reports" / "registry_summary.md").symlink_to("/dev/zero")
    code, err = _modreg(clone, "build", *(["--check"] if check else []))
    assert code == ExitCode.INTEGRITY and "symbolic link" in err


def test_an_output_that_is_a_pipe_is_refused_not_read(clone: Path) -> None:
    (clone / "reports" / "registry_summary.md").unlink()
    os.mkfifo(clone / "reports" / "registry_summary.md")  # opened for reading, it would wait for a writer
    code, err = _modreg(clone, "build", "--check")
    assert code == ExitCode.INTEGRITY and "not a plain file" in err


def test_a_linked_reports_folder_leaves_every_output_as_it_was(clone: Path, outside: Path) -> None:
    before = {p.name: p.read_bytes() for p in (clone / "index").iterdir()}
    (clone / "models" / "NHITS.toml").write_text(
        (clone / "models" / "NHITS.toml").read_text().replace('summary = "', 'summary = "Edited. ', 1))
    shutil.rmtree(clone / "reports")
    (clone / "reports").symlink_to(outside, target_is_directory=True)
    code, err = _modreg(clone, "build")
    assert code == ExitCode.INTEGRITY and "symbolic link" in err
    assert {p.name: p.read_bytes() for p in (clone / "index").iterdir()} == before  # no index written either
    assert _untouched(outside)


def test_a_linked_gitattributes_is_never_copied_into_the_registry(clone: Path, outside: Path) -> None:
    (clone / ".gitattributes").unlink(missing_ok=True)
    (clone / ".gitattributes").symlink_to(outside / "precious.txt")  # say, a private key
    done = runner.invoke(app, ["init", "--git-hooks", str(clone)])
    assert done.exit_code == ExitCode.INTEGRITY and "symbolic link" in done.stderr
    assert (clone / ".gitattributes").is_symlink() and _untouched(outside)


def test_init_refuses_a_gitignore_that_is_a_pipe(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    folder.mkdir()
    os.mkfifo(folder / ".gitignore")  # read, it would wait for a writer
    done = runner.invoke(app, ["init", str(folder)])
    assert done.exit_code == ExitCode.INTEGRITY and "not a plain file" in done.stderr
    assert sorted(p.name for p in folder.iterdir()) == [".gitignore"]  # nothing made


def test_a_linked_cache_database_is_refused(clone: Path, outside: Path) -> None:
    (clone / ".modreg").mkdir()
    (clone / ".modreg" / "cache.sqlite").symlink_to(outside / "precious.txt")
    code, err = _modreg(clone, "search", "lstm")
    assert code == ExitCode.INTEGRITY and "cache.sqlite" in err and _untouched(outside)


def test_a_linked_trash_folder_is_refused(clone: Path, outside: Path) -> None:
    (clone / ".modreg").mkdir()
    (clone / ".modreg" / "trash").symlink_to(outside, target_is_directory=True)
    code, err = _modreg(clone, "delete", "Naive", "--force")
    assert code == ExitCode.INTEGRITY and _untouched(outside)
    assert (clone / "models" / "Naive.toml").exists()


def test_a_linked_descriptor_is_neither_shown_nor_published(clone: Path, outside: Path) -> None:
    (outside / "Evil.toml").write_text((clone / "models" / "Naive.toml").read_text().replace('"Naive"', '"Evil"'))
    (clone / "models" / "Evil.toml").symlink_to(outside / "Evil.toml")
    code, _ = _modreg(clone, "show", "Evil")
    assert code != 0
    code, err = _modreg(clone, "validate")
    assert code != 0
    assert "Evil" not in (clone / "index" / "registry.json").read_text()


def test_a_template_name_never_leaves_templates(clone: Path, outside: Path) -> None:
    (outside / "evil.toml").write_text('name = "evil"\nsummary = "x"\n[params]\nh = 1\n')
    code, err = _modreg(clone, "run", "Naive", "--data", str(clone / "data" / "air_passengers.csv"),
                        "--template", "../../outside/evil")
    assert code == ExitCode.NOT_FOUND and "No template named" in err


def test_an_absolute_artifact_path_is_refused_at_validate(clone: Path) -> None:
    (clone / "artifacts").mkdir()
    weights = clone / "artifacts" / "w.npz"
    weights.write_bytes(b"w")
    import hashlib

    digest = hashlib.sha256(b"w").hexdigest()
    file = clone / "models" / "Naive.toml"
    file.write_text(file.read_text() + f'\n[[artifacts]]\npath = "{weights}"\nsha256 = "{digest}"\n')
    done = runner.invoke(app, ["--registry", str(clone), "validate"])
    assert done.exit_code != 0 and "is absolute" in done.stdout


def test_control_characters_never_reach_the_terminal_and_are_refused_at_validate(clone: Path) -> None:
    file = clone / "models" / "Naive.toml"
    text = file.read_text()
    start = text.index("summary = ")
    end = text.index("\n", start)
    file.write_text(text[:start] + 'summary = "fine\\u001b]52;c;aGk=\\u0007 tail\\nForged  9.9.9  basic  active  row"' + text[end:])
    done = runner.invoke(app, ["--registry", str(clone), "list"])
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert not any(line.startswith("Forged") for line in done.stdout.splitlines())
    done = runner.invoke(app, ["--registry", str(clone), "show", "Naive"])
    assert "\x1b" not in done.stdout
    done = runner.invoke(app, ["--registry", str(clone), "validate"])
    assert done.exit_code != 0 and "control character" in done.stdout


def test_github_annotations_escape_the_file_name() -> None:
    from modreg.cli.render import github_annotation

    line = github_annotation("error", "models/a\n::stop-commands::x.toml", 1, 1, "bad")
    assert "\n" not in line and line.count("::") == 2


# ----- reads: pipes, devices, huge files and linked folders (every read of a clone is bounded) -----


def _bounded(registry: Path, *args: str) -> tuple[int, str]:
    """Run modreg in a child with a deadline, so that a read that waits on a pipe fails the test
    instead of hanging the suite; (exit code, stdout + stderr)."""
    import subprocess
    import sys

    import modreg

    env = {**os.environ, "PYTHONPATH": str(Path(modreg.__file__).resolve().parents[1])}
    try:
        done = subprocess.run([sys.executable, "-m", "modreg", "--registry", str(registry), *args],
                              capture_output=True, text=True, timeout=60, env=env, cwd=registry)
    except subprocess.TimeoutExpired:
        pytest.fail(f"modreg {' '.join(args)} waited past 60 s (a read with no end)")
    assert "Traceback" not in done.stderr
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("command", [["validate"], ["plugin", "verify"], ["plugin", "list"], ["discover"],
                                     ["plugin", "lock", "seasonal_ets"], ["run", "SeasonalETS", "--data", "data/air_passengers.csv"]])
def test_a_plugin_manifest_that_is_a_pipe_is_refused_not_waited_on(clone: Path, command: list[str]) -> None:
    manifest = clone / "plugins" / "seasonal_ets" / "plugin.toml"
    manifest.unlink()
    os.mkfifo(manifest)
    code, out = _bounded(clone, *command)
    assert code in ((0, ExitCode.INTEGRITY) if command == ["plugin", "list"] else (ExitCode.INTEGRITY, ExitCode.NOT_FOUND))
    assert "plugin.toml is not a regular file" in out or "SeasonalETS" in out


def test_a_plugin_schema_that_is_a_pipe_never_stalls_validate(clone: Path) -> None:
    schema = clone / "plugins" / "seasonal_ets" / "params.schema.json"
    schema.unlink()
    os.mkfifo(schema)
    code, out = _bounded(clone, "validate")
    assert code == ExitCode.INTEGRITY and "params.schema.json is not a regular file" in out


def test_a_plugin_file_over_the_size_limit_is_refused_unread(clone: Path) -> None:
    with open(clone / "plugins" / "seasonal_ets" / "seasonal_ets.py", "r+b") as handle:
        handle.truncate(65 * 1024 * 1024)  # sparse: no disk used, and never read whole
    code, out = _bounded(clone, "plugin", "lock", "seasonal_ets")
    assert code == ExitCode.INTEGRITY and "larger than 67,108,864 bytes" in out


@pytest.mark.parametrize("kind", ["device link", "pipe"])
def test_a_descriptor_that_is_not_a_plain_file_is_named_not_skipped(clone: Path, kind: str) -> None:
    descriptor = clone / "models" / "Naive.toml"
    descriptor.unlink()
    descriptor.symlink_to("/dev/zero") if kind == "device link" else os.mkfifo(descriptor)
    code, out = _bounded(clone, "validate")
    assert code == ExitCode.CHECK_FAILED and "Naive.toml" in out
    code, out = _bounded(clone, "show", "Naive")
    assert code == ExitCode.INTEGRITY and "Naive.toml" in out
    code, out = _bounded(clone, "list")
    assert code == 0 and "Naive.toml" in out  # a warning, where it used to be left out unseen


def test_a_template_linked_to_a_device_is_named_by_validate(clone: Path) -> None:
    (clone / "templates" / "quick.toml").unlink()
    (clone / "templates" / "quick.toml").symlink_to("/dev/zero")
    code, out = _bounded(clone, "validate")
    assert code == ExitCode.CHECK_FAILED and "quick.toml" in out and "symbolic link" in out


@pytest.mark.parametrize("folder", ["models", "templates", "plugins"])
def test_a_linked_registry_folder_is_refused_before_any_read(clone: Path, outside: Path, folder: str) -> None:
    shutil.copytree(clone / folder, outside / folder)
    shutil.rmtree(clone / folder)
    (clone / folder).symlink_to(outside / folder, target_is_directory=True)
    for command in (["validate"], ["list"], ["plugin", "list"]):
        code, err = _modreg(clone, *command)
        assert code == ExitCode.INTEGRITY and f"{folder} is a symbolic link" in err


def test_a_plugin_directory_outside_the_registry_is_refused(clone: Path, outside: Path) -> None:
    shutil.copytree(clone / "plugins" / "seasonal_ets", outside / "seasonal_ets")
    config = clone / "modreg.toml"
    config.write_text(config.read_text().replace('directories = ["plugins"]', f'directories = ["plugins", "{outside}"]'))
    code, err = _modreg(clone, "plugin", "list")
    assert code == ExitCode.USAGE and "leads outside the registry" in err and "modreg.toml" in err


def test_a_manifest_is_never_read_through_a_linked_plugin_folder(clone: Path, outside: Path) -> None:
    (outside / "evil").mkdir()
    (outside / "evil" / "plugin.toml").write_text("secret = [[[\n")  # read, it would fail to parse
    (clone / "plugins" / "evil").symlink_to(outside / "evil", target_is_directory=True)
    code, err = _modreg(clone, "plugin", "verify", "evil")
    assert code == ExitCode.INTEGRITY and "evil is a symlink" in err


def test_a_linked_audit_log_is_not_read(clone: Path, outside: Path) -> None:
    (outside / "precious.txt").write_text('{"not": "an audit entry"}\n')
    (clone / "audit.jsonl").symlink_to(outside / "precious.txt")
    code, err = _modreg(clone, "audit")
    assert code == ExitCode.INTEGRITY and "symbolic link" in err and "not an audit entry" not in err


def test_an_audit_log_line_of_endless_length_is_read_past_in_pieces(clone: Path) -> None:
    (clone / "audit.jsonl").write_bytes(b"x" * 300_000 + b"\n")
    code, err = _modreg(clone, "audit")
    assert code == 0 and "longer than 65,536 bytes" in err


def test_diff_git_never_reads_a_linked_descriptor(clone: Path, outside: Path) -> None:
    import subprocess

    git_env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
               "GIT_COMMITTER_EMAIL": "t@e", "GIT_CONFIG_GLOBAL": "/dev/null"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "clone"]):
        subprocess.run(["git", *args], cwd=clone, env=git_env, check=True, capture_output=True)
    text = (clone / "models" / "Naive.toml").read_text()
    (outside / "Naive.toml").write_text(text.replace('summary = "', 'summary = "LEAKED ', 1))
    (clone / "models" / "Naive.toml").unlink()
    (clone / "models" / "Naive.toml").symlink_to(outside / "Naive.toml")
    done = runner.invoke(app, ["--registry", str(clone), "diff", "--git", "HEAD"])
    assert "LEAKED" not in done.stdout + done.stderr and "symbolic link" in done.stderr


def test_a_template_linked_out_is_refused_by_name_when_run(clone: Path) -> None:
    (clone / "templates" / "quick.toml").unlink()
    (clone / "templates" / "quick.toml").symlink_to("/dev/zero")
    code, err = _modreg(clone, "run", "Naive", "--data", str(clone / "data" / "air_passengers.csv"), "--template", "quick")
    assert code == ExitCode.INTEGRITY and "quick.toml is a symbolic link" in err


def test_a_linked_allowed_signers_file_is_never_handed_to_ssh_keygen(clone: Path, outside: Path) -> None:
    config = clone / "modreg.toml"
    config.write_text(config.read_text().replace('security = "checksum"', 'security = "signature"\nallowed_signers = "allowed_signers"'))
    (clone / "allowed_signers").symlink_to(outside / "precious.txt")  # say, ~/.ssh/authorized_keys
    (clone / "plugins" / "seasonal_ets" / "plugin.toml.sig").write_text("-----BEGIN SSH SIGNATURE-----\n")
    code, err = _modreg(clone, "plugin", "verify")
    assert code == ExitCode.INTEGRITY and "allowed_signers is a symbolic link" in err


def test_a_search_cache_that_arrives_with_a_clone_is_rebuilt_not_trusted(tmp_path: Path) -> None:
    import json
    import sqlite3

    made = tmp_path / "made"
    shutil.copytree(EXAMPLE, made, ignore=shutil.ignore_patterns(".modreg"))
    assert _modreg(made, "list")[0] == 0
    with sqlite3.connect(made / ".modreg" / "cache.sqlite") as conn:  # rows that quote the files' true hashes
        data = json.loads(conn.execute("SELECT data FROM files WHERE name = 'Naive'").fetchone()[0])
        conn.execute("UPDATE files SET summary = 'POISONED', data = ? WHERE name = 'Naive'",
                     (json.dumps({**data, "summary": "POISONED"}),))
    conn.close()
    assert "POISONED" in runner.invoke(app, ["--registry", str(made), "list"]).stdout  # its own cache is trusted
    clone = tmp_path / "clone"
    shutil.copytree(made, clone)  # the cache committed, or copied with the folder
    done = runner.invoke(app, ["--registry", str(clone), "list"])
    assert done.exit_code == 0 and "POISONED" not in done.stdout and "Naive forecast" in done.stdout


@pytest.mark.parametrize("planted", ["audit.jsonl", ".modreg/lock"])
def test_a_pipe_planted_as_the_audit_log_or_the_lock_is_named_and_nothing_changes(clone: Path, planted: str) -> None:
    (clone / ".modreg").mkdir()
    os.mkfifo(clone / planted)
    before = (clone / "models" / "Naive.toml").read_bytes()
    code, out = _bounded(clone, "update", "Naive", "--tag", "x")
    assert code == ExitCode.INTEGRITY and f"{planted} is not a plain file" in out
    assert (clone / "models" / "Naive.toml").read_bytes() == before
    if planted == "audit.jsonl":
        code, out = _bounded(clone, "audit")
        assert code == ExitCode.INTEGRITY and "audit.jsonl is not a plain file" in out
