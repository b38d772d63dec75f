"""The mutation transaction: lock, re-check, validate, atomic write, audit; never lose data."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from modreg.errors import Conflict, ExitCode, NotFound, UsageError
from modreg._fs import TEMP_PREFIX
from modreg.registry.store.audit import read_audit
from modreg.registry.store.init import init_registry
from modreg.registry.store.layout import RegistryPaths
from modreg.registry.mutation.transaction import create_entry, run_batch, transaction, update_entry
from modreg.registry.checks.validate import validate_registry

CHILD_YAML = '''\
# Depends on Base.
schema_version: 1
name: Child
version: "0.3.0"
category: custom
status: active
summary: A child model
authors: ["Team <team@example.org>"]
dependencies:
  Base: ">=1.0,<2"
history:
  - version: "0.3.0"
    date: 2026-01-01
    summary: first version
'''


@pytest.fixture
def paths(tmp_path: Path, base_descriptor: str) -> RegistryPaths:
    """A small valid registry: Base (TOML), Child (YAML, depends on Base)."""
    paths = init_registry(tmp_path / "reg")
    (paths.models / "Base.toml").write_text(base_descriptor, encoding="utf-8")
    (paths.models / "Child.yaml").write_text(CHILD_YAML, encoding="utf-8")
    return paths


def _add_tag(tag: str):  # type: ignore[no-untyped-def]
    def change(data: dict[str, Any]) -> dict[str, Any]:
        data["tags"] = [*data.get("tags", []), tag]
        return data

    return change


def _errors(paths: RegistryPaths) -> list[Any]:
    return [p for p in validate_registry(paths) if p.severity == "error"]


def test_update_writes_keeps_comments_and_appends_one_audit_line(paths: RegistryPaths) -> None:
    mutation = update_entry(paths, "Base", _add_tag("fast"), command="update")
    text = (paths.models / "Base.toml").read_text(encoding="utf-8")
    assert mutation.written and mutation.action == "update"
    assert 'tags = ["mlp", "fast"]' in text and "# bump with modreg version" in text
    assert mutation.diff.startswith("--- a/models/Base.toml\n+++ b/models/Base.toml\n")
    assert '+tags = ["mlp", "fast"]' in mutation.diff
    [entry] = read_audit(paths)
    assert (entry.command, entry.name, entry.version) == ("update", "Base", "1.0.0")
    assert entry.changes == {"tags": {"old": ["mlp"], "new": ["mlp", "fast"]}}


def test_dry_run_returns_the_diff_and_writes_nothing(paths: RegistryPaths) -> None:
    before = (paths.models / "Base.toml").read_bytes()
    mutation = update_entry(paths, "Base", _add_tag("fast"), command="update", dry_run=True)
    assert mutation.dry_run and not mutation.written
    assert '-tags = ["mlp"]' in mutation.diff
    assert (paths.models / "Base.toml").read_bytes() == before
    assert not paths.audit_log.exists()


def test_a_change_that_changes_nothing_is_not_written(paths: RegistryPaths) -> None:
    mutation = update_entry(paths, "Base", lambda data: data, command="update")
    assert not mutation.changed and not mutation.written
    assert not paths.audit_log.exists()


def test_an_edit_saved_before_the_lock_is_kept_and_the_change_made_on_top(paths: RegistryPaths, base_descriptor: str) -> None:
    target = paths.models / "Base.toml"
    edited = base_descriptor.replace('summary = "A base model"', 'summary = "Edited in an editor meanwhile"')
    calls = []

    def change(data: dict[str, Any]) -> dict[str, Any]:
        if not calls:
            target.write_text(edited, encoding="utf-8")  # a person saves the file before modreg takes the lock
        calls.append(data["summary"])
        return _add_tag("fast")(data)

    mutation = update_entry(paths, "Base", change, command="update")
    assert calls == ["A base model", "Edited in an editor meanwhile"]  # run again, under the lock, on the saved file
    data = tomllib.loads(target.read_text(encoding="utf-8"))
    assert data["summary"] == "Edited in an editor meanwhile" and "fast" in data["tags"]
    assert mutation.written and len(read_audit(paths, "Base")) == 1


def test_file_changed_on_disk_between_read_and_write_is_a_conflict(paths: RegistryPaths, base_descriptor: str) -> None:
    target = paths.models / "Base.toml"
    edited = base_descriptor.replace('summary = "A base model"', 'summary = "Edited in an editor meanwhile"')

    def change(data: dict[str, Any]) -> dict[str, Any]:
        target.write_text(edited + f"# save {len(target.read_text(encoding='utf-8'))}\n", encoding="utf-8")  # saved again and again
        return _add_tag("fast")(data)

    with pytest.raises(Conflict) as caught:
        update_entry(paths, "Base", change, command="update")
    assert caught.value.exit_code == ExitCode.CONFLICT
    assert "changed on disk" in caught.value.message
    assert target.read_text(encoding="utf-8").startswith(edited)
    assert not paths.audit_log.exists()


def test_an_invalid_result_is_refused_and_the_file_untouched(paths: RegistryPaths) -> None:
    before = (paths.models / "Base.toml").read_bytes()
    with pytest.raises(UsageError) as caught:
        update_entry(paths, "Base", lambda d: {**d, "category": "fancy"}, command="update")
    assert "would leave this file invalid" in caught.value.message and caught.value.path.endswith("Base.toml") and "category" in caught.value.message
    assert (paths.models / "Base.toml").read_bytes() == before
    assert not paths.audit_log.exists()


def test_problems_already_in_a_file_do_not_block_an_unrelated_change(paths: RegistryPaths, base_descriptor: str) -> None:
    broken = base_descriptor.replace('category = "basic"', 'category = "fancy"')
    (paths.models / "Base.toml").write_text(broken, encoding="utf-8")
    mutation = update_entry(paths, "Base", _add_tag("fast"), command="update")
    assert mutation.written


def test_a_change_that_breaks_another_entry_is_refused(paths: RegistryPaths) -> None:
    with pytest.raises(Conflict) as caught:  # another entry depends on what the change removes
        update_entry(paths, "Base", lambda d: {**d, "version": "2.0.0"}, command="version")
    assert "would break" in caught.value.message and "Child.yaml" in caught.value.message
    assert 'version = "1.0.0"' in (paths.models / "Base.toml").read_text(encoding="utf-8")


def test_unknown_entry_is_not_found_with_a_suggestion(paths: RegistryPaths) -> None:
    with pytest.raises(NotFound) as caught:
        update_entry(paths, "base", _add_tag("x"), command="update")
    assert caught.value.hint == "did you mean `Base`?"


@pytest.mark.parametrize("name", ["Base", "base", "BASE", "child"])
def test_create_refuses_a_name_taken_in_any_case_or_suffix(paths: RegistryPaths, name: str) -> None:
    data = {"schema_version": 1, "name": name, "version": "0.1.0", "category": "custom", "status": "active"}
    with pytest.raises(Conflict):
        create_entry(paths, data, "yaml", command="register")


def test_create_writes_canonical_order_and_validates(paths: RegistryPaths) -> None:
    data = {
        "tags": ["x"], "name": "New", "schema_version": 1, "status": "active", "version": "0.1.0",
        "category": "custom", "summary": "new", "authors": ["Me <me@example.org>"],
        "created": dt.date(2026, 2, 1), "updated": dt.date(2026, 2, 1),
    }
    mutation = create_entry(paths, data, "toml", command="register")
    text = (paths.models / "New.toml").read_text(encoding="utf-8")
    assert mutation.action == "create" and mutation.diff.startswith("--- /dev/null\n+++ b/models/New.toml")
    assert text.splitlines()[:3] == ["schema_version = 1", 'name = "New"', 'version = "0.1.0"']
    assert read_audit(paths)[0].changes == {"created": "models/New.toml"}
    with pytest.raises(UsageError):
        create_entry(paths, {**data, "name": "Bad", "authors": []}, "toml", command="register")
    assert not (paths.models / "Bad.toml").exists()


def test_an_error_inside_the_transaction_writes_nothing(paths: RegistryPaths) -> None:
    before = (paths.models / "Base.toml").read_bytes()
    with pytest.raises(RuntimeError):
        with transaction(paths, "update") as txn:
            txn.edit("Base", _add_tag("fast"))
            raise RuntimeError("interrupted")
    assert (paths.models / "Base.toml").read_bytes() == before


def test_two_changes_to_one_entry_in_a_transaction_build_on_each_other(paths: RegistryPaths) -> None:
    with transaction(paths, "update") as txn:
        txn.edit("Base", _add_tag("fast"))
        txn.edit("Base", _add_tag("small"))
    [mutation] = txn.results
    assert tomllib.loads((paths.models / "Base.toml").read_text(encoding="utf-8"))["tags"] == ["mlp", "fast", "small"]
    assert mutation.changes == {"tags": {"old": ["mlp"], "new": ["mlp", "fast", "small"]}}
    assert len(read_audit(paths)) == 1


def test_delete_moves_the_file_to_the_trash(paths: RegistryPaths, base_descriptor: str) -> None:
    (paths.models / "Child.yaml").unlink()
    with transaction(paths, "delete") as txn:
        txn.delete("Base", trash=paths.trash)
    [mutation] = txn.results
    assert mutation.action == "delete" and not (paths.models / "Base.toml").exists()
    [kept] = paths.trash.iterdir()
    assert kept.read_text(encoding="utf-8") == base_descriptor


def test_delete_of_an_entry_others_depend_on_is_refused(paths: RegistryPaths) -> None:
    with pytest.raises(Conflict) as caught:
        with transaction(paths, "delete") as txn:
            txn.delete("Base")
    assert "dependency `Base`" in caught.value.message
    assert (paths.models / "Base.toml").exists()


def test_batch_captures_each_error_and_carries_on(paths: RegistryPaths) -> None:
    items = run_batch(["Base", "Nope", "Child"], lambda name: update_entry(paths, name, lambda d: {**d, "summary": "x"}, command="update"))
    assert [item.ok for item in items] == [True, False, True]
    assert isinstance(items[1].error, NotFound)


# ----- Crashes: atomic writes and orphaned temp files -----


def test_a_failed_write_leaves_the_old_file_whole(paths: RegistryPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    before = (paths.models / "Base.toml").read_bytes()

    def crash(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(UsageError, match="cannot write"):
        update_entry(paths, "Base", _add_tag("fast"), command="update")
    assert (paths.models / "Base.toml").read_bytes() == before
    assert not [p for p in paths.models.iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert not paths.audit_log.exists()


KILLED_WRITER = """
import os, sys
from pathlib import Path
from modreg.registry.store.layout import RegistryPaths
from modreg.registry.mutation.transaction import update_entry

