"""Shell completions: the committed scripts match the CLI and `modreg completion SHELL`, and the
bash one completes for real, offering only values that the command accepts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from typer.testing import CliRunner

from modreg.cli import app
from modreg.cli.completion import SCRIPTS, command_specs, render_all
from modreg.registry.store.init import init_registry

COMPLETIONS = Path(__file__).resolve().parents[2] / "completions"


@pytest.fixture(scope="module")
def scripts() -> dict[str, str]:
    return render_all(app)


@pytest.mark.parametrize("name", sorted(SCRIPTS.values()))
def test_committed_scripts_are_fresh(scripts: dict[str, str], name: str) -> None:
    committed = (COMPLETIONS / name).read_text(encoding="utf-8") if (COMPLETIONS / name).exists() else ""
    assert committed == scripts[name], f"completions/{name} is stale: run `python -m modreg.cli.completion`"


def test_every_command_and_option_is_in_every_script(scripts: dict[str, str]) -> None:
    for spec in command_specs(app):
        for script in scripts.values():
            assert all(word in script for word in spec.path), spec.path
            assert all(option.long in script or option.long[2:] in script for option in spec.options), spec.path


@pytest.fixture
def bash_script(tmp_path: Path, scripts: dict[str, str]) -> Path:
    path = tmp_path / "modreg.bash"
    path.write_text(scripts[SCRIPTS["bash"]], encoding="utf-8")
    return path


def _complete(script: Path, words: list[str], cwd: Path, env: dict[str, str] | None = None) -> list[str]:
    """What bash offers for the last of `words` (the one being completed)."""
    program = (
        f'source "{script}"\n'
        "COMP_WORDS=(\"$@\"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()\n"
        '_modreg; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "-c", program, "bash", *words], cwd=cwd, env={"PATH": "/usr/bin:/bin", **(env or {})},
        capture_output=True, text=True, timeout=30, check=True,
    )
    return [line for line in done.stdout.splitlines() if line]


@pytest.mark.parametrize("shell", sorted(SCRIPTS))
def test_the_completion_command_prints_the_committed_script(shell: str) -> None:
    result = CliRunner().invoke(app, ["completion", shell])
    assert result.exit_code == 0 and result.stdout == (COMPLETIONS / SCRIPTS[shell]).read_text(encoding="utf-8")


def test_the_wheel_ships_the_completion_command() -> None:
    """`modreg completion` needs nothing outside the package (the scripts are rendered from the CLI)."""
    import modreg.cli.completion as completion

    assert Path(completion.__file__).parent.parent.name == "cli"
    assert "completions" not in Path(completion.__file__).read_text(encoding="utf-8").split("def render_all")[1]


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    paths = init_registry(tmp_path / "reg")
    for name in ("NHITS.toml", "NBEATS.yaml", "MyEnsemble.toml"):
        (paths.models / name).write_text("", encoding="utf-8")
    (paths.models / "notes.txt").write_text("", encoding="utf-8")
    (paths.models / "NHITS.toml").write_text(
        'name = "NHITS"\nversion = "1.2.0"\n\n[[history]]\nversion = "1.0.0"\n\n[[history]]\nversion = "1.1.0"\n',
        encoding="utf-8")
    (paths.models / "NBEATS.yaml").write_text("name: NBEATS\nversion: '2.0.1'\nhistory:\n  - version: 1.9.0\n", encoding="utf-8")
    plugin = paths.root / "plugins" / "drift"
    plugin.mkdir(parents=True)
    (plugin / "plugin.toml").write_text('name = "drift"\nversion = "0.1.0"\n\n[[models]]\nname = "Drift"\n'
                                        'module = "drift"\n\n[[models]]\nname = \'DriftX\'\n\n[files]\n"drift.py" = "00"\n',
                                        encoding="utf-8")
    (paths.root / "templates" / "quick.toml").write_text('name = "quick"\n', encoding="utf-8")
    return paths.root


def test_bash_completes_commands_options_and_choices(bash_script: Path, tmp_path: Path) -> None:
    assert _complete(bash_script, ["modreg", "sh"], tmp_path) == ["show"]
    assert "--remove-tag" in _complete(bash_script, ["modreg", "update", "--re"], tmp_path)
    assert _complete(bash_script, ["modreg", "register", "--format", ""], tmp_path) == ["toml", "yaml"]
    assert _complete(bash_script, ["modreg", "list", "--category", "basic", "--st"], tmp_path) == ["--status"]


def test_bash_completes_entry_names_from_the_registry(bash_script: Path, registry: Path, tmp_path: Path) -> None:
    assert sorted(_complete(bash_script, ["modreg", "show", "N"], registry / "models")) == ["NBEATS", "NHITS"]
    assert _complete(bash_script, ["modreg", "--registry", str(registry), "update", "M"], tmp_path) == ["MyEnsemble"]
    assert _complete(bash_script, ["modreg", "show", "M"], tmp_path, {"MODREG_REGISTRY": str(registry)}) == ["MyEnsemble"]
    assert _complete(bash_script, ["modreg", "show", "N"], tmp_path) == []


def test_bash_offers_only_valid_values(bash_script: Path, registry: Path) -> None:
    at = registry / "models"
    schema = _complete(bash_script, ["modreg", "schema", ""], at)
    assert {"descriptor", "config", "plugin", "template", "output.search", "NHITS", "Drift", "DriftX"} <= set(schema)
    assert "MyEnsemble" not in schema  # an entry, not a runtime model: `modreg schema MyEnsemble` would exit 3
    assert _complete(bash_script, ["modreg", "plugin", "health", ""], at) == ["drift"]  # plugins, not models
    assert _complete(bash_script, ["modreg", "plugin", "verify", ""], at) == ["drift"]
    assert _complete(bash_script, ["modreg", "list", "--category", ""], at) == [
        "basic", "recurrent", "advanced", "transformer", "specialized", "custom"]
    assert _complete(bash_script, ["modreg", "search", "--status", ""], at) == ["active", "deprecated", "archived"]
    assert _complete(bash_script, ["modreg", "bench", "--executor", ""], at) == ["local", "dask"]
    assert _complete(bash_script, ["modreg", "list", "--format", ""], at) == ["table", "tsv", "md", "json"]
    assert _complete(bash_script, ["modreg", "run", "NHITS", "--template", ""], at) == ["quick"]
    assert _complete(bash_script, ["modreg", "register", "X", "--runtime-model", "Dr"], at) == ["Drift", "DriftX"]
    offered = _complete(bash_script, ["modreg", "run", "N"], at)
    assert {"NBEATS", "NHITS", "NLinear", "Naive", "NBEATSx"} <= set(offered) and all(o.startswith("N") for o in offered)
    assert _complete(bash_script, ["modreg", "diff", "NHITS", ""], at) == ["1.2.0", "1.0.0", "1.1.0", "current"]
    assert _complete(bash_script, ["modreg", "diff", "NBEATS", "1.9.0", ""], at) == ["2.0.1", "1.9.0", "current"]
    assert sorted(_complete(bash_script, ["modreg", "diff", "N"], at)) == ["NBEATS", "NHITS"]
    assert _complete(bash_script, ["modreg", "completion", ""], at) == ["bash", "zsh", "fish"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_parse(shell: str, scripts: dict[str, str], tmp_path: Path) -> None:
    import shutil

    program = shutil.which(shell)
    if program is None:
        pytest.skip(f"{shell} is not installed")
    path = tmp_path / SCRIPTS[shell]
    path.write_text(scripts[SCRIPTS[shell]], encoding="utf-8")
    done = subprocess.run([program, "-n", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
