"""`validate_registry`: every bad input found at once, at its file, line and JSON path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modreg.errors import NotFound, Problem
from modreg.registry.checks import _schemacheck
from modreg.registry.checks._fastschema import compile_fast
from modreg.registry.checks.config import RegistryConfig
from modreg.registry.store.descriptor import dumps_toml
from modreg.registry.store.layout import RegistryPaths
from modreg.registry.checks.validate import check_registry, validate_data, validate_registry

Write = Callable[..., Path]


def _problems(root: Path, files: list[Path] | None = None, *, strict: bool = False) -> list[Problem]:
    return validate_registry(RegistryPaths(root), files, strict=strict)


def _one(problems: list[Problem], needle: str) -> Problem:
    found = [p for p in problems if needle in p.message]
    assert len(found) == 1, [p.message for p in problems]
    return found[0]


def test_a_clean_registry_has_no_problems(empty_registry: Path, write_entry: Write) -> None:
    write_entry("Alpha")
    write_entry("Beta", suffix=".yaml", dependencies={"Alpha": "^1.0"})
    report = check_registry(RegistryPaths(empty_registry))
    assert report.problems == [] and report.ok and report.files == 3


# ----- reading errors become problems -----


@pytest.mark.parametrize(
    ("name", "text", "line", "needle"),
    [
        ("Dup.toml", 'name = "Dup"\nversion = "1.0.0"\nname = "Again"\n', 3, "duplicate key `name`"),
        ("Dup.yaml", "name: Dup\ntags: [a]\nname: Again\n", 3, "duplicate key `name`"),
        ("Alias.yaml", "name: Alias\ntags: &t [a]\ncapabilities: *t\n", 2, "anchors are not allowed"),
        ("Deep.yaml", "name: Deep\nmetadata: " + "[" * 50 + "]" * 50 + "\n", 2, "deeper than"),
        ("Syntax.toml", 'name = "Syntax"\nversion = 1.0.0\n', 2, "TOML syntax error"),
        ("Syntax.yaml", "name: Syntax\n  version: x\n", 2, "YAML syntax error"),
    ],
)
def test_unreadable_files_are_problems(empty_registry: Path, write_entry: Write, name: str, text: str, line: int, needle: str) -> None:
    write_entry("Alpha")
    stem, suffix = name.split(".")
    write_entry(stem, text, suffix="." + suffix)
    problem = _one(_problems(empty_registry), needle)
    assert problem.path.endswith(f"models/{name}") and problem.line == line


def test_too_big_file_is_a_problem(empty_registry: Path, write_entry: Write) -> None:
    write_entry("Big", "name = 'Big'\n" + "#" * (1024 * 1024 + 1))
    assert "more than the limit" in _one(_problems(empty_registry), "bytes").message


# ----- schema problems with hints -----


@pytest.mark.parametrize(
    ("suffix", "text", "line", "json_path", "hint"),
    [
        (".yaml", "summary: no\n", 6, "summary", 'quote it: summary: "no"'),
        (".yaml", "tags: [010]\n", 6, "tags[0]", 'reads `010` as `8`; quote it: "010"'),
        (".yaml", "version: 1.10\n", 3, "version", 'quote it: version: "1.10"'),
        (".toml", "version = 1.10\n", 3, "version", 'quote it: version = "1.10"'),
        (".toml", 'categroy = "basic"\n', 7, "categroy", "did you mean `category`?"),
        (".toml", 'category = "advaned"\n', 4, "category", "did you mean `advanced`?"),
        (".toml", 'updated = "2026-01-02"\n', 7, "updated", "unquoted"),
        (".toml", "schema_version = 2\n", 1, "schema_version", None),
    ],
)
def test_schema_problems_point_at_the_line_with_a_hint(
    empty_registry: Path, write_entry: Write, suffix: str, text: str, line: int, json_path: str, hint: str | None
) -> None:
    key = text.split("=")[0].split(":")[0].strip()
    body = {
        ".toml": 'schema_version = 1\nname = "Alpha"\nversion = "1.0.0"\ncategory = "basic"\nstatus = "active"\nauthors = ["x"]\n',
        ".yaml": 'schema_version: 1\nname: Alpha\nversion: "1.0.0"\ncategory: basic\nstatus: active\n',
    }[suffix]
    lines = [row for row in body.splitlines(keepends=True) if not row.startswith(key)]
    lines.insert(line - 1, text)
    if suffix == ".yaml":
        lines.append("authors: [x]\nsummary: s\n" if key != "summary" else "authors: [x]\n")
    else:
        lines.insert(0, 'summary = "s"\n')
        line += 1
    write_entry("Alpha", "".join(lines), suffix=suffix)
    problems = [p for p in _problems(empty_registry) if p.json_path == json_path]
    assert len(problems) == 1, _problems(empty_registry)
    assert problems[0].line == line
    if hint is not None:
        assert hint in (problems[0].hint or "")


def test_missing_required_key_has_an_example(empty_registry: Path, write_entry: Write, make_entry: Callable[..., dict]) -> None:
    write_entry("Alpha", make_entry("Alpha", status=None))
    problem = _one(_problems(empty_registry), "missing the required key `status`")
    assert problem.hint == 'add `status = "active"`.' and problem.line == 1


def test_bad_nested_values_are_found_together(empty_registry: Path, write_entry: Write, make_entry: Callable[..., dict]) -> None:
    data = make_entry(
        "Alpha",
        runtime={"modle": "X", "precision": "float16"},
        artifacts=[{"path": "a.npz", "sha256": "xyz"}],
        performance={"mase": True},
        dependencies={"bad name": "*"},
    )
    problems = _problems(empty_registry)
    write_entry("Alpha", data)
    paths = {p.json_path: p for p in _problems(empty_registry)}
    assert problems == []
    assert "did you mean `model`?" in (paths["runtime.modle"].hint or "")
    assert "missing the required key `model`" in paths["runtime"].message
    assert "float32" in paths["runtime.precision"].message
    assert "SHA-256" in paths["artifacts[0].sha256"].message
    assert "a number or a string" in paths["performance.mase"].message
    assert 'dependencies["bad name"]' in paths


# ----- names and collisions -----


def test_name_must_match_the_file_stem(empty_registry: Path, write_entry: Write, make_entry: Callable[..., dict]) -> None:
    write_entry("Alpha", make_entry("Beta"))
    problem = _one(_problems(empty_registry), "does not match its file name")
    assert problem.line == 2 and "rename the file to Beta.toml" in (problem.hint or "")


@pytest.mark.parametrize(("first", "second"), [(("Model", ".toml"), ("model", ".yaml")), (("Model", ".toml"), ("Model", ".yml"))])
def test_one_entry_per_name_ignoring_case_and_suffix(empty_registry: Path, write_entry: Write, first: tuple, second: tuple) -> None:
    write_entry(first[0], suffix=first[1])
    write_entry(second[0], suffix=second[1])
    collisions = [p for p in _problems(empty_registry) if "collides with" in p.message]
    assert len(collisions) == 2 and {p.line for p in collisions} == {2}


@pytest.mark.parametrize(("stem", "reason"), [("CON", "reserved device name"), ("a..b", "`..`"), ("nul.v2", "reserved")])
def test_unsafe_names_are_refused(empty_registry: Path, write_entry: Write, stem: str, reason: str) -> None:
    write_entry(stem)
    problem = _one(_problems(empty_registry), "not a safe entry name")
    assert reason in problem.message and problem.json_path == "name"


def test_non_nfc_name_is_refused(empty_registry: Path, write_entry: Write, make_entry: Callable[..., dict]) -> None:
    write_entry("Cafe", make_entry("Cafe\u0301"))
    problem = next(p for p in _problems(empty_registry) if p.json_path == "name")
    assert "NFC" in (problem.hint or "")


# ----- dependencies -----


def test_missing_dependency_suggests_a_name(empty_registry: Path, write_entry: Write) -> None:
    write_entry("Alpha")
    write_entry("Beta", dependencies={"Alpah": "^1"})
    problem = _one(_problems(empty_registry), "dependency `Alpah` is not in the registry")
    assert problem.hint == "did you mean `Alpha`?" and problem.json_path == "dependencies.Alpah"


def test_unsatisfied_and_invalid_ranges(empty_registry: Path, write_entry: Write) -> None:
    write_entry("Alpha", version="2.1.0")
    write_entry("Beta", dependencies={"Alpha": ">=1.0,<2"})
    write_entry("Gamma", dependencies={"Alpha": ">>2"})
    problems = _problems(empty_registry)
    unsatisfied = _one(problems, "does not satisfy `>=1.0,<2`")
    assert unsatisfied.path.endswith("Beta.toml") and "2.1.0" in unsatisfied.message
    assert _one(problems, "is not a version comparator").path.endswith("Gamma.toml")


def test_dependency_cycle_is_named_in_every_member(empty_registry: Path, write_entry: Write) -> None:
    write_entry("A", dependencies={"B": "*"})
    write_entry("B", dependencies={"C": "*"})
    write_entry("C", dependencies={"A": "*"})
    write_entry("D", dependencies={"A": "*"})
    cycles = [p for p in _problems(empty_registry) if "dependency cycle" in p.message]
    assert [p.message for p in cycles] == [
        "dependency cycle: A -> B -> C -> A",
        "dependency cycle: B -> C -> A -> B",
        "dependency cycle: C -> A -> B -> C",
    ]


def test_self_dependency(empty_registry: Path, write_entry: Write) -> None:
    write_entry("A", dependencies={"A": "*"})
    assert _one(_problems(empty_registry), "depends on itself").json_path == "dependencies.A"


def test_deprecated_dependency_warns_and_fails_with_strict(empty_registry: Path, write_entry: Write) -> None:
    write_entry("New")
    write_entry("Old", status="deprecated", deprecation={"reason": "superseded", "replacement": "New", "sunset": dt.date(2999, 1, 1)})
    write_entry("User", dependencies={"Old": "^1"})
    warning = _one(_problems(empty_registry), "dependency `Old` is deprecated")
    assert warning.severity == "warning" and "`New`" in (warning.hint or "")
    assert check_registry(RegistryPaths(empty_registry)).ok
    assert _one(_problems(empty_registry, strict=True), "deprecated").severity == "error"


# ----- lifecycle -----


@pytest.mark.parametrize(
    ("fields", "needle", "json_path"),
    [
        ({"status": "deprecated"}, "no [deprecation] table", "status"),
        ({"deprecation": {"reason": "old"}}, "status is `active`", "deprecation"),
        ({"status": "deprecated", "deprecation": {"reason": "old", "replacement": "Nope"}}, "replacement `Nope` is not in the registry", "deprecation.replacement"),
        ({"status": "deprecated", "deprecation": {"reason": "old", "replacement": "Alpha"}}, "its own replacement", "deprecation.replacement"),
        ({"status": "deprecated", "deprecation": {"reason": "old", "replacement": "Other"}}, "replacement `Other` is deprecated itself", "deprecation.replacement"),
        ({"created": dt.date(2026, 2, 1), "updated": dt.date(2026, 1, 1)}, "is before `created`", "updated"),
        ({"status": "deprecated", "deprecation": {"reason": "x", "since": dt.date(2026, 5, 1), "sunset": dt.date(2026, 4, 1)}}, "is before `since`", "deprecation.sunset"),
    ],
)
def test_lifecycle_rules(empty_registry: Path, write_entry: Write, fields: dict[str, Any], needle: str, json_path: str) -> None:
    write_entry("Other", status="deprecated", deprecation={"reason": "old"})
    write_entry("Alpha", **fields)
    problem = _one([p for p in _problems(empty_registry) if p.path.endswith("Alpha.toml")], needle)
    assert problem.json_path == json_path and problem.severity == "error"


def test_past_sunset_is_a_warning(empty_registry: Path, write_entry: Write) -> None:
    write_entry("Alpha", status="deprecated", deprecation={"reason": "old", "sunset": dt.date(2020, 1, 1)})
    problem = _one(_problems(empty_registry), "sunset date 2020-01-01 has passed")
    assert problem.severity == "warning" and problem.json_path == "deprecation.sunset"


def test_archived_entries_may_keep_their_deprecation(empty_registry: Path, write_entry: Write) -> None:
    write_entry("Alpha", status="archived", deprecation={"reason": "old", "sunset": dt.date(2020, 1, 1)})
    assert _problems(empty_registry) == []


def test_history_must_go_forward(empty_registry: Path, write_entry: Write) -> None:
    history = [
        {"version": "1.0.0", "date": dt.date(2026, 1, 1), "summary": "first"},
        {"version": "0.9.0", "date": dt.date(2026, 2, 1), "summary": "back"},
        {"version": "1.1.0", "date": dt.date(2025, 1, 1), "summary": "earlier"},
        {"version": "3.0.0", "date": dt.date(2026, 3, 1), "summary": "future"},
    ]
    write_entry("Alpha", version="2.0.0", history=history)
    problems = _problems(empty_registry)
    assert _one(problems, "does not come after").json_path == "history[1].version"
    assert _one(problems, "is before the previous").json_path == "history[2].date"
    assert _one(problems, "above the entry's version").json_path == "history[3].version"


# ----- policy -----


def _set_policy(root: Path, text: str) -> None:
    config = root / "modreg.toml"
    config.write_text(config.read_text().replace("[validation]\n", "[validation]\n" + text, 1))


def test_policy_rules(empty_registry: Path, write_entry: Write, make_entry: Callable[..., dict]) -> None:
    _set_policy(
        empty_registry,
        'allowed_tags = ["energy", "retail"]\nrequired_fields = ["summary", "metadata.paper"]\n'
        "summary_max_length = 10\ndescription_max_length = 5\nmax_tags = 1\n",
    )
    (empty_registry / "modreg.toml").write_text(
        (empty_registry / "modreg.toml").read_text().replace('required_fields = ["summary", "authors"]\n', "")
        .replace("summary_max_length = 120\n", "").replace("description_max_length = 5000\n", "").replace("max_tags = 20\n", "")
        .replace('allowed_capabilities = []', 'allowed_capabilities = ["multi_step"]')
    )
    write_entry("Alpha", make_entry("Alpha", tags=["energy", "retial"], description="too long", capabilities=["multistep"]))
    problems = _problems(empty_registry)
    assert _one(problems, "`metadata.paper` is required").line == 1
    assert _one(problems, "`summary` is 15 characters long; the policy allows 10").json_path == "summary"
    assert _one(problems, "`description` is 8 characters").json_path == "description"
    assert _one(problems, "2 tags; the policy allows 1").json_path == "tags"
    assert _one(problems, "tag `retial` is not allowed").hint == "did you mean `retail`?"
    assert _one(problems, "capability `multistep`").hint == "did you mean `multi_step`?"


def test_invalid_config_is_a_problem_in_modreg_toml(empty_registry: Path, write_entry: Write) -> None:
    write_entry("Alpha")
    _set_policy(empty_registry, "max_tag = 3\n")
    problem = _one(_problems(empty_registry), "unknown key `max_tag`")
    assert problem.path.endswith("modreg.toml") and problem.hint == "did you mean `max_tags`?" and problem.line == 5


# ----- runtime models, params, templates, plugins -----


def test_unknown_runtime_model_suggests_one(empty_registry: Path, write_entry: Write, toy_models: dict) -> None:
    write_entry("Alpha", runtime={"model": "ToyNt", "params": {"h": 1}})
    problem = _one(_problems(empty_registry), "unknown runtime model `ToyNt`")
    assert problem.hint == "did you mean `ToyNet`?" and problem.json_path == "runtime.model"


@pytest.mark.parametrize(
    ("params", "json_path", "needle"),
    [
        ({"h": 0}, "runtime.params.h", "at least 1"),
        ({"h": 1, "hh": 2}, "runtime.params.hh", "unknown key `hh`"),
        ({"h": 1, "loss": 5}, "runtime.params.loss", "must be a string or null"),
        ({"input_size": 3}, "runtime.params", "missing the required key `h`"),
        ({"h": "12"}, "runtime.params.h", "must be an integer"),
    ],
)
def test_runtime_params_are_checked_against_the_model(
    empty_registry: Path, write_entry: Write, toy_models: dict, params: dict, json_path: str, needle: str
) -> None:
    write_entry("Alpha", runtime={"model": "ToyNet", "params": params})
    problem = _one(_problems(empty_registry), needle)
    assert problem.json_path == json_path and problem.line > 1


def test_plugin_models_are_known_and_manifests_checked(empty_registry: Path, write_entry: Write, toy_models: dict) -> None:
    plugin = empty_registry / "plugins" / "acme"
    plugin.mkdir()
    (plugin / "plugin.toml").write_text(
        'name = "acme"\nversion = "1.0.0"\nsummary = "Acme models"\n'
        '[[models]]\nname = "AcmeNet"\ncategory = "custm"\nmodule = "acme_net"\n'
    )
    write_entry("Alpha", runtime={"model": "AcmeNet", "params": {"anything": 1}})
    problems = [p for p in _problems(empty_registry) if p.severity == "error"]
    assert [p.json_path for p in problems] == ["models[0].category"]
    assert problems[0].path.endswith("plugins/acme/plugin.toml") and problems[0].hint == "did you mean `custom`?"


def test_templates_are_checked_and_merged(empty_registry: Path, write_entry: Write, toy_models: dict) -> None:
    templates = empty_registry / "templates"
    (templates / "base.toml").write_text('name = "base"\nmodel = "ToyNet"\n[params]\nh = 6\n')
    (templates / "generic.toml").write_text('name = "generic"\n[params]\ninput_size = 0\n')
    (templates / "other.toml").write_text('name = "other"\nmodel = "ToyNt"\n')
    write_entry("Good", runtime={"model": "ToyNet", "template": "base", "params": {"input_size": 4}})
    write_entry("Typo", runtime={"model": "ToyNet", "template": "bsae"})
    problems = _problems(empty_registry)
    assert not [p for p in problems if p.path.endswith("Good.toml")]
    assert _one(problems, "unknown template `bsae`").hint == "did you mean `base`?"
    assert _one(problems, "unknown runtime model `ToyNt`").path.endswith("templates/other.toml")
    assert len(problems) == 2


def test_a_template_is_a_partial_layer_of_parameters(empty_registry: Path, write_entry: Write, toy_models: dict) -> None:
    # `run --template rate --horizon 6` gives h; the template need not, but what it holds is checked
    templates = empty_registry / "templates"
    (templates / "rate.toml").write_text('name = "rate"\nmodel = "ToyNet"\n[params]\ndropout = 0.1\n')
    (templates / "bad.toml").write_text('name = "bad"\nmodel = "ToyNet"\n[params]\ndropout = "lots"\n')
    write_entry("NoHorizon", runtime={"model": "ToyNet", "template": "rate"})
    problems = _problems(empty_registry)
    assert sorted((Path(p.path).name, p.message) for p in problems) == [
        ("NoHorizon.toml", "`runtime.params` is missing the required key `h`"),
        ("bad.toml", "`params.dropout` must be a number; found the string `lots`"),
    ]


# ----- YAML surprises, selection, scale -----


def test_yaml_surprises_in_free_form_tables_warn(empty_registry: Path, write_entry: Write) -> None:
    write_entry("Alpha", "schema_version: 1\nname: Alpha\nversion: '1.0.0'\ncategory: basic\nstatus: active\n"
                "summary: s\nauthors: [x]\nmetadata:\n  country: NO\n  code: 010\n", suffix=".yaml")
    problems = _problems(empty_registry)
    assert [(p.json_path, p.severity, p.line) for p in problems] == [("metadata.country", "warning", 9), ("metadata.code", "warning", 10)]


def test_given_files_are_checked_against_the_whole_registry(empty_registry: Path, write_entry: Write, tmp_path: Path) -> None:
    write_entry("Alpha", category="bad")
    beta = write_entry("Beta", dependencies={"Alpha": "^1", "Nope": "*"})
    problems = _problems(empty_registry, [beta])
    assert [p.message for p in problems] == ["dependency `Nope` is not in the registry"]
    candidate = tmp_path / "Gamma.toml"
    candidate.write_text(dumps_toml({"schema_version": 1, "name": "Gamma", "version": "1.0.0", "category": "basic",
                                     "status": "active", "summary": "s", "authors": ["x"], "dependencies": {"Beta": "^1"}}))
    assert _problems(empty_registry, [candidate]) == []
    with pytest.raises(NotFound):
        _problems(empty_registry, [tmp_path / "missing.toml"])


def test_many_files_are_checked_in_worker_processes(empty_registry: Path, write_entry: Write) -> None:
    for index in range(260):
        write_entry(f"M{index:03d}", dependencies={f"M{index - 1:03d}": "^1"} if index else None)
    write_entry("M100", category="advaned")
    report = check_registry(RegistryPaths(empty_registry))
    assert report.files == 261 and [p.json_path for p in report.problems] == ["category"]
    assert report.problems[0].path.endswith("models/M100.toml") and report.problems[0].line == 4


def test_validate_data_without_a_document(make_entry: Callable[..., dict]) -> None:
    problems = validate_data(make_entry("Alpha", tags="x"), Path("models/Beta.toml"), None, RegistryConfig())
    assert {p.json_path for p in problems} == {"tags", "name"}
    assert all(p.line == 1 for p in problems)


# ----- the fast check never accepts what jsonschema refuses -----

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5) | st.dates(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12,
)
_keys = st.sampled_from(["schema_version", "name", "version", "category", "status", "tags", "runtime", "created", "dependencies", "history", "performance"])


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_keys, _json), st.sampled_from(["descriptor", "config", "plugin", "template"]))
def test_fast_check_implies_jsonschema_valid(data: dict[str, Any], name: str) -> None:
    fast = _schemacheck._fast(name)
    assert fast is not None
    if fast(data):
        assert _schemacheck._validator(name).is_valid(_schemacheck.date_to_iso(data))


def test_fast_check_accepts_valid_descriptors(make_entry: Callable[..., dict]) -> None:
    fast = compile_fast(_schemacheck._dates_untyped(_schemacheck.load_schema("descriptor")))
    full = make_entry("Alpha", created=dt.date(2026, 1, 1), dependencies={"B": "^1"}, performance={"mase": 0.8, "measured": dt.date(2026, 1, 2)},
                      history=[{"version": "1.0.0", "date": dt.date(2026, 1, 1), "summary": "first", "snapshot": {"runtime": {}}}])
    assert fast is not None and fast(full)


def test_folders_expand_to_the_registry_files_only(empty_registry: Path, write_entry: Write) -> None:
    write_entry("Alpha")
    plugin = empty_registry / "plugins" / "acme"
    plugin.mkdir()
    (plugin / "plugin.toml").write_text('name = "acme"\nversion = "1.0.0"\nsummary = "Acme"\n[[models]]\nname = "AcmeNet"\ncategory = "custom"\nmodule = "net"\n')
    (plugin / "settings.yaml").write_text("not: a descriptor\n")
    (empty_registry / ".modreg" / "trash").mkdir(parents=True)
    (empty_registry / ".modreg" / "trash" / "Old.toml").write_text("broken = \n")
    report = check_registry(RegistryPaths(empty_registry), [empty_registry])
    assert report.problems == [] and report.files == 3
