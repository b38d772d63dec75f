"""A read-only descriptor is refused by name, not replaced behind its mode (root ignores the mode, so it is simulated)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modreg.errors import ExitCode, UsageError
from modreg.registry.mutation.transaction import create_entry, update_entry
from modreg.registry.store.layout import RegistryPaths



@pytest.fixture
def paths(empty_registry: Path, base_descriptor: str) -> RegistryPaths:
    paths = RegistryPaths(empty_registry)
    (paths.models / "Base.toml").write_text(base_descriptor, encoding="utf-8")
    return paths


def _read_only(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """`os.access` answers as it would for a user without write permission on `names`."""
    real = os.access

    def access(path: object, mode: int, *args: object, **kwargs: object) -> bool:
        if mode & os.W_OK and Path(str(path)).name in names:
            return False
        return real(path, mode, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)


def test_a_read_only_descriptor_is_refused_and_left_as_it_was(base_descriptor: str, paths: RegistryPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    _read_only(monkeypatch, "Base.toml")
    with pytest.raises(UsageError) as caught:
        update_entry(paths, "Base", lambda data: {**data, "tags": ["mlp", "fast"]}, command="update")
    assert caught.value.exit_code == ExitCode.USAGE
    assert "Base.toml" in caught.value.message and "read-only" in caught.value.message and "it is unchanged" in caught.value.message
    assert "chmod u+w Base.toml" in (caught.value.hint or "")
    assert (paths.models / "Base.toml").read_text(encoding="utf-8") == base_descriptor
    assert not paths.audit_log.exists()
    assert [p.name for p in paths.models.iterdir()] == ["Base.toml"]


def _failing_rename(monkeypatch: pytest.MonkeyPatch, name: str, error: OSError) -> None:
    """os.replace onto a file called `name` fails with `error` (naming the target); others succeed."""
    real = os.replace

    def replace(source: str, target: str) -> None:
        if Path(target).name == name:
            raise type(error)(error.errno, error.strerror, target)
        real(source, target)

    monkeypatch.setattr(os, "replace", replace)


def test_a_new_entry_that_cannot_be_written_says_nothing_was_written(paths: RegistryPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_rename(monkeypatch, "Fresh.toml", PermissionError(13, "Permission denied"))
    data = {"schema_version": 1, "name": "Fresh", "version": "1.0.0", "category": "basic", "status": "active",
            "summary": "A new model", "authors": ["Team <team@example.org>"], "tags": ["mlp"]}
    with pytest.raises(UsageError) as caught:
        create_entry(paths, data, "toml", command="register")
    assert "nothing was written" in caught.value.message and "unchanged" not in caught.value.message
    assert sorted(p.name for p in paths.models.iterdir()) == ["Base.toml"]
    assert not paths.audit_log.exists()


def test_a_full_disk_at_the_second_file_names_the_first_one_written(base_descriptor: str, paths: RegistryPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    from modreg.registry.mutation.transaction import transaction
    from modreg.registry.store.audit import read_audit

    (paths.models / "Other.toml").write_text(base_descriptor.replace('"Base"', '"Other"'), encoding="utf-8")
    _failing_rename(monkeypatch, "Other.toml", OSError(28, "No space left on device"))
    with pytest.raises(UsageError) as caught:
        with transaction(paths, "bench") as txn:  # as `bench --record` of two entries
            for name in ("Base", "Other"):
                txn.edit(name, lambda data: {**data, "tags": ["mlp", "fast"]})
    assert "Other.toml" in caught.value.message and caught.value.message.endswith("written before it: Base.toml.")
    assert "fast" in (paths.models / "Base.toml").read_text(encoding="utf-8")
    assert (paths.models / "Other.toml").read_text(encoding="utf-8") == base_descriptor.replace('"Base"', '"Other"')
    assert [entry.name for entry in read_audit(paths)] == ["Base"]
