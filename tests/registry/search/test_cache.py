"""The local cache: incremental refresh, edits, deletions, renames, corruption, concurrency."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from modreg.registry.search import _cacheplan
from modreg.registry.search.cache import DB_NAME, RegistryCache
from modreg.registry.store.layout import RegistryPaths


@pytest.fixture
def registry(empty_registry: Path, write_entry: Callable[..., Path], make_entry: Callable[..., dict[str, Any]]) -> RegistryPaths:
    for name, tags in (("Alpha", ["energy"]), ("Beta", ["retail"]), ("Gamma", ["energy", "mlp"])):
        write_entry(name, make_entry(name, tags=tags, summary=f"The {name} forecaster"))
    write_entry("Delta", make_entry("Delta", tags=["retail"], summary="The Delta forecaster"), suffix=".yaml")
    return RegistryPaths(empty_registry)


def refresh(paths: RegistryPaths, **options: Any) -> tuple[list[str], dict[str, str]]:
    """(files parsed by a refresh, {entry name: summary}) through a fresh cache object."""
    with RegistryCache(paths, **options) as cache:
        parsed = cache.refresh().parsed
        return parsed, {entry.name: entry.summary for entry in cache.select().entries}


def ranked(paths: RegistryPaths, text: str) -> list[str]:
    with RegistryCache(paths) as cache:
        cache.refresh()
        return [entry.name for entry in cache.select(text, ranked=True).entries]


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_first_refresh_parses_everything_and_the_next_nothing(registry: RegistryPaths) -> None:
    parsed, summaries = refresh(registry)
    assert parsed == ["Alpha.toml", "Beta.toml", "Delta.yaml", "Gamma.toml"]
    assert summaries["Delta"] == "The Delta forecaster"
    assert refresh(registry)[0] == []
    assert (registry.cache / DB_NAME).is_file()
    assert (registry.cache / ".gitignore").read_text(encoding="utf-8").endswith("*\n")


def test_an_edit_re_reads_one_file(registry: RegistryPaths) -> None:
    refresh(registry)
    edit(registry.models / "Beta.toml", "The Beta forecaster", "Beta, now for solar power")
    parsed, summaries = refresh(registry)
    assert parsed == ["Beta.toml"]
    assert summaries["Beta"] == "Beta, now for solar power"
    assert ranked(registry, "solar") == ["Beta"]


def test_a_same_size_edit_within_the_clock_tick_is_caught(registry: RegistryPaths) -> None:
    """The racy-git case: same size, same mtime, new bytes. The row is racy, so it is re-hashed."""
    refresh(registry)
    path = registry.models / "Alpha.toml"
    stat = path.stat()
    edit(path, "The Alpha forecaster", "The Alpha FORECASTER")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    parsed, summaries = refresh(registry)
    assert parsed == ["Alpha.toml"] and summaries["Alpha"] == "The Alpha FORECASTER"


def test_a_touched_file_is_hashed_not_parsed(registry: RegistryPaths) -> None:
    refresh(registry)
    path = registry.models / "Gamma.toml"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns - 10_000_000_000))
    assert refresh(registry)[0] == []


def test_once_files_are_old_an_unchanged_registry_is_not_even_hashed(
    registry: RegistryPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cacheplan, "RACY_NS", 0)
    refresh(registry)
    monkeypatch.setattr(_cacheplan, "sha256_of", lambda path: pytest.fail(f"hashed {path}"))
    assert refresh(registry)[0] == []
    edit(registry.models / "Alpha.toml", "The Alpha forecaster", "An edited forecaster, longer")
    monkeypatch.undo()
    assert refresh(registry)[0] == ["Alpha.toml"]


def test_a_deleted_file_leaves_the_cache_and_the_ranking(registry: RegistryPaths) -> None:
    refresh(registry)
    (registry.models / "Gamma.toml").unlink()
    parsed, summaries = refresh(registry)
    assert parsed == [] and "Gamma" not in summaries
    assert ranked(registry, "gamma") == []
    assert ranked(registry, "forecaster") == ["Alpha", "Beta", "Delta"]


def test_a_renamed_file_moves_without_being_parsed(registry: RegistryPaths) -> None:
    refresh(registry)
    (registry.models / "Delta.yaml").rename(registry.models / "Delta.yml")
    parsed, _ = refresh(registry)
    assert parsed == []
    with RegistryCache(registry) as cache:
        cache.refresh()
        files = [entry.file for entry in cache.select("delta", ranked=True).entries]
    assert files == ["models/Delta.yml"]


def test_a_renamed_and_edited_file_is_parsed(registry: RegistryPaths) -> None:
    refresh(registry)
    (registry.models / "Beta.toml").rename(registry.models / "Epsilon.toml")
    edit(registry.models / "Epsilon.toml", '"Beta"', '"Epsilon"')
    parsed, summaries = refresh(registry)
    assert parsed == ["Epsilon.toml"] and "Epsilon" in summaries and "Beta" not in summaries


def test_an_unreadable_file_is_a_problem_until_fixed(registry: RegistryPaths) -> None:
    refresh(registry)
    path = registry.models / "Alpha.toml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good + "summary = 'twice'\n", encoding="utf-8")
    with RegistryCache(registry) as cache:
        problems = cache.refresh().problems
        assert [entry.name for entry in cache.select().entries] == ["Beta", "Delta", "Gamma"]
    assert len(problems) == 1 and "duplicate key `summary`" in problems[0].message
    path.write_text(good, encoding="utf-8")
    with RegistryCache(registry) as cache:
        assert cache.refresh().problems == []


@pytest.mark.parametrize("where", ["start", "middle", "whole"])
def test_a_corrupt_cache_is_rebuilt_silently(registry: RegistryPaths, where: str) -> None:
    refresh(registry)
    db = registry.cache / DB_NAME
    size = db.stat().st_size
    with db.open("r+b") as handle:
        if where == "whole":
            handle.write(os.urandom(size))
        else:
            handle.seek(0 if where == "start" else size // 2)
            handle.write(b"garbage!" * 512)
    parsed, summaries = refresh(registry)
    assert sorted(summaries) == ["Alpha", "Beta", "Delta", "Gamma"]
    assert ranked(registry, "gamma") == ["Gamma"]
    assert refresh(registry)[0] == []  # and it is a working cache again


def test_undecodable_data_in_the_cache_is_never_trusted(registry: RegistryPaths) -> None:
    refresh(registry)
    with sqlite3.connect(registry.cache / DB_NAME) as conn:
        conn.execute("UPDATE files SET data = '{not json' WHERE file = 'Beta.toml'")
    with RegistryCache(registry) as cache:
        cache.refresh()
        entries = {entry.name: entry.data for entry in cache.select(with_data=True).entries}
    assert entries["Beta"]["summary"] == "The Beta forecaster"


def test_a_cache_of_other_code_starts_afresh(registry: RegistryPaths) -> None:
    refresh(registry)
    with sqlite3.connect(registry.cache / DB_NAME) as conn:
        conn.execute("UPDATE meta SET value = 'older code' WHERE key = 'code'")
    assert len(refresh(registry)[0]) == 4


def test_an_unwritable_cache_folder_falls_back_to_memory(registry: RegistryPaths) -> None:
    registry.cache.mkdir(exist_ok=True)
    (registry.cache / DB_NAME).mkdir()  # a folder where the database should be
    with RegistryCache(registry) as cache:
        result = cache.refresh()
        assert not result.persistent and len(result.parsed) == 4
        assert [entry.name for entry in cache.select("alpha", ranked=True).entries] == ["Alpha"]


def test_the_python_ranking_backend_keeps_its_own_cache(registry: RegistryPaths) -> None:
    parsed, _ = refresh(registry, fts=False)
    assert len(parsed) == 4
    with RegistryCache(registry, fts=False) as cache:
        assert cache.backend == "python" and cache.refresh().parsed == []
        assert [entry.name for entry in cache.select("retail", ranked=True).entries] == ["Beta", "Delta"]


def _search_many(root: str) -> list[list[str]]:
    paths = RegistryPaths(Path(root))
    results = []
    for _ in range(5):
        with RegistryCache(paths) as cache:
            cache.refresh()
            results.append([entry.name for entry in cache.select("forecaster", ranked=True).entries])
    return results


def test_concurrent_readers_agree(registry: RegistryPaths) -> None:
    with ProcessPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(_search_many, [str(registry.root)] * 4))
    assert all(names == ["Alpha", "Beta", "Delta", "Gamma"] for outcome in outcomes for names in outcome)
    assert refresh(registry)[0] == []


def test_readers_during_edits_see_old_or_new_content(registry: RegistryPaths) -> None:
    path = registry.models / "Alpha.toml"
    with ProcessPoolExecutor(max_workers=2) as pool:
        readers = [pool.submit(_search_many, str(registry.root)) for _ in range(2)]
        for round_ in range(10):
            edit(path, "forecaster" if round_ % 2 == 0 else "predictor", "predictor" if round_ % 2 == 0 else "forecaster")
        for reader in readers:
            for names in reader.result():
                assert set(names) - {"Alpha"} == {"Beta", "Delta", "Gamma"}
    _, summaries = refresh(registry)
    assert summaries["Alpha"] == "The Alpha forecaster"


def test_outputs_from_a_cache_with_undecodable_data_are_still_right(registry: RegistryPaths) -> None:
    from modreg import api

    api.build(registry=registry.root)
    expected = {path: path.read_bytes() for path in sorted((registry.root / "reports").iterdir())}
    with sqlite3.connect(registry.cache / DB_NAME) as conn:
        conn.execute("UPDATE files SET data = '[' WHERE file = 'Gamma.toml'")
    for path in expected:
        path.unlink()
    assert api.report(registry=registry.root).written == ["reports/registry_report.md", "reports/registry_summary.md"]
    assert {path: path.read_bytes() for path in expected} == expected
