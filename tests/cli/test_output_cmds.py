"""CLI: search (every --where operator), index/report/build with --check, stats; stdout and stderr apart."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modreg.cli import app
from modreg.registry.store.descriptor import dumps_toml, dumps_yaml
from modreg.registry.store.init import init_registry
from modreg.registry.store.layout import RegistryPaths
from modreg.registry.store.lock import registry_lock

runner = CliRunner()
OUTPUTS = (
    "index/metadata_index.json",
    "index/model_index.json",
    "index/registry.json",
    "index/registry_statistics.json",
    "index/version_history.json",
    "reports/registry_report.md",
    "reports/registry_summary.md",
)


def _descriptor(name: str, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "schema_version": 1,
        "name": name,
        "version": "1.0.0",
        "category": "basic",
        "status": "active",
        "summary": f"The {name} forecaster",
        "authors": ["Team <team@example.org>"],
        "tags": ["baseline"],
    }
    data.update(fields)
    return data


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    """Five entries, one in YAML, with versions, performance, runtime parameters and dates."""
    paths = init_registry(tmp_path / "reg")
    entries = [
        _descriptor("Alpha", version="1.10.0", category="advanced", tags=["energy", "mlp"], updated=dt.date(2026, 5, 1),
                    performance={"dataset": "air", "horizon": 12, "mase": 0.8}, metadata={"paper": "https://arxiv.org/abs/1"}),
        _descriptor("Beta", version="1.9.0", category="recurrent", tags=["retail", "lstm"], summary="An LSTM for retail demand",
                    performance={"dataset": "air", "horizon": 12, "mase": 1.1}),
        _descriptor("Gamma", version="2.0.0", category="recurrent", tags=["lstm"], status="deprecated",
                    deprecation={"reason": "superseded", "replacement": "Beta", "sunset": dt.date(2027, 1, 1)}),
        _descriptor("Delta", version="0.3.0", tags=["energy"], updated=dt.date(2026, 1, 15)),
    ]
    for data in entries:
        (paths.models / f"{data['name']}.toml").write_text(dumps_toml(data), encoding="utf-8")
    (paths.models / "Epsilon.yaml").write_text(dumps_yaml(_descriptor("Epsilon", category="transformer", tags=["attention"])), encoding="utf-8")
    return paths.root


def invoke(reg: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--registry", str(reg), *args])


def found(reg: Path, *args: str) -> list[str]:
    result = invoke(reg, "--json", "search", *args)
    assert result.exit_code == 0, result.stderr
    return [hit["name"] for hit in json.loads(result.stdout)["items"]]


# ----- search -----


def test_search_prints_a_ranked_table(reg: Path) -> None:
    result = invoke(reg, "search", "lstm")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "version", "category", "status", "score", "summary"]
    assert lines[1].startswith("Beta ") and lines[2].startswith("Gamma ")
    assert result.stderr == ""


def test_search_json_is_one_document(reg: Path) -> None:
    result = invoke(reg, "search", "--json", "--tag", "energy")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["total"] == 2 and [hit["name"] for hit in document["items"]] == ["Alpha", "Delta"]
    assert document["items"][0]["file"] == "models/Alpha.toml" and document["items"][0]["score"] is None


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("name = Alpha", ["Alpha"]),
        ("name == 'Alpha'", ["Alpha"]),
        ("category != basic", ["Alpha", "Beta", "Epsilon", "Gamma"]),
        ("version < 1.0.0", ["Delta"]),
        ("version <= 1.9.0", ["Beta", "Delta", "Epsilon"]),
        ("version > 1.9.0", ["Alpha", "Gamma"]),  # semantic: 1.10.0 > 1.9.0
        ("version >= 1.10.0", ["Alpha", "Gamma"]),
        ("performance.mase < 1", ["Alpha"]),
        ("summary ~ '*LSTM*'", ["Beta"]),
        ("tags in ['retail', 'attention']", ["Beta", "Epsilon"]),
        ("tags not in ['lstm', 'energy']", ["Epsilon"]),
        ("not status = active", ["Gamma"]),
        ("tags = lstm and status = active or name = Delta", ["Beta", "Delta"]),  # and binds tighter
        ("tags = lstm and (status = active or name = Delta)", ["Beta"]),
        ("updated >= 2026-02-01", ["Alpha"]),
        ("deprecation.sunset < 2028-01-01", ["Gamma"]),
    ],
)
def test_every_where_operator(reg: Path, where: str, expected: list[str]) -> None:
    assert found(reg, "--where", where) == expected


def test_sort_limit_and_filters_through_the_cli(reg: Path) -> None:
    assert found(reg, "--sort", "-version", "--limit", "2") == ["Gamma", "Alpha"]
    assert found(reg, "--category", "recurrent", "--status", "active") == ["Beta"]
    assert found(reg, "lstm", "--tag", "lstm", "--author", "team@example") == ["Beta", "Gamma"]
    result = invoke(reg, "search", "--limit", "1")
    assert "showing 1 of 5 matches" in result.stderr


@pytest.mark.parametrize(
    ("where", "column"),
    [("version >", 10), ("(name = Alpha", 14), ("name = Alpha and", 17), ("name Alpha", 6), ("tags in 'x'", 9)],
)
def test_a_bad_expression_exits_2_pointing_at_the_column(reg: Path, where: str, column: int) -> None:
    result = invoke(reg, "search", "--where", where)
    assert result.exit_code == 2 and result.stdout == ""
    assert f"at column {column}:" in result.stderr
    assert f"  {where}\n  {' ' * (column - 1)}^" in result.stderr


def test_an_unknown_field_exits_2_with_did_you_mean(reg: Path) -> None:
    result = invoke(reg, "--json", "search", "--where", "perfomance.mase < 1")
    assert result.exit_code == 2 and result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert error["code"] == 2 and "Unknown field `perfomance.mase`" in error["message"]
    assert "did you mean `performance.mase`?" in error["hint"]


def test_no_matches_is_not_an_error(reg: Path) -> None:
    result = invoke(reg, "search", "zebra")
    assert result.exit_code == 0 and result.stdout == "" and "no matches" in result.stderr


# ----- index, report, build -----


def test_index_writes_once_then_nothing(reg: Path) -> None:
    first = invoke(reg, "index")
    assert first.exit_code == 0, first.stderr
    assert "wrote index/registry.json" in first.stderr
    mtimes = {path: path.stat().st_mtime_ns for path in (reg / "index").iterdir()}
    second = invoke(reg, "index")
    assert second.exit_code == 0 and "5 files up to date" in second.stderr
    assert {path: path.stat().st_mtime_ns for path in (reg / "index").iterdir()} == mtimes


def test_index_builds_nothing_when_neither_descriptors_nor_outputs_changed(reg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from modreg.outputs import build as generated

    assert invoke(reg, "index").exit_code == 0
    calls: list[int] = []
    real = generated.build_outputs
    monkeypatch.setattr(generated, "build_outputs", lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    assert invoke(reg, "index").exit_code == 0 and invoke(reg, "index", "--check").exit_code == 0
    assert calls == []  # the stored digests matched the files on disk
    (reg / "index" / "model_index.json").write_text("{}\n", encoding="utf-8")
    result = invoke(reg, "index")
    assert result.exit_code == 0 and "wrote index/model_index.json" in result.stderr and calls == [1]


def test_check_fails_after_a_hand_edit_and_passes_after_index(reg: Path) -> None:
    assert invoke(reg, "build").exit_code == 0
    assert invoke(reg, "index", "--check").exit_code == 0
    stale = reg / "index" / "model_index.json"
    stale.write_text(stale.read_text(encoding="utf-8").replace('"Alpha"', '"Alpha2"'), encoding="utf-8")
    before = stale.read_bytes()
    result = invoke(reg, "index", "--check")
    assert result.exit_code == 1
    assert "stale: index/model_index.json" in result.stderr
    assert "1 generated file is stale: index/model_index.json." in result.stderr
    assert "run `modreg index`" in result.stderr
    assert stale.read_bytes() == before  # --check writes nothing
    assert invoke(reg, "index").exit_code == 0
    assert invoke(reg, "index", "--check").exit_code == 0


def test_build_check_names_every_stale_file_after_a_descriptor_edit(reg: Path) -> None:
    assert invoke(reg, "build").exit_code == 0
    alpha = reg / "models" / "Alpha.toml"
    alpha.write_text(alpha.read_text(encoding="utf-8").replace("The Alpha forecaster", "Alpha, revised"), encoding="utf-8")
    result = invoke(reg, "--json", "build", "--check")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["stale"] == ["index/registry.json", "index/model_index.json", "reports/registry_report.md"]
    assert document["written_files"] == [] and document["ok"] is False
    assert "run `modreg build`" in json.loads(result.stderr)["error"]["hint"]
    assert invoke(reg, "build").exit_code == 0
    assert invoke(reg, "build", "--check").exit_code == 0


def test_report_check(reg: Path) -> None:
    assert invoke(reg, "report", "--check").exit_code == 1  # never generated
    assert invoke(reg, "report").exit_code == 0
    assert sorted(p.name for p in (reg / "reports").iterdir()) == ["registry_report.md", "registry_summary.md"]
    result = invoke(reg, "report", "--check")
    assert result.exit_code == 0 and "2 files up to date" in result.stderr


def test_build_refuses_an_invalid_registry_and_writes_nothing(reg: Path) -> None:
    beta = reg / "models" / "Beta.toml"
    beta.write_text(beta.read_text(encoding="utf-8").replace('category = "recurrent"', 'category = "recurent"'), encoding="utf-8")
    result = invoke(reg, "build")
    assert result.exit_code == 1
    assert "Beta.toml" in result.stdout and "validation failed with 1 error; nothing was written." in result.stderr
    assert not (reg / "index").exists() and not (reg / "reports").exists()


def test_index_refuses_an_unreadable_descriptor(reg: Path) -> None:
    (reg / "models" / "Broken.toml").write_text('name = "Broken"\nsummary = "no end\n', encoding="utf-8")
    result = invoke(reg, "index")
    assert result.exit_code == 1
    assert "Broken.toml:2" in result.stderr and "cannot be read" in result.stderr
    assert not (reg / "index").exists()


def test_index_refuses_nan_naming_the_field(reg: Path) -> None:
    delta = reg / "models" / "Delta.toml"
    delta.write_text(delta.read_text(encoding="utf-8") + "\n[performance]\nmase = nan\n", encoding="utf-8")
    result = invoke(reg, "index")
    assert result.exit_code == 1
    assert "Delta.toml" in result.stderr and "performance.mase is nan" in result.stderr


def test_index_waits_for_the_lock_then_exits_4(reg: Path) -> None:
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with registry_lock(RegistryPaths(reg)):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        result = invoke(reg, "index", "--lock-timeout", "0.2")
    finally:
        release.set()
        holder.join(10)
    assert result.exit_code == 4 and "locked" in result.stderr
    assert not (reg / "index").exists()


# ----- stats -----


def test_stats_table_and_json(reg: Path) -> None:
    table = invoke(reg, "stats")
    assert table.exit_code == 0 and "5 models" in table.stdout and "Deprecations" in table.stdout
    assert "air, horizon 12 (by mase)" in table.stdout
    document = json.loads(invoke(reg, "--json", "stats").stdout)
    assert document["by_status"] == {"active": 4, "deprecated": 1}
    runtime = document["runtime"]
    assert runtime["with_runtime"] + runtime["metadata_only"] == 5
    lines = table.stdout.splitlines()
    assert "Runtime" in lines
    assert f"run in the runtime  {runtime['with_runtime']}" in table.stdout
    assert f"metadata only       {runtime['metadata_only']}" in table.stdout
    assert invoke(reg, "index").exit_code == 0
    committed = json.loads((reg / "index" / "registry_statistics.json").read_text(encoding="utf-8"))
    assert (document.pop("format"), document.pop("kind")) == (1, "stats")
    assert document == {key: value for key, value in committed.items() if key != "format"}


# ----- the committed example registry -----


def test_the_committed_example_outputs_are_fresh(example_registry: Path, tmp_path: Path) -> None:
    copy = tmp_path / "example"
    shutil.copytree(example_registry, copy, ignore=shutil.ignore_patterns(".modreg"))
    missing = [relative for relative in OUTPUTS if not (copy / relative).is_file()]
    assert not missing, f"registry.example lacks {missing}: run `modreg --registry registry.example build`"
    result = invoke(copy, "build", "--check")
    assert result.exit_code == 0, f"registry.example's outputs are stale, run `modreg --registry registry.example build`:\n{result.stderr}"


def test_search_starts_without_numpy_or_jsonschema(reg: Path) -> None:
    code = (
        "import sys\nfrom modreg.cli import app\n"
        f"try:\n    app(['--registry', {str(reg)!r}, 'search', 'lstm', '--where', 'version > 1.0.0'])\n"
        "except SystemExit as stop:\n    assert stop.code == 0, stop.code\n"
        "print(sorted(m for m in ('numpy', 'jsonschema', 'modreg.runtime') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
