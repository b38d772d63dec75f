"""Versions read from git depend on the repository only: not on the committer's time zone,
nor on the reader's git configuration (`log.follow`), time zone or locale."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from modreg import api
from modreg.registry.store.init import init_registry

DESCRIPTOR = """\
schema_version = 1
name = "{name}"
version = "{version}"
category = "basic"
summary = "s"
"""


def _git(repo: Path, *args: str, env: dict[str, str] | None = None) -> None:
    base = {
        "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.org",
        "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env={**os.environ, **base, **(env or {})})


def _commit(root: Path, name: str, version: str, when: str) -> None:
    (root / "models" / f"{name}.toml").write_text(DESCRIPTOR.format(name=name, version=version), encoding="utf-8")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", version, env={"GIT_COMMITTER_DATE": when, "GIT_AUTHOR_DATE": when})


def _registry(tmp_path: Path, when: str) -> Path:
    """A git registry whose entry Alpha was 1.0.0 in a commit made at `when`, and is 2.0.0 now."""
    root = init_registry(tmp_path / "reg").root
    _git(root, "init", "-q", "-b", "main")
    _commit(root, "Alpha", "1.0.0", when)
    _commit(root, "Alpha", "2.0.0", "2026-12-07T12:00:00+00:00")
    return root


def _git_dates(root: Path, name: str = "Alpha") -> dict[str, str | None]:
    history = api.history(name, registry=root)
    return {item.version: item.date.isoformat() if item.date else None for item in history.items if item.source != "history"}


@pytest.mark.parametrize("when", ["2026-12-05T23:30:00+00:00", "2026-12-06T13:30:00+14:00", "2026-12-05T13:30:00-10:00"])
def test_a_git_version_is_dated_by_the_utc_day_of_its_commit(tmp_path: Path, when: str) -> None:
    # the same instant, committed from UTC, from Kiritimati (+14) and from Adak (-10)
    assert _git_dates(_registry(tmp_path, when)) == {"1.0.0": "2026-12-05"}


@pytest.mark.parametrize("tz", ["UTC", "Pacific/Kiritimati", "America/Adak"])
def test_the_reader_s_time_zone_does_not_move_a_git_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tz: str) -> None:
    root = _registry(tmp_path, "2026-12-05T23:30:00+00:00")
    monkeypatch.setenv("TZ", tz)
    monkeypatch.setenv("LC_ALL", "C")
    assert _git_dates(root) == {"1.0.0": "2026-12-05"}


def test_log_follow_in_the_reader_s_git_config_does_not_change_the_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _registry(tmp_path, "2026-12-05T12:00:00+00:00")
    (root / "models" / "Alpha.toml").rename(root / "models" / "Beta.toml")
    _commit(root, "Beta", "3.0.0", "2026-12-08T12:00:00+00:00")
    plain = _git_dates(root, "Beta")
    config = tmp_path / "gitconfig"
    config.write_text("[log]\n\tfollow = true\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    assert _git_dates(root, "Beta") == plain == {}


@pytest.mark.parametrize(
    ("stamp", "day"),
    [("1796515199", "2026-12-05"), ("1796515200", "2026-12-06"), ("-1", "1969-12-31"), ("soon", ""), ("9" * 30, "")],
)
def test_a_commit_time_is_its_utc_day_on_every_platform(stamp: str, day: str) -> None:
    from modreg.registry.history.git_versions import _utc_day

    assert _utc_day(stamp) == day
