"""Search ranks what people mean on the example registry: the README's queries, pinned.

Name, tags and capabilities (their words split on `-`/`_`) weigh above summary and
description, so an entry tagged `long-horizon` comes before one that only says "long" in prose.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from modreg.registry.search.engine import SearchQuery, search
from modreg.registry.store.layout import RegistryPaths


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> RegistryPaths:
    from tests.conftest import EXAMPLE_REGISTRY

    copy = tmp_path_factory.mktemp("ranking") / "registry"
    shutil.copytree(EXAMPLE_REGISTRY, copy, ignore=shutil.ignore_patterns(".modreg"))
    return RegistryPaths(copy)


def hits(paths: RegistryPaths, text: str) -> list[tuple[str, float]]:
    return [(hit.name, hit.score or 0.0) for hit in search(paths, SearchQuery(text)).hits]


def tagged(paths: RegistryPaths, tag: str) -> set[str]:
    return {hit.name for hit in search(paths, SearchQuery(tags=(tag,))).hits}


def test_long_horizon_mlp_puts_the_long_horizon_mlps_first(example: RegistryPaths) -> None:
    top = [name for name, _ in hits(example, "long horizon mlp")[:3]]
    assert set(top) == {"NHITS", "TSMixer", "TiDE"}  # each tagged both mlp and long-horizon


def test_long_horizon_ranks_every_long_horizon_entry_above_prose_mentions(example: RegistryPaths) -> None:
    found = hits(example, "long horizon")
    wanted = tagged(example, "long-horizon")
    assert "NHITS" in wanted
    assert {name for name, _ in found[: len(wanted)]} == wanted
    lowest_tagged = min(score for name, score in found if name in wanted)
    assert all(score < lowest_tagged for name, score in found if name not in wanted)


@pytest.mark.parametrize(("text", "first"), [("lstm", "LSTM"), ("gru", "GRU"), ("nhits", "NHITS"), ("seasonal naive", "SeasonalNaive")])
def test_a_name_comes_first(example: RegistryPaths, text: str, first: str) -> None:
    assert hits(example, text)[0][0] == first


def test_a_tag_outranks_a_mention_in_the_description(example: RegistryPaths) -> None:
    found = [name for name, _ in hits(example, "lstm")]
    assert found[:3] == ["LSTM", "DeepAR", "TFT"]  # the name, then the two entries tagged lstm
