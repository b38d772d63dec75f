"""The verified loader: good plugins run from memory; tampered ones are refused before any code runs."""

from __future__ import annotations

import py_compile
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from modreg._version import __version__
from modreg.errors import ExitCode, ModregError
from modreg.forecast.resolve import provide_model, resolve_model
from modreg.plugins import checksums, loader, plugin_lock
from modreg.plugins.base import PluginError, PluginIntegrityError, PluginLoadError, PluginRefused
from modreg.registry.store.layout import RegistryPaths
from modreg.runtime.data import read_series_csv
from modreg.runtime.factory import create, find, get_model, is_registered, list_models

if TYPE_CHECKING:
    from conftest import DemoPlugin, InstalledPlugin

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "registry.example"
AIR = ROOT / "tests" / "data" / "air_passengers.csv"


def load(plugin: DemoPlugin) -> loader.LoadedPlugin:
    return plugin.load()


def refused(plugin: DemoPlugin) -> PluginError:
    with pytest.raises(PluginError) as caught:
        plugin.load()
    assert plugin.ran() == 0, "plugin code ran although the plugin was refused"
    assert plugin.model not in list_models()
    return caught.value


# ----- A good plugin -----


def test_a_good_plugin_loads_and_its_model_forecasts(demo: DemoPlugin) -> None:
    loaded = load(demo)
    assert loaded.models == ("DemoModel",) and loaded.package == "modreg_plugins.demo"
    assert demo.ran() == 1
    forecast = create("DemoModel", h=3).fit(read_series_csv(AIR)).predict()
    assert forecast.point.tolist() == [[432.0, 432.0, 432.0]]
    assert get_model("DemoModel").cls.__module__ == "modreg_plugins.demo.demo_model"
    lines = (demo.folder / "demo_model.py").read_text().splitlines()
    decorator = next(i for i, line in enumerate(lines, 1) if line.startswith("@register_model"))
    assert find("DemoModel") == (str(demo.folder / "demo_model.py"), decorator)  # inspect works on verified text


def test_a_plugin_is_imported_from_memory_never_from_disk(demo: DemoPlugin) -> None:
    load(demo)
    module = sys.modules["modreg_plugins.demo.demo_model"]
    assert module.__spec__.loader is not None and "Verified" in type(module.__spec__.loader).__name__
    assert module.__spec__.cached is None and list(module.__spec__.submodule_search_locations or []) == []
    assert not (demo.folder / "__pycache__").exists()
    assert "helpers" not in sys.modules and "demo_model" not in sys.modules


def test_a_plugin_loads_once(demo: DemoPlugin) -> None:
    first, second = load(demo), load(demo)
    assert first is second and demo.ran() == 1


