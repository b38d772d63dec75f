"""Checks that must fail do fail (issue 15, point 4): the cache never makes `--check` wrong."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.errors import ExitCode

runner = CliRunner()


def _modreg(registry: Path, *args: str) -> tuple[int, str, str]:
    done = runner.invoke(app, ["--registry", str(registry), *args])
    return done.exit_code, done.stdout, done.stderr


def test_a_same_size_edit_with_its_old_mtime_put_back_is_stale(clone: Path) -> None:
    assert _modreg(clone, "build")[0] == 0
    assert _modreg(clone, "build", "--check")[0] == 0  # the cache now knows every file
    file = clone / "models" / "NHITS.toml"
    stat = file.stat()
    text = file.read_text()
    edited = text.replace('summary = "Neural', 'summary = "Nexral', 1)
    assert len(edited) == len(text) and edited != text
    file.write_text(edited)
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as `cp -p`, `rsync -t` or a checkout can
    code, out, err = _modreg(clone, "build", "--check")
    assert code == ExitCode.CHECK_FAILED, out + err
    assert "stale" in (out + err)


def test_a_tampered_plugin_file_fails_validate_and_build_check(clone: Path) -> None:
    source = clone / "plugins" / "seasonal_ets" / "_smoothing.py"
    source.write_text(source.read_text() + "# a change nobody reviewed\n")
    code, out, err = _modreg(clone, "validate")
    assert code == ExitCode.INTEGRITY, out + err
    assert "_smoothing.py does not match its sha256" in out
    before = {path: path.read_bytes() for path in (clone / "index").iterdir()}
    for args in (["build", "--check"], ["build"]):  # the same exit code as validate: README's table says 5
        code, out, err = _modreg(clone, *args)
        assert code == ExitCode.INTEGRITY and "_smoothing.py" in out, out + err
        assert "do not match their recorded sha256 (named above); nothing was written." in err
    assert {path: path.read_bytes() for path in (clone / "index").iterdir()} == before


def test_nan_and_infinity_are_refused_at_validate_with_their_line_and_never_crash_show(clone: Path) -> None:
    file = clone / "models" / "Naive.toml"
    lines = file.read_text().splitlines()
    file.write_text("\n".join([*lines, "", "[performance]", "mase = nan", "smape = inf"]) + "\n")
    code, out, _ = _modreg(clone, "validate")
    assert code == ExitCode.CHECK_FAILED
    assert f"Naive.toml:{len(lines) + 3}:1: error: `performance.mase` is nan" in out
    assert f"Naive.toml:{len(lines) + 4}:1: error: `performance.smape` is inf" in out
    code, out, err = _modreg(clone, "--json", "show", "Naive")
    assert code == ExitCode.CHECK_FAILED and out == "" and "NaN or infinity" in err


def test_register_reports_every_missing_field_at_once_in_text_and_json(empty_registry: Path) -> None:
    (empty_registry / "modreg.toml").write_text((empty_registry / "modreg.toml").read_text().replace(
        'required_fields = ["summary", "authors"]', 'required_fields = ["summary", "authors", "tags", "capabilities"]'))
    code, _, err = _modreg(empty_registry, "register", "Delta", "--category", "basic")
    assert code == ExitCode.USAGE
    for field in ("summary", "authors", "tags", "capabilities"):
        assert f"`{field}` is required by the registry's policy" in err
    code, _, err = _modreg(empty_registry, "--json", "register", "Delta", "--category", "basic")
    problems = json.loads(err)["error"]["problems"]
    assert len(problems) == 4 and not (empty_registry / "models" / "Delta.toml").exists()


@pytest.mark.parametrize(("option", "value", "suggestion"), [("--status", "archivd", "archived"), ("--category", "advnced", "advanced")])
def test_list_and_search_refuse_an_unknown_filter_value_alike(clone: Path, option: str, value: str, suggestion: str) -> None:
    for command in ("list", "search"):
        code, out, err = _modreg(clone, command, option, value)
        assert code == ExitCode.USAGE and out == "", command
        assert "did you mean" in err


GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin",
}


def test_diff_git_with_an_unreadable_side_is_incomplete_and_says_so(clone: Path) -> None:
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=clone, env=GIT_ENV, check=True, capture_output=True)

    git("init", "-q")
    broken = clone / "models" / "Naive.toml"
    good = broken.read_text()
    broken.write_text(good.replace('name = "Naive"', 'name = "Naive" = broken'))
    git("add", "-A")
    git("commit", "-qm", "a broken descriptor")
    broken.write_text(good)
    code, out, err = _modreg(clone, "diff", "--git", "HEAD")
    assert code == ExitCode.INTEGRITY
    assert "Naive.toml" in err and "incomplete" in err and "No entries differ" not in out


def _limited_update(registry: Path, limit: int) -> tuple[int, str]:
    """`modreg update` in a child process whose files may not grow past `limit` bytes."""
    import subprocess
    import sys

    code = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
            "from modreg.cli import main; sys.argv = ['modreg', '--registry', sys.argv[1], 'update', 'Naive', '--tag', 'big']; main()")
    done = subprocess.run([sys.executable, "-c", code, str(registry)], capture_output=True, text=True, timeout=120)
    return done.returncode, done.stderr


def test_an_audit_line_that_cannot_be_written_whole_fails_the_command_and_changes_nothing(clone: Path) -> None:
    log = clone / "audit.jsonl"
    log.write_text("x" * 3000 + "\n")  # the log is near the limit; descriptors are smaller than it
    descriptor = (clone / "models" / "Naive.toml").read_text()
    code, err = _limited_update(clone, 3100)
    assert code == ExitCode.USAGE and "cannot write the audit log" in err and "Traceback" not in err
    assert log.read_text() == "x" * 3000 + "\n"
    assert (clone / "models" / "Naive.toml").read_text() == descriptor


def test_a_torn_last_audit_line_is_reported_with_its_number_and_the_rest_is_read(clone: Path) -> None:
    assert _modreg(clone, "update", "Naive", "--tag", "one")[0] == 0
    log = clone / "audit.jsonl"
    log.write_text(log.read_text() + '{"time": "2026-')  # a write cut short
    code, out, err = _modreg(clone, "audit")
    assert code == 0 and "Naive" in out and "audit.jsonl:2:" in err
    assert _modreg(clone, "update", "Naive", "--tag", "two")[0] == 0  # not glued to the torn line
    lines = log.read_text().splitlines()
    assert len(lines) == 3 and '"two"' in lines[2]
    code, out, err = _modreg(clone, "audit")
    assert code == ExitCode.INTEGRITY and "audit.jsonl:2:" in err and out.count("Naive") == 2
    assert "the audit log has 1 line that is not an audit entry (named above)" in err


def test_a_plugin_models_parameters_are_checked_at_register_and_validate(clone: Path) -> None:
    code, _, err = _modreg(clone, "register", "ETS2", "--category", "basic", "--summary", "ets", "--author",
                           "A <a@example.org>", "--runtime-model", "SeasonalETS", "--param", "h=-3", "--param", "bogus=1")
    assert code == ExitCode.USAGE and "bogus" in err and "h" in err
    assert not (clone / "models" / "ETS2.toml").exists()
    (clone / "plugins" / "seasonal_ets" / "params.schema.json").unlink()  # an unlocked plugin: not checked
    file = clone / "models" / "SeasonalETS.toml"
    file.write_text(file.read_text().replace("[runtime.params]\n", "[runtime.params]\nbogus = 1\n", 1))
    code, out, _ = _modreg(clone, "validate", "--strict", str(file))
    assert code != 0 and "are not checked" in out and "plugin lock seasonal_ets --schemas" in out


def test_run_load_refuses_a_recorded_artifact_that_changed(clone: Path) -> None:
    data = str(clone / "data" / "air_passengers.csv")
    saved = clone / "artifacts" / "naive.npz"
    saved.parent.mkdir()
    assert _modreg(clone, "run", "Naive", "--data", data, "--save", str(saved))[0] == 0
    assert _modreg(clone, "version", "Naive", "--bump", "patch", "-m", "weights", "--artifact", str(saved))[0] == 0
    assert _modreg(clone, "run", "Naive", "--data", data, "--load", str(saved))[0] == 0
    saved.write_bytes(saved.read_bytes() + b"\0")
    code, _, err = _modreg(clone, "run", "Naive", "--data", data, "--load", str(saved))
    assert code == ExitCode.INTEGRITY and "does not match its sha256" in err
