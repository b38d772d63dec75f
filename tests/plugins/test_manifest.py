"""plugin.toml: parsed once, checked against the schema, every error at its line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from modreg.errors import ExitCode
from modreg.plugins.base import PluginIntegrityError, PluginManifestError, PluginNotFound
from modreg.plugins.manifest import read_manifest

if TYPE_CHECKING:
    from conftest import DemoPlugin

EXAMPLE = Path(__file__).resolve().parents[2] / "registry.example"


def _rewrite(plugin: DemoPlugin, old: str, new: str) -> None:
    manifest = plugin.folder / "plugin.toml"
    text = manifest.read_text()
    assert old in text
    manifest.write_text(text.replace(old, new))


def test_the_example_manifest_reads_with_its_models_and_files() -> None:
    manifest, raw = read_manifest(EXAMPLE / "plugins" / "seasonal_ets")
    assert manifest.name == "seasonal_ets" and manifest.version == "1.0.0"
    assert raw == (EXAMPLE / "plugins" / "seasonal_ets" / "plugin.toml").read_bytes()
    [model] = manifest.models
    assert (model.name, model.category, model.module) == ("SeasonalETS", "basic", "seasonal_ets")
    assert model.params == {"h": 12, "season_length": 12, "seasonal": "multiplicative"}
    assert model.module_files() == ("seasonal_ets.py", "seasonal_ets/__init__.py")
    assert sorted(manifest.files or {}) == ["_smoothing.py", "params.schema.json", "seasonal_ets.py"]
    assert manifest.line_of("min_runtime_version") == 8


def test_a_missing_required_key_is_reported_at_its_table(demo: DemoPlugin) -> None:
    _rewrite(demo, 'category = "custom"\n', "")
    with pytest.raises(PluginManifestError) as caught:
        read_manifest(demo.folder)
    error = caught.value
    assert error.exit_code == ExitCode.USAGE and "category" in error.message and error.line == 9
    assert error.message.startswith("plugin `demo`: ") and error.path == str(demo.folder / "plugin.toml")


def test_an_unknown_key_is_refused(demo: DemoPlugin) -> None:
    _rewrite(demo, 'license = "MIT"', 'license = "MIT"\nentry = "os.system"')
    with pytest.raises(PluginManifestError, match="entry") as caught:
        read_manifest(demo.folder)
    assert caught.value.line == 7


def test_a_toml_syntax_error_points_at_its_line(demo: DemoPlugin) -> None:
    _rewrite(demo, 'version = "1.0.0"', "version = 1.0.0.0")
    with pytest.raises(PluginManifestError) as caught:
        read_manifest(demo.folder)
    assert caught.value.line == 3


def test_the_name_must_be_the_folder_name(demo: DemoPlugin) -> None:
    _rewrite(demo, 'name = "demo"', 'name = "other"')
    with pytest.raises(PluginManifestError, match="named `other`, but its folder `demo`") as caught:
        read_manifest(demo.folder)
    assert caught.value.line == 2


def test_a_model_declared_twice_is_refused(demo: DemoPlugin) -> None:
    manifest = demo.folder / "plugin.toml"
    text = manifest.read_text()
    block = text[text.index("[[models]]"):text.index("[files]")]
    manifest.write_text(text.replace("[files]", block + "[files]"))
    with pytest.raises(PluginManifestError, match="declared twice"):
        read_manifest(demo.folder)


def test_a_model_module_without_a_file_is_refused_at_its_line(demo: DemoPlugin) -> None:
    _rewrite(demo, 'module = "demo_model"', 'module = "missing.module"')
    demo.lock()
    with pytest.raises(PluginManifestError, match="missing/module.py") as caught:
        demo.load()
    assert caught.value.line == 12 and demo.ran() == 0


def test_a_folder_without_a_manifest_is_not_a_plugin(tmp_path: Path) -> None:
    with pytest.raises(PluginNotFound) as caught:
        read_manifest(tmp_path)
    assert caught.value.exit_code == ExitCode.NOT_FOUND


def test_a_symlinked_manifest_is_refused(demo: DemoPlugin, tmp_path: Path) -> None:
    real = tmp_path / "real.toml"
    (demo.folder / "plugin.toml").rename(real)
    (demo.folder / "plugin.toml").symlink_to(real)
    with pytest.raises(PluginIntegrityError, match="plugin.toml is a symlink"):
        read_manifest(demo.folder)


def test_modreg_validate_checks_plugin_manifests(demo: DemoPlugin) -> None:
    from modreg.registry.store.layout import RegistryPaths
    from modreg.registry.checks.validate import validate_registry

    assert validate_registry(RegistryPaths(demo.registry)) == []
    _rewrite(demo, 'category = "custom"', 'category = "magic"')
    problems = validate_registry(RegistryPaths(demo.registry))
    assert [(Path(p.path).name, p.line) for p in problems] == [("plugin.toml", 11)]