def test_the_bytes_that_were_hashed_are_the_bytes_that_run(demo: DemoPlugin, monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    evil = tmp_path / "evil.ran"
    verify = checksums.verify_files

    def verify_then_swap(manifest, *, strict):  # an attacker swaps the file right after the check
        sources = verify(manifest, strict=strict)
        (demo.folder / "demo_model.py").write_text(f"open({str(evil)!r}, 'w').write('evil')\n")
        return sources

    monkeypatch.setattr(checksums, "verify_files", verify_then_swap)
    load(demo)
    assert demo.ran() == 1 and not evil.exists()


# ----- Refused before any code runs -----


def test_a_flipped_byte_is_refused_naming_the_file(demo: DemoPlugin) -> None:
    path = demo.folder / "helpers.py"
    data = bytearray(path.read_bytes())
    data[10] ^= 0x01
    path.write_bytes(bytes(data))
    error = refused(demo)
    assert isinstance(error, PluginIntegrityError) and error.exit_code == ExitCode.INTEGRITY
    assert "helpers.py does not match its sha256" in error.message and error.path == str(path)


def test_an_extra_python_file_is_refused(demo: DemoPlugin) -> None:
    (demo.folder / "extra.py").write_text("print('extra')\n")
    error = refused(demo)
    assert error.exit_code == ExitCode.INTEGRITY and "extra.py is not listed in plugin.toml" in error.message


def test_a_missing_file_is_refused(demo: DemoPlugin) -> None:
    (demo.folder / "helpers.py").unlink()
    error = refused(demo)
    assert error.exit_code == ExitCode.INTEGRITY and "helpers.py is listed in plugin.toml but missing" in error.message
    assert error.line is not None


@pytest.mark.parametrize("inside", [False, True], ids=["to-outside", "inside"])
def test_a_symlink_is_refused(demo: DemoPlugin, tmp_path: Path, inside: bool) -> None:
    target = demo.folder / "helpers.py" if inside else tmp_path / "outside.py"
    if not inside:
        target.write_text((demo.folder / "helpers.py").read_text())
    (demo.folder / "linked.py").symlink_to(target)
    error = refused(demo)
    assert error.exit_code == ExitCode.INTEGRITY and "linked.py is a symlink" in error.message


def test_a_symlinked_folder_is_refused(demo: DemoPlugin, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (demo.folder / "sub").symlink_to(tmp_path / "elsewhere")
    assert "sub is a symlink" in refused(demo).message


def _poison(demo: DemoPlugin, tmp_path: Path) -> Path:
    """A __pycache__ .pyc for demo_model that a plain import would run instead of the source."""
    poison = tmp_path / "poison.ran"
    source = tmp_path / "poison_src.py"
    source.write_text(f"open({str(poison)!r}, 'w').write('poisoned')\n")
    tag = sys.implementation.cache_tag
    py_compile.compile(str(source), cfile=str(demo.folder / "__pycache__" / f"demo_model.{tag}.pyc"),
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return poison


def test_a_poisoned_pycache_would_run_under_a_plain_import(demo: DemoPlugin, tmp_path: Path) -> None:
    poison = _poison(demo, tmp_path)
    code = f"import sys; sys.path.insert(0, {str(demo.folder)!r}); import demo_model"
    subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, check=False)
    assert poison.read_text() == "poisoned"  # the threat is real
    shutil.rmtree(demo.folder / "__pycache__", ignore_errors=True)


def test_a_poisoned_pycache_is_refused(demo: DemoPlugin, tmp_path: Path) -> None:
    poison = _poison(demo, tmp_path)
    error = refused(demo)
    assert error.exit_code == ExitCode.INTEGRITY and "__pycache__/ is compiled bytecode" in error.message
    assert not poison.exists()


def test_without_checksums_a_pycache_is_still_never_run(demo: DemoPlugin, tmp_path: Path) -> None:
    demo.set_policy('security = "none"\n')
    poison = _poison(demo, tmp_path)
    with pytest.raises(PluginIntegrityError):
        load(demo)  # bytecode is refused at every security level
    assert not poison.exists() and demo.ran() == 0


def test_a_too_new_min_runtime_version_is_refused_naming_both_versions(make_plugin: Callable[..., DemoPlugin]) -> None:
    plugin = make_plugin(min_version="99.0.0")
    error = refused(plugin)
    assert isinstance(error, PluginRefused) and error.exit_code == ExitCode.CHECK_FAILED
    assert "99.0.0" in error.message and __version__ in error.message and error.line == 7


def test_an_unlocked_plugin_is_refused(make_plugin: Callable[..., DemoPlugin]) -> None:
    error = refused(make_plugin(lock=False))
    assert error.exit_code == ExitCode.INTEGRITY and "no [files] table" in error.message


# ----- Policy -----


def test_untrusted_authors_are_refused(demo: DemoPlugin) -> None:
    demo.set_policy('security = "checksum"\ntrusted_authors = ["Someone <someone@example.org>"]\n')
    error = refused(demo)
    assert "trusted_authors" in error.message and error.line == 5


def test_trusted_authors_match_by_email(demo: DemoPlugin) -> None:
    demo.set_policy('security = "checksum"\ntrusted_authors = ["D. Author <demo@example.org>"]\n')
    assert load(demo).models == ("DemoModel",)


def test_capabilities_outside_the_allowed_list_are_refused(demo: DemoPlugin) -> None:
    demo.set_policy('allowed_capabilities = ["multi_step"]\n')
    error = refused(demo)
    assert "capability `univariate` is not allowed" in error.message and error.line == 13


def test_capabilities_a_model_registers_are_checked_too(make_plugin: Callable[..., DemoPlugin]) -> None:
    plugin = make_plugin()
    manifest = plugin.folder / "plugin.toml"
    manifest.write_text(manifest.read_text().replace('capabilities = ["univariate"]\n', ""))
    plugin.set_policy('allowed_capabilities = ["multi_step"]\n')
    with pytest.raises(PluginRefused, match="registers the capability `univariate`"):
        plugin.load()
    assert "DemoModel" not in list_models()


def test_security_none_skips_checksums(demo: DemoPlugin) -> None:
    demo.set_policy('security = "none"\n')
    (demo.folder / "notes.txt").write_text("not listed")
    (demo.folder / "helpers.py").write_text((demo.folder / "helpers.py").read_text() + "\n# edited\n")
    assert load(demo).models == ("DemoModel",)


# ----- Broken plugins -----


def test_a_plugin_that_raises_is_reported_at_its_line_and_undone(make_plugin: Callable[..., DemoPlugin]) -> None:
    plugin = make_plugin()
    path = plugin.folder / "demo_model.py"
    path.write_text(path.read_text() + "\nraise RuntimeError('broken on purpose')\n")
    plugin.lock()
    with pytest.raises(PluginLoadError) as caught:
        load(plugin)
    error = caught.value
    assert "RuntimeError: broken on purpose" in error.message and error.path == str(path)
    assert error.line == len(path.read_text().splitlines())
    assert "DemoModel" not in list_models() and "modreg_plugins.demo" not in sys.modules
    with pytest.raises(PluginLoadError):
        load(plugin)  # the failure is remembered, the code does not run again
    assert plugin.ran() == 1


def test_one_broken_plugin_does_not_break_another(make_plugin: Callable[..., DemoPlugin]) -> None:
    broken = make_plugin("broken", model="BrokenModel", fit_body="pass")
    (broken.folder / "helpers.py").write_text("raise ImportError('no')\n")
    broken.lock()
    good = make_plugin("good", model="GoodModel")
    with pytest.raises(PluginLoadError):
        load(broken)
    assert load(good).models == ("GoodModel",) and is_registered("Naive")


def test_a_plugin_may_not_replace_a_builtin_model(make_plugin: Callable[..., DemoPlugin]) -> None:
    plugin = make_plugin()
    path = plugin.folder / "demo_model.py"
    path.write_text(path.read_text() + textwrap.dedent("""
        @register_model("Naive", category="basic", overwrite=True)
        class Fake(Demo):
            pass
    """))
    plugin.lock()
    naive = get_model("Naive").cls
    with pytest.raises(PluginLoadError, match="replaced the runtime model `Naive`"):
        load(plugin)
    assert get_model("Naive").cls is naive and "DemoModel" not in list_models()


def test_a_model_the_manifest_does_not_declare_is_refused(make_plugin: Callable[..., DemoPlugin]) -> None:
    plugin = make_plugin(model="DemoModel")
    manifest = plugin.folder / "plugin.toml"
    manifest.write_text(manifest.read_text().replace('name = "DemoModel"', 'name = "OtherModel"'))
    with pytest.raises(PluginLoadError, match="declares `OtherModel`, but `demo_model` did not register it"):
        load(plugin)
    assert "DemoModel" not in list_models()


# ----- The hook for `modreg run` and the factory -----


def test_the_resolver_finds_a_plugin_model_of_the_working_registry(demo: DemoPlugin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(demo.registry)
    assert resolve_model("DemoModel").name == "DemoModel" and demo.ran() == 1


def test_provide_model_raises_the_plugin_error_for_a_refused_plugin(demo: DemoPlugin) -> None:
    (demo.folder / "extra.py").write_text("")
    with pytest.raises(PluginIntegrityError):
        provide_model("DemoModel", RegistryPaths(demo.registry))
    assert provide_model("NoSuchModel", RegistryPaths(demo.registry)) is False


def test_the_example_plugin_fits_air_passengers_well() -> None:
    from modreg.registry.checks.config import load_config

    folder = EXAMPLE / "plugins" / "seasonal_ets"
    loader.load_plugin(folder, load_config(RegistryPaths(EXAMPLE)))
    frame = read_series_csv(AIR)
    actual = frame.y[0][-12:]
    for seasonal in ("additive", "multiplicative"):
        model = create("SeasonalETS", h=12, season_length=12, seasonal=seasonal).fit(frame.slice_end(12))
        forecast = model.predict().point[0]
        assert np.mean(np.abs(forecast - actual) / actual) < 0.05  # MAPE under 5 % on the last year
    naive = np.mean(np.abs(frame.y[0][-24:-12] - actual) / actual)
    assert np.mean(np.abs(forecast - actual) / actual) < naive / 2  # far better than last year's values


# ----- Signatures -----


SSH_KEYGEN = shutil.which("ssh-keygen")


@pytest.mark.skipif(SSH_KEYGEN is None, reason="ssh-keygen (OpenSSH) is not installed, so SSH signatures cannot be made")
def test_signature_verifies_and_a_tampered_manifest_is_refused(demo: DemoPlugin, tmp_path: Path) -> None:
    key = tmp_path / "key"
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "demo", "-f", str(key)], check=True)
    public = (tmp_path / "key.pub").read_text().split()
    (demo.registry / "allowed_signers").write_text(f'demo@example.org namespaces="modreg-plugin" {public[0]} {public[1]}\n')
    demo.set_policy('security = "signature"\nallowed_signers = "allowed_signers"\n')
    config = demo.config()
    assert plugin_lock.lock_plugin(RegistryPaths(demo.registry), demo.folder).needs_signature
    with pytest.raises(PluginIntegrityError, match="plugin.toml.sig is missing") as missing:
        loader.verify_plugin(demo.folder, config)
    assert "ssh-keygen -Y sign" in (missing.value.hint or "")  # signing is what helps, not `plugin lock`
    subprocess.run([SSH_KEYGEN, "-Y", "sign", "-f", str(key), "-n", "modreg-plugin", str(demo.folder / "plugin.toml")],
                   check=True, capture_output=True)
    assert loader.verify_plugin(demo.folder, config).signer == "demo@example.org"
    manifest = demo.folder / "plugin.toml"
    manifest.write_text(manifest.read_text().replace("A demo plugin", "A tampered plugin"))
    error = refused(demo)
    assert error.exit_code == ExitCode.INTEGRITY and "does not verify plugin.toml for demo@example.org" in error.message


def test_signature_level_needs_an_allowed_signers_file(demo: DemoPlugin) -> None:
    demo.set_policy('security = "signature"\n')
    error = refused(demo)
    assert isinstance(error, ModregError) and "allowed-signers" in error.message


def test_verification_runs_no_plugin_code(demo: DemoPlugin) -> None:
    verified = loader.verify_plugin(demo.folder, demo.config())
    assert sorted(verified.sources) == ["demo_model.py", "helpers.py"] and demo.ran() == 0


# ----- Installed plugins (entry points) -----


def test_an_installed_plugin_is_found_and_loaded_lazily(install_plugin: Callable[..., InstalledPlugin]) -> None:
    from modreg.plugins.entrypoints import installed_models

    plugin = install_plugin()
    found = installed_models()["EPModel"]
    assert (found.distribution, found.version, found.summary) == ("ep-epmodel", "1.2.0", "The EPModel plugin")
    assert plugin.package not in sys.modules  # reading the entry points imports nothing
    forecast = resolve_model("EPModel").cls(h=2).fit(read_series_csv(AIR)).predict()
    assert forecast.point.shape == (1, 2) and plugin.package in sys.modules


def test_an_installed_plugin_is_listed_with_its_distribution(install_plugin: Callable[..., InstalledPlugin]) -> None:
    from modreg.plugins.inventory import inspect_plugins

    install_plugin()
    [info] = [i for i in inspect_plugins(None) if i.source == "entry_point"]
    assert (info.name, info.location, info.models, info.status) == ("ep-epmodel", "ep-epmodel 1.2.0", ("EPModel",), "installed (not verified)")
    resolve_model("EPModel")
    assert [i.status for i in inspect_plugins(None, "ep-epmodel")] == ["loaded"]


def test_a_broken_installed_plugin_is_reported_and_breaks_nothing_else(install_plugin: Callable[..., InstalledPlugin],
                                                                       demo: DemoPlugin) -> None:
    from modreg.plugins.inventory import inspect_plugins

    install_plugin("BadModel", extra="raise RuntimeError('broken install')")
    with pytest.raises(PluginLoadError, match="RuntimeError: broken install") as caught:
        resolve_model("BadModel")
    assert caught.value.message.startswith("plugin `ep-badmodel`: importing the entry point BadModel")
    assert "BadModel" not in list_models() and is_registered("Naive")
    infos = {i.name: i for i in inspect_plugins(RegistryPaths(demo.registry))}
    assert infos["ep-badmodel"].status == "failed" and infos["demo"].status == "verified"
    assert demo.load().models == ("DemoModel",)


def test_an_entry_point_to_a_missing_module_is_refused_without_importing(install_plugin: Callable[..., InstalledPlugin]) -> None:
    from modreg.plugins.inventory import inspect_plugins

    install_plugin("GhostModel", value="no_such_module_anywhere:Ghost")
    [info] = inspect_plugins(None, "ep-ghostmodel")
    assert info.status == "refused" and "no_such_module_anywhere" in info.error.message


def test_validation_knows_installed_models(install_plugin: Callable[..., InstalledPlugin], empty_registry: Path) -> None:
    from modreg.registry.checks.validate import validate_registry

    install_plugin()
    (empty_registry / "models" / "Mean.toml").write_text(
        'schema_version = 1\nname = "Mean"\nversion = "1.0.0"\ncategory = "custom"\nstatus = "active"\n'
        'summary = "s"\nauthors = ["a"]\n\n[runtime]\nmodel = "EPModel"\n')
    assert validate_registry(RegistryPaths(empty_registry)) == []


def test_an_installed_plugin_is_listed_as_not_verified_and_one_shadowing_a_builtin_is_refused(
        install_plugin: Callable[..., InstalledPlugin]) -> None:
    from modreg.plugins.inventory import inspect_plugins

    install_plugin("NHITS")
    [info] = [i for i in inspect_plugins(None) if i.source == "entry_point"]
    assert info.status == "refused" and "built-in runtime model" in info.error.message
