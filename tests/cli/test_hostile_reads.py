"""A hostile cloned registry, read: links, pipes, devices, huge files and linked folders planted
where modreg reads are refused by name (exit 5) or skipped with a warning; no read waits, runs
without end, fills the memory or leaves the registry (the writes side: test_hostile_registry.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import modreg
from modreg.cli import app
from modreg.errors import ExitCode

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "registry.example"


def _modreg(registry: Path, *args: str) -> tuple[int, str]:
    done = runner.invoke(app, ["--registry", str(registry), *args])
    return done.exit_code, done.stderr


def _bounded(registry: Path, *args: str) -> tuple[int, str]:
    """Run modreg in a child with a deadline, so that a read that waits on a pipe fails the test
    instead of hanging the suite; (exit code, stdout + stderr)."""
    env = {**os.environ, "PYTHONPATH": str(Path(modreg.__file__).resolve().parents[1])}
    try:
        done = subprocess.run([sys.executable, "-m", "modreg", "--registry", str(registry), *args],
                              capture_output=True, text=True, timeout=60, env=env, cwd=registry, check=False)
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


def test_a_descriptor_larger_than_the_memory_is_listed_as_too_big_never_read_whole(clone: Path) -> None:
    import resource

    with open(clone / "models" / "Big.toml", "wb") as handle:
        handle.truncate(2 * 1024**3)  # sparse: 2 GiB that take no disk, under a 1 GiB address-space limit

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3))

    env = {**os.environ, "PYTHONPATH": str(Path(modreg.__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-m", "modreg", "--registry", str(clone), "list"], capture_output=True,
                          text=True, timeout=120, env=env, preexec_fn=limit, check=False)
    assert done.returncode == 0 and "Big.toml is 2,147,483,648 bytes" in done.stderr and "Naive" in done.stdout


def test_an_artifact_that_is_a_pipe_is_named_not_called_missing(clone: Path) -> None:
    (clone / "artifacts").mkdir()
    os.mkfifo(clone / "artifacts" / "w.npz")
    file = clone / "models" / "Naive.toml"
    file.write_text(file.read_text() + f'\n[[artifacts]]\npath = "artifacts/w.npz"\nsha256 = "{"0" * 64}"\n')
    code, out = _bounded(clone, "validate")
    assert code == ExitCode.INTEGRITY and "artifact `artifacts/w.npz` is not a plain file" in out


def test_a_config_that_is_a_pipe_is_named_not_taken_for_no_registry(clone: Path) -> None:
    (clone / "modreg.toml").unlink()
    os.mkfifo(clone / "modreg.toml")
    code, out = _bounded(clone, "list")
    assert code == ExitCode.INTEGRITY and "modreg.toml is not a plain file" in out


def test_defensive_reads_never_follow_a_link_out(tmp_path: Path, outside: Path) -> None:
    """Reads that only happen when a file is swapped mid-command: the edit's re-check, the lock's
    pid, and plugin lock's comparison with params.schema.json."""
    from modreg.plugins.plugin_lock import _holds
    from modreg.registry.mutation.checks import current_sha
    from modreg.registry.store.lock import _read_pid

    (outside / "pid").write_text("4242\n")
    (outside / "schema.json").write_text("{}\n")
    for name, target in (("Naive.toml", "precious.txt"), ("lock", "pid"), ("params.schema.json", "schema.json")):
        (tmp_path / name).symlink_to(outside / target)
    assert current_sha(tmp_path / "Naive.toml") == ""  # a change: the edit stops with a conflict
    assert _read_pid(tmp_path / "lock") is None
    assert _holds(tmp_path, tmp_path / "params.schema.json", "{}\n") is False


def test_a_pipe_in_the_lock_queue_is_passed_not_waited_on(clone: Path) -> None:
    (clone / ".modreg" / "queue").mkdir(parents=True)
    os.mkfifo(clone / ".modreg" / "queue" / "00000000000000000001-0000000001")  # named like a ticket ahead
    code, out = _bounded(clone, "update", "Naive", "--tag", "x")
    assert code == 0 and "updated Naive" in out


def test_validate_never_parses_a_manifest_through_a_linked_plugin_folder(clone: Path, outside: Path) -> None:
    (outside / "evil").mkdir()
    (outside / "evil" / "plugin.toml").write_text('name = "evil"\nsecret_key_name = "x"\n')  # its keys would be named
    (clone / "plugins" / "evil").symlink_to(outside / "evil", target_is_directory=True)
    done = runner.invoke(app, ["--registry", str(clone), "validate"])
    assert done.exit_code != 0 and "secret_key_name" not in done.stdout + done.stderr
    assert "evil is a symbolic link" in done.stdout + done.stderr
