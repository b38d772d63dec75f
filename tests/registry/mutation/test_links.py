"""Cross-file checks of a change, answered from the cache among the entries it can affect."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from modreg.errors import Conflict, UsageError
from modreg.registry.mutation.transaction import create_entry, update_entry
from modreg.registry.search.cache import RegistryCache
from modreg.registry.store.audit import read_audit
from modreg.registry.store.init import init_registry
from modreg.registry.store.layout import RegistryPaths


def _descriptor(name: str, version: str = "1.0.0", depends: dict[str, str] | None = None, **extra: Any) -> str:
    lines = ["schema_version = 1", f'name = "{name}"', f'version = "{version}"', 'category = "custom"', 'status = "active"',
             f'summary = "{name}"', 'authors = ["Team <team@example.org>"]']
    lines += [f"{key} = {value!r}".replace("'", '"') for key, value in extra.items()]
    if depends:
        lines += ["", "[dependencies]", *(f'{dep} = "{rng}"' for dep, rng in depends.items())]
    return "\n".join(lines) + "\n"


def _entry(name: str, version: str = "0.1.0", depends: dict[str, str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"schema_version": 1, "name": name, "version": version, "category": "custom", "status": "active",
                            "summary": name, "authors": ["Team <team@example.org>"]}
    if depends:
        data["dependencies"] = depends
    return data


@pytest.fixture
def paths(tmp_path: Path) -> RegistryPaths:
    """A chain Alpha <- Beta <- Gamma, many unrelated entries, and a warm cache."""
    paths = init_registry(tmp_path / "reg")
    (paths.models / "Alpha.toml").write_text(_descriptor("Alpha"), encoding="utf-8")
    (paths.models / "Beta.toml").write_text(_descriptor("Beta", depends={"Alpha": ">=1,<2"}), encoding="utf-8")
    (paths.models / "Gamma.toml").write_text(_descriptor("Gamma", depends={"Beta": ">=1,<2", "Omega": ">=1"}), encoding="utf-8")
    for number in range(30):
        (paths.models / f"Other{number:02d}.toml").write_text(_descriptor(f"Other{number:02d}"), encoding="utf-8")
    with RegistryCache(paths) as cache:
        cache.refresh()
    return paths


def test_a_new_entry_with_a_missing_dependency_is_refused_with_a_hint_from_every_name(paths: RegistryPaths) -> None:
    with pytest.raises(UsageError) as caught:
        create_entry(paths, _entry("New", depends={"Other1": ">=1"}), "toml", command="register")
    assert "dependency `Other1` is not in the registry" in caught.value.message
    assert "Other" in (caught.value.hint or "")  # chosen among every entry, though none was read to check
    assert not (paths.models / "New.toml").exists()


def test_a_new_entry_that_closes_a_cycle_is_refused(paths: RegistryPaths) -> None:
    with pytest.raises(Conflict) as caught:  # Gamma -> Beta -> Alpha; Omega -> Gamma closes Gamma -> Omega -> Gamma
        create_entry(paths, _entry("Omega", "1.0.0", depends={"Gamma": ">=1"}), "toml", command="register")
    assert "dependency cycle" in caught.value.message
    assert not (paths.models / "Omega.toml").exists()


def test_a_new_entry_too_old_for_the_entries_waiting_for_it_is_refused(paths: RegistryPaths) -> None:
    with pytest.raises(Conflict) as caught:  # Gamma wants Omega >=1: a 0.1.0 would break it
        create_entry(paths, _entry("Omega"), "toml", command="register")
    assert "Gamma.toml" in caught.value.message and "does not satisfy" in caught.value.message
    create_entry(paths, _entry("Omega", "1.2.0"), "toml", command="register")  # which mends Gamma
    assert (paths.models / "Omega.toml").exists()


def test_a_file_edited_by_hand_since_the_cache_looked_is_seen(paths: RegistryPaths) -> None:
    (paths.models / "Other07.toml").write_text(_descriptor("Other07", depends={"Other05": ">=1,<2"}), encoding="utf-8")
    with pytest.raises(Conflict) as caught:  # the cache did not know Other07 depends on Other05: the file wins
        update_entry(paths, "Other05", lambda data: {**data, "version": "2.0.0"}, command="version")
    assert "Other07.toml" in caught.value.message and "does not satisfy" in caught.value.message
    update_entry(paths, "Other06", lambda data: {**data, "version": "2.0.0"}, command="version")  # no one depends on it


def _register(root: str, name: str) -> None:
    from modreg import api

    api.register(name, registry=root, category="custom", summary="Written at once", authors=["Team <team@example.org>"])


def test_many_writers_at_once_all_succeed_and_one_name_is_taken_once(paths: RegistryPaths) -> None:
    context = multiprocessing.get_context("fork")
    names = [f"Writer{number:02d}" for number in range(16)] + ["Same"] * 6
    workers = [context.Process(target=_register, args=(str(paths.root), name)) for name in names]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    codes = [worker.exitcode for worker in workers]
    assert codes[:16] == [0] * 16
    assert sorted(codes[16:]) == [0, 1, 1, 1, 1, 1]  # the others raised Conflict (exit 4 from the CLI)
    assert all((paths.models / f"{name}.toml").is_file() for name in names)
    assert len(read_audit(paths)) == 17
