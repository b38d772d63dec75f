"""Search: BM25 ranking order, FTS5 and Python agreeing, filters, --where, --sort, --limit, errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modreg.errors import UsageError
from modreg.registry.search._ranking import bm25_scores, query_terms, tokens
from modreg.registry.search.cache import RegistryCache
from modreg.registry.store.layout import RegistryPaths
from modreg.registry.search.engine import SearchQuery, known_fields, search

FILLERS = ("DLinear", "NLinear", "PatchTST", "TCN", "DeepAR", "SeasonalNaive")


@pytest.fixture
def known(empty_registry: Path, write_entry: Callable[..., Path], make_entry: Callable[..., dict[str, Any]]) -> RegistryPaths:
    """Twelve entries whose ranking for "lstm" is known: a name match beats a summary match,
    which beats a description match; an exact word beats a word that only starts with it."""
    write_entry(
        "LSTM",
        make_entry(
            "LSTM", version="1.10.0", category="recurrent", tags=["rnn", "sequence"], capabilities=["univariate", "multi_step"],
            summary="Long short-term memory network", description="Gated recurrent cells.",
            authors=["Ada Lovelace <ada@example.org>"], updated="2026-03-01",
            performance={"dataset": "air", "horizon": 12, "mase": 0.8, "smape": 5.1},
            runtime={"model": "ToyNet", "params": {"h": 12, "input_size": 24}},
        ),
    )
    write_entry(
        "LSTMx",
        make_entry(
            "LSTMx", version="1.2.0", category="recurrent", status="deprecated", tags=["rnn", "exogenous"],
            summary="Recurrent network with exogenous inputs", capabilities=["exogenous"],
            deprecation={"reason": "merged", "replacement": "LSTM"}, performance={"dataset": "air", "mase": 0.95},
        ),
        suffix=".yaml",
    )
    write_entry(
        "GRU",
        make_entry(
            "GRU", version="2.0.0", category="recurrent", tags=["rnn"], summary="Gated recurrent unit, lighter than an LSTM",
            authors=["Bob <bob@example.org>"], performance={"dataset": "air", "mase": 0.85},
            runtime={"model": "ToyNet", "params": {"h": 12, "input_size": 12}},
        ),
    )
    write_entry(
        "TFT",
        make_entry(
            "TFT", version="1.0.0", category="transformer", tags=["attention", "retail"],
            summary="Temporal fusion transformer", description="An LSTM encoder under interpretable attention.",
        ),
    )
    write_entry(
        "NHITS",
        make_entry(
            "NHITS", version="1.9.0", category="advanced", tags=["mlp", "long-horizon", "energy"],
            capabilities=["multi_step", "exogenous"], summary="Hierarchical interpolation",
            description="Multi-rate pooling and interpolation over a long window; it beats an LSTM baseline on "
            "long horizons while training an order of magnitude faster on every benchmark data set we tried.",
            metadata={"paper": "https://arxiv.org/abs/2201.12886"},
            runtime={"model": "ToyNet", "params": {"h": 24, "input_size": 48}},
        ),
    )
    write_entry("Naive", make_entry("Naive", category="basic", status="archived", tags=["baseline"], summary="Repeats the last value"))
    for name in FILLERS:
        write_entry(name, make_entry(name, category="specialized", tags=["filler"], summary=f"{name} forecaster"))
    return RegistryPaths(empty_registry)


def names(paths: RegistryPaths, **query: Any) -> list[str]:
    return [hit.name for hit in search(paths, SearchQuery(**query)).hits]


# ----- ranking -----


@pytest.mark.parametrize("fts", [None, False], ids=["fts5", "python"])
def test_ranking_order_for_a_known_registry(known: RegistryPaths, fts: bool | None) -> None:
    with RegistryCache(known, fts=fts) as cache:
        result = search(known, SearchQuery("lstm"), cache=cache)
    assert [hit.name for hit in result.hits] == ["LSTM", "LSTMx", "GRU", "TFT", "NHITS"]
    scores = [hit.score for hit in result.hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0


def test_fts5_and_python_scores_agree(known: RegistryPaths) -> None:
    for text in ("lstm", "recurrent network", "long horizon energy", "gated"):
        with RegistryCache(known) as fts, RegistryCache(known, fts=False, persistent=False) as python:
            assert fts.backend == "fts5" and python.backend == "python"
            fts.refresh(), python.refresh()
            left, right = fts.select(text).scores, python.select(text).scores
        assert left is not None and right is not None and left.keys() == right.keys()
        for file, score in left.items():
            assert score == pytest.approx(right[file], rel=1e-9), (text, file)


def test_a_name_match_outranks_the_same_word_elsewhere(known: RegistryPaths) -> None:
    assert names(known, text="gru")[0] == "GRU"
    assert names(known, text="tft attention")[0] == "TFT"


def test_text_without_words_lists_everything_by_name(known: RegistryPaths) -> None:
    assert names(known, text=" -- ") == sorted(names(known), key=str.casefold)


def test_bm25_prefers_exact_words_and_short_documents() -> None:
    documents = [[["lstm"], [], [], [], []], [["lstmx"], [], [], [], []], [[], ["lstm", *["x"] * 30], [], [], []], [["gru"], [], [], [], []]]
    scores = bm25_scores(["lstm"], documents)
    assert scores[3] is None
    assert scores[0] > scores[1] > 0 and scores[0] > scores[2] > 0


def test_tokens_fold_case_accents_and_punctuation() -> None:
    assert tokens("N-HiTS: multi_step Prévision") == ["n", "hits", "multi", "step", "prevision"]
    assert query_terms("lstm LSTM gru") == ["lstm", "gru"]


# ----- filters -----


def test_filters_narrow_and_combine(known: RegistryPaths) -> None:
    assert names(known, tags=("rnn",)) == ["GRU", "LSTM", "LSTMx"]
    assert names(known, tags=("RNN", "exogenous")) == ["LSTMx"]  # every tag, any case
    assert names(known, categories=("transformer", "advanced")) == ["NHITS", "TFT"]  # any category
    assert names(known, statuses=("deprecated", "archived")) == ["LSTMx", "Naive"]
    assert names(known, capabilities=("exogenous",)) == ["LSTMx", "NHITS"]
    assert names(known, authors=("ada",)) == ["LSTM"]  # a substring of `Name <email>`
    assert names(known, authors=("example.org",), tags=("rnn",), text="gated") == ["GRU", "LSTM"]


def test_a_tag_nobody_has_gets_a_note(known: RegistryPaths) -> None:
    result = search(known, SearchQuery(tags=("rnnn",)))
    assert result.hits == [] and result.total == 0
    assert result.notes == ["no entry has the tag `rnnn`; did you mean `rnn`?"]


@pytest.mark.parametrize(
    ("option", "value", "suggestion"),
    [("categories", "transfomer", "transformer"), ("statuses", "deprected", "deprecated")],
)
def test_unknown_category_or_status_is_a_usage_error(known: RegistryPaths, option: str, value: str, suggestion: str) -> None:
    with pytest.raises(UsageError) as raised:
        search(known, SearchQuery(**{option: (value,)}))
    assert f"did you mean `{suggestion}`?" in (raised.value.hint or "")


# ----- --where -----


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("version > 1.9.0", ["GRU", "LSTM"]),  # 1.10.0 > 1.9.0 as semantic versions
        ("version >= 1.9.0 and version < 2.0.0", ["LSTM", "NHITS"]),
        ("performance.mase < 0.9", ["GRU", "LSTM"]),
        ("performance.mase <= 0.85 and not name = GRU", ["LSTM"]),
        ("runtime.params.input_size >= 24", ["LSTM", "NHITS"]),
        ("tags in ['energy', 'retail']", ["NHITS", "TFT"]),
        ("tags not in ['filler', 'rnn'] and status != archived", ["NHITS", "TFT"]),
        ("name ~ 'LSTM*'", ["LSTM", "LSTMx"]),
        ("metadata.paper ~ '*arxiv*'", ["NHITS"]),
        ("category = recurrent and (performance.mase > 0.9 or authors ~ 'Bob*')", ["GRU", "LSTMx"]),
        ("updated >= 2026-02-01", ["LSTM"]),
        ("deprecation.replacement = LSTM", ["LSTMx"]),
    ],
)
def test_where_expressions(known: RegistryPaths, where: str, expected: list[str]) -> None:
    assert names(known, where=where) == expected


def test_where_combines_with_text_and_filters(known: RegistryPaths) -> None:
    result = search(known, SearchQuery("lstm", tags=("rnn",), where="performance.mase < 0.9"))
    assert [hit.name for hit in result.hits] == ["LSTM", "GRU"]
    assert all(hit.score for hit in result.hits)


def test_a_bad_expression_points_at_its_column(known: RegistryPaths) -> None:
    with pytest.raises(UsageError) as raised:
        search(known, SearchQuery(where="version > 1.0.0 and (tags in ['a'] or"))
    assert raised.value.col == 38 and "column 38" in raised.value.message  # just past the end


def test_an_unknown_field_gets_did_you_mean_at_its_column(known: RegistryPaths) -> None:
    with pytest.raises(UsageError) as raised:
        search(known, SearchQuery(where="category = advanced and runtime.params.input_sise > 3"))
    error = raised.value
    assert error.col == 25 and "`runtime.params.input_sise`" in error.message
    assert "did you mean `runtime.params.input_size`?" in (error.hint or "")


def test_fields_of_the_schema_are_known_even_when_no_entry_has_them(known: RegistryPaths) -> None:
    assert "deprecation.sunset" in known_fields() and "history.*.version" in known_fields()
    assert names(known, where="deprecation.sunset < 2030-01-01") == []
    assert names(known, where="history.0.version = 1.0.0") == []


# ----- --sort and --limit -----


def test_sort_by_a_field_puts_missing_values_last(known: RegistryPaths) -> None:
    assert names(known, sort="performance.mase")[:4] == ["LSTM", "GRU", "LSTMx", "DeepAR"]
    assert names(known, sort="-performance.mase")[:3] == ["LSTMx", "GRU", "LSTM"]


def test_sort_by_version_is_semantic(known: RegistryPaths) -> None:
    assert names(known, sort="-version", tags=("rnn",)) == ["GRU", "LSTM", "LSTMx"]
    assert names(known, sort="version", categories=("recurrent", "advanced")) == ["LSTMx", "NHITS", "LSTM", "GRU"]


def test_sort_by_score_ascending(known: RegistryPaths) -> None:
    assert names(known, text="lstm", sort="score") == ["NHITS", "TFT", "GRU", "LSTMx", "LSTM"]


def test_an_unknown_sort_field_is_a_usage_error(known: RegistryPaths) -> None:
    with pytest.raises(UsageError, match="Unknown field `perfomance.mase` for --sort") as raised:
        search(known, SearchQuery(sort="-perfomance.mase"))
    assert "did you mean `performance.mase`?" in (raised.value.hint or "")


def test_limit_keeps_the_total(known: RegistryPaths) -> None:
    result = search(known, SearchQuery("lstm", limit=2))
    assert [hit.name for hit in result.hits] == ["LSTM", "LSTMx"] and result.total == 5
    result = search(known, SearchQuery(where="tags = filler", limit=2))
    assert len(result.hits) == 2 and result.total == len(FILLERS)
    with pytest.raises(UsageError, match="--limit"):
        search(known, SearchQuery(limit=-1))


def test_unreadable_files_are_reported_not_fatal(known: RegistryPaths) -> None:
    (known.models / "Broken.toml").write_text('name = "Broken"\nversion = [\n', encoding="utf-8")
    result = search(known, SearchQuery(tags=("rnn",)))
    assert [hit.name for hit in result.hits] == ["GRU", "LSTM", "LSTMx"]
    assert [Path(problem.path).name for problem in result.problems] == ["Broken.toml"]
    assert result.problems[0].line == 2
