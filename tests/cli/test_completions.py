"""Shell completions: the committed scripts match the CLI, and the bash one completes for real."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

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


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    paths = init_registry(tmp_path / "reg")
    for name in ("NHITS.toml", "NBEATS.yaml", "TFT.toml"):
        (paths.models / name).write_text("", encoding="utf-8")
    (paths.models / "notes.txt").write_text("", encoding="utf-8")
    return paths.root


def test_bash_completes_commands_options_and_choices(bash_script: Path, tmp_path: Path) -> None:
    assert _complete(bash_script, ["modreg", "sh"], tmp_path) == ["show"]
    assert "--remove-tag" in _complete(bash_script, ["modreg", "update", "--re"], tmp_path)
    assert _complete(bash_script, ["modreg", "register", "--format", ""], tmp_path) == ["toml", "yaml"]
    assert _complete(bash_script, ["modreg", "list", "--category", "basic", "--st"], tmp_path) == ["--status"]


def test_bash_completes_entry_names_from_the_registry(bash_script: Path, registry: Path, tmp_path: Path) -> None:
    assert sorted(_complete(bash_script, ["modreg", "show", "N"], registry / "models")) == ["NBEATS", "NHITS"]
    assert _complete(bash_script, ["modreg", "--registry", str(registry), "update", "T"], tmp_path) == ["TFT"]
    assert _complete(bash_script, ["modreg", "show", "T"], tmp_path, {"MODREG_REGISTRY": str(registry)}) == ["TFT"]
    assert _complete(bash_script, ["modreg", "show", "N"], tmp_path) == []