os.replace = lambda *a: os._exit(9)   # killed after the temp file is written, before the rename
update_entry(RegistryPaths(Path(sys.argv[1])), "Base", lambda d: {**d, "tags": ["killed"]}, command="update")
"""


def test_a_writer_killed_mid_write_leaves_the_old_file_and_its_temp_file_is_swept(paths: RegistryPaths) -> None:
    before = (paths.models / "Base.toml").read_bytes()
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(paths.root)], capture_output=True, timeout=60)
    assert done.returncode == 9
    assert (paths.models / "Base.toml").read_bytes() == before
    orphans = [p for p in paths.models.iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert len(orphans) == 1 and "killed" in orphans[0].read_text(encoding="utf-8")
    update_entry(paths, "Base", _add_tag("fast"), command="update")
    assert not [p for p in paths.models.iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert _errors(paths) == []


# ----- Many processes at once -----


def _tag_worker(root: str, tag: str) -> None:
    from modreg import api

    api.update("Base", registry=root, add_tags=[tag], lock_timeout=60)  # what `modreg update Base --tag T` runs


def test_concurrent_updates_from_many_processes_lose_nothing(paths: RegistryPaths) -> None:
    context = multiprocessing.get_context("fork")
    tags = [f"t{i}" for i in range(8)]
    workers = [context.Process(target=_tag_worker, args=(str(paths.root), tag)) for tag in tags]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0] * 8
    text = (paths.models / "Base.toml").read_text(encoding="utf-8")
    assert sorted(tomllib.loads(text)["tags"]) == sorted(["mlp", *tags])
    assert "# bump with modreg version" in text
    assert len(read_audit(paths, "Base")) == 8
    assert _errors(paths) == []
