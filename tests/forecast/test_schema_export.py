"""The generated runtime_models.json: fresh, deterministic, and readable without numpy."""

from __future__ import annotations

import json
import subprocess
import sys

from modreg.forecast import schema_export
from modreg.runtime.factory import list_models


def test_runtime_models_json_is_fresh() -> None:
    on_disk = schema_export.SCHEMA_FILE.read_text(encoding="utf-8")
    assert on_disk == schema_export.render(), (
        "src/modreg/registry/checks/schemas/runtime_models.json is stale; "
        "run `python -m modreg.forecast.schema_export` and commit the result"
    )


def test_document_lists_every_builtin_model_with_its_schema() -> None:
    models = json.loads(schema_export.render())["models"]
    builtin = {name for name, info in list_models().items() if info.is_builtin}
    assert set(models) == builtin
    mlp = models["MLP"]
    assert mlp["category"] == "basic" and mlp["class"] == "modreg.runtime.models.mlp.MLP"
    assert mlp["params"]["required"] == ["h", "input_size"]


def test_write_reports_whether_it_changed(tmp_path) -> None:
    target = tmp_path / "runtime_models.json"
    assert schema_export.write(target) is True
    assert schema_export.write(target) is False
    assert target.read_text(encoding="utf-8").endswith("}\n")


def test_the_registry_reads_it_without_importing_numpy() -> None:
    code = (
        "import sys\n"
        "from modreg.registry.checks._schemacheck import runtime_models\n"
        "assert 'MLP' in runtime_models()\n"
        "assert 'numpy' not in sys.modules, 'numpy was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
