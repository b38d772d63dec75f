"""The markdown reports: goldens for registry.example, sections, links, leaderboards, determinism."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from modreg.outputs import entries_from_descriptors
from modreg.registry.store.facets import DataEntry
from modreg.outputs.reports import REPORT_FILES, build_reports, github_anchors
from modreg.registry.store.descriptor import load_all
from modreg.registry.store.layout import RegistryPaths

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "example"


def _example_entries(root: Path) -> list[DataEntry]:
    descriptors, problems = load_all(RegistryPaths(root))
    assert problems == []
    return entries_from_descriptors(descriptors, root)


def entry(name: str, **data: Any) -> DataEntry:
    return DataEntry.of(f"models/{name}.toml", {"name": name, "version": "1.0.0", "category": "basic", **data})


@pytest.mark.parametrize("relative", REPORT_FILES)
def test_example_registry_matches_its_golden(example_registry: Path, update_goldens: bool, relative: str) -> None:
    text = build_reports(_example_entries(example_registry))[relative]
    golden = GOLDEN / relative
    if update_goldens:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8", newline="\n")
    assert golden.is_file(), f"{golden} is missing: run `pytest --update-goldens`"
    assert text == golden.read_text(encoding="utf-8"), f"{relative} differs from its golden: check it, then `pytest --update-goldens`"


def test_reports_do_not_depend_on_entry_order(example_registry: Path) -> None:
    entries = _example_entries(example_registry)
    shuffled = entries[:]
    random.Random(5).shuffle(shuffled)
    assert build_reports(shuffled) == build_reports(entries)


def test_a_section_per_model_with_every_part() -> None:
    entries = [
        entry(
            "NHITS",
            version="1.2.0",
            summary="Interpolation | pooling",
            description="Prose with **markdown**.",
            tags=["mlp"],
            history=[{"version": "1.0.0", "date": "2026-01-01", "summary": "first"}],
            dependencies={"NBEATS": ">=1.0,<2", "Gone": "^1"},
            performance={"dataset": "air", "horizon": 12, "mase": 0.81234567, "measured": "2026-11-21"},
            metadata={"paper": "https://arxiv.org/abs/2201.12886"},
            runtime={"model": "NHITS", "precision": "float32"},
        ),
        entry("NBEATS", status="deprecated", deprecation={"reason": "old", "replacement": "NHITS", "since": "2026-02-01", "sunset": "2027-01-01"}),
    ]
    report = build_reports(entries)["reports/registry_report.md"]
    section = report[report.index("## NHITS") :]
    assert "*Interpolation \\| pooling*" in section  # a pipe cannot break a table
    assert "| Runtime | `NHITS` (float32) |" in section
    assert "| File | [models/NHITS.toml](../models/NHITS.toml) |" in section
    assert "Prose with **markdown**." in section
    assert "| 1.0.0 | 2026-01-01 | first |\n| 1.2.0 (current) |  |  |" in section
    assert "**Performance** (on air, horizon 12, measured 2026-11-21)" in section and "| mase | 0.812346 |" in section
    assert "| [NBEATS](#nbeats) | `>=1.0,<2` |" in section and "| `Gone` | `^1` |" in section
    assert "**Deprecation**: not deprecated." in section
    nbeats = report[report.index("## NBEATS") : report.index("## NHITS")]
    assert "**Deprecation**: Deprecated since 2026-02-01: old. Use [NHITS](#nhits) instead. Sunset on 2027-01-01." in nbeats
    assert "**Dependencies**: none." in nbeats and "**Performance**: none recorded." in nbeats


def test_summary_counts_deprecations_and_leaderboard() -> None:
    entries = [
        entry("A", category="advanced", tags=["x"], performance={"dataset": "air", "horizon": 12, "mase": 0.9, "smape": 4.0}),
        entry("B", category="advanced", tags=["x", "y"], performance={"dataset": "air", "horizon": 12, "mase": 0.7}),
        entry("C", status="deprecated", deprecation={"replacement": "B", "sunset": "2027-03-01"}),
    ]
    summary = build_reports(entries)["reports/registry_summary.md"]
    assert "**3 models: 2 active, 1 deprecated** in 2 categories." in summary
    assert "| advanced | 2 | 0 | 2 |" in summary and "| **Total** | 2 | 1 | 3 |" in summary
    assert "| `x` | 2 |\n| `y` | 1 |" in summary
    assert "| [C](registry_report.md#c) | deprecated | [B](registry_report.md#b) |  | 2027-03-01 |  |" in summary
    assert "### air, horizon 12" in summary and "Ranked by mase, lower is better." in summary
    assert "| # | Model | Version | Status | mase | smape |" in summary
    assert "| 1 | [B](registry_report.md#b) | 1.0.0 | active | 0.7 |  |\n| 2 | [A](registry_report.md#a)" in summary


def test_an_empty_registry_still_reports() -> None:
    reports = build_reports([])
    assert "The registry is empty" in reports["reports/registry_report.md"]
    assert "No deprecated models." in reports["reports/registry_summary.md"]
    assert "No model has recorded performance yet" in reports["reports/registry_summary.md"]


def test_anchors_follow_github() -> None:
    anchors = github_anchors(["NHITS", "lstm.v2", "Model registry report", "A_b-c"], first="Model registry report")
    assert anchors == {"NHITS": "nhits", "lstm.v2": "lstmv2", "Model registry report": "model-registry-report-1", "A_b-c": "a_b-c"}


def test_the_cache_gives_the_same_reports_as_the_files(example_registry: Path, tmp_path: Path) -> None:
    import shutil

    from modreg.registry.search.cache import RegistryCache
    from modreg.outputs.build import build_outputs, read_entries

    root = tmp_path / "copy"
    shutil.copytree(example_registry, root, ignore=shutil.ignore_patterns(".modreg"))
    with RegistryCache(RegistryPaths(root)) as cache:
        entries, _ = read_entries(cache, strict=True)
        assert build_outputs(entries, ("report",), cache) == build_reports(_example_entries(root))


def test_descriptor_text_cannot_forge_report_structure_or_html() -> None:
    from modreg.outputs.reports import build_reports
    from modreg.registry.store.facets import DataEntry

    data = {"name": "Evil", "version": "1.0.0", "category": "basic", "status": "active",
            "summary": "fine\x1b]52;c;aGk=\x07 <script>alert(1)</script>",
            "description": "# Forged heading\n<img src=x onerror=alert(1)>\n\nplain *markdown* stays"}
    report = build_reports([DataEntry.of("models/Evil.toml", data, "0" * 64)])["reports/registry_report.md"]
    assert "\x1b" not in report and "\x07" not in report
    assert "<script>" not in report and "<img" not in report and "&lt;script>" in report
    assert "\n# Forged heading" not in report and "\\# Forged heading" in report
    assert "plain *markdown* stays" in report
