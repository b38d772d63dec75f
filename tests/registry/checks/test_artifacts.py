"""Artifacts: recorded files checked by sha256 in `modreg validate` (exit 5 when one is broken)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg import api
from modreg.cli import app
from modreg.errors import ExitCode
from modreg.registry.checks.artifacts import check_artifacts

TODAY = dt.date(2026, 11, 20)
runner = CliRunner()


@pytest.fixture
def versioned(write_entry: Callable[..., Path], empty_registry: Path) -> Path:
    """Alpha at 1.1.0 with artifacts/alpha-1.1.0.npz attached (1.0.1 had alpha-1.0.1.npz)."""
    write_entry("Alpha")
    folder = empty_registry / "artifacts"
    folder.mkdir()
    for version, part in (("1.0.1", "patch"), ("1.1.0", "minor")):
        (folder / f"alpha-{version}.npz").write_bytes(f"weights {version}".encode())
        api.version("Alpha", registry=empty_registry, bump=part, message=version, artifacts=[folder / f"alpha-{version}.npz"], today=TODAY)
    return empty_registry


def _validate(root: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--registry", str(root), "validate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_intact_artifacts_validate_clean(versioned: Path) -> None:
    code, out, _ = _validate(versioned)
    assert code == 0, out
    assert api.validate(registry=versioned).broken == 0


def test_a_tampered_artifact_fails_validate_with_exit_5_naming_the_file(versioned: Path) -> None:
    (versioned / "artifacts" / "alpha-1.1.0.npz").write_bytes(b"tampered")
    code, out, err = _validate(versioned)
    assert code == ExitCode.INTEGRITY
    assert "artifact `artifacts/alpha-1.1.0.npz` does not match its sha256" in out
    assert "1 artifact missing or not matching" in err
    report = api.validate(registry=versioned)
    assert report.broken == 1  # one file, recorded by the entry and by its 1.1.0 history entry
    assert [p.json_path for p in report.problems] == ["artifacts[0].sha256", "history[2].artifacts[0].sha256"]


def test_a_missing_artifact_fails_with_exit_5(versioned: Path) -> None:
    (versioned / "artifacts" / "alpha-1.1.0.npz").unlink()
    code, out, _ = _validate(versioned)
    assert code == ExitCode.INTEGRITY and "artifact `artifacts/alpha-1.1.0.npz` does not exist" in out


def test_an_older_version_s_file_gone_is_only_a_warning(versioned: Path) -> None:
    (versioned / "artifacts" / "alpha-1.0.1.npz").unlink()
    code, out, _ = _validate(versioned)
    assert code == 0 and "warning: artifact `artifacts/alpha-1.0.1.npz` of an older version is no longer on disk" in out
    assert _validate(versioned, "--strict")[0] == ExitCode.CHECK_FAILED


def test_an_older_version_s_file_changed_is_an_integrity_failure(versioned: Path) -> None:
    (versioned / "artifacts" / "alpha-1.0.1.npz").write_bytes(b"other")
    assert _validate(versioned)[0] == ExitCode.INTEGRITY


def test_the_problem_points_at_the_line_of_the_record(versioned: Path) -> None:
    (versioned / "artifacts" / "alpha-1.1.0.npz").write_bytes(b"tampered")
    [own, _] = check_artifacts(versioned, [versioned / "models" / "Alpha.toml"]).broken
    text = (versioned / "models" / "Alpha.toml").read_text(encoding="utf-8").splitlines()
    assert own.json_path == "artifacts[0].sha256" and text[own.line - 1].startswith("sha256 = ")


def test_a_path_leaving_the_registry_is_an_ordinary_error(write_entry: Callable[..., Path], empty_registry: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("x", encoding="utf-8")
    digest = hashlib.sha256(b"x").hexdigest()
    write_entry("Alpha", artifacts=[{"path": "../secret.txt", "sha256": digest}])
    code, out, _ = _validate(empty_registry)
    assert code == ExitCode.CHECK_FAILED and "leads outside the registry" in out


def test_only_the_files_asked_for_are_checked(versioned: Path, write_entry: Callable[..., Path]) -> None:
    write_entry("Beta", artifacts=[{"path": "gone.npz", "sha256": "0" * 64}])
    assert _validate(versioned, str(versioned / "models" / "Alpha.toml"))[0] == 0
    assert _validate(versioned, str(versioned / "models" / "Beta.toml"))[0] == ExitCode.INTEGRITY
