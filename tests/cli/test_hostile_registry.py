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
