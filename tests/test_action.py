"""The composite GitHub Action (action.yml), its steps run the way the runner runs them:
inputs substituted, each `run` in `bash --noprofile --norc -eo pipefail`, the step's env set,
in a checkout of a repository holding a registry. The install step installs this repository
into a fresh virtual environment, as the runner's Python would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))


def test_the_action_is_composite_with_inputs_and_defaults() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) == {"registry", "strict", "python-version"}
    assert all("description" in spec and "default" in spec for spec in ACTION["inputs"].values())
    uses = [step["uses"] for step in ACTION["runs"]["steps"] if "uses" in step]
    assert uses == ["actions/setup-python@v5"]  # the runner's Python: the test runs in its own venv


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The runner's Python after setup-python: a clean virtual environment."""
    folder = tmp_path_factory.mktemp("runner") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
    return folder


def _expand(text: str, inputs: dict[str, str]) -> str:
    """`${{ inputs.NAME }}` and `${{ github.action_path }}`, as the runner substitutes them."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name == "github.action_path":
            return str(ROOT)
        return inputs[name.removeprefix("inputs.")]

    return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", value, text)


def _run_steps(checkout: Path, venv: Path, given: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    inputs = {name: given.get(name, spec["default"]) for name, spec in ACTION["inputs"].items()}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MODREG_", "PYTHONPATH", "VIRTUAL_ENV"))}
    base["PATH"] = f"{venv / 'bin'}{os.pathsep}{base.get('PATH', '')}"
    done = []
    for step in ACTION["runs"]["steps"]:
        if "run" not in step:
            continue
        assert step["shell"] == "bash"
        env = {**base, **{k: _expand(str(v), inputs) for k, v in step.get("env", {}).items()},
               "GITHUB_ACTION_PATH": str(ROOT), "GITHUB_WORKSPACE": str(checkout)}
        script = checkout.parent / "step.sh"
        script.write_text(_expand(step["run"], inputs), encoding="utf-8")
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=checkout,
                                env=env, capture_output=True, text=True, timeout=900)
        done.append(result)
        if result.returncode != 0:
            break
    return done


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "checkout"
    shutil.copytree(ROOT / "registry.example", repo / "registry", ignore=shutil.ignore_patterns(".modreg"))
    return repo


def test_every_step_passes_on_a_good_registry(checkout: Path, venv: Path) -> None:
    install, validate, build = _run_steps(checkout, venv, {"registry": "registry"})
    assert install.returncode == 0, install.stderr
    assert (venv / "bin" / "modreg").exists()
    assert validate.returncode == 0 and "::error" not in validate.stdout, validate.stderr
    assert build.returncode == 0, build.stderr


def test_a_bad_descriptor_fails_with_an_annotation_on_its_line(checkout: Path, venv: Path) -> None:
    lstm = checkout / "registry" / "models" / "LSTM.toml"
    lines = lstm.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.startswith("category = "))
    lines[number - 1] = 'category = "recurent"'
    lstm.write_text("\n".join(lines) + "\n", encoding="utf-8")
    steps = _run_steps(checkout, venv, {"registry": "registry", "strict": "true"})
    assert [step.returncode for step in steps] == [0, 1]  # installed, then validation stops the job
    assert f"::error file=registry/models/LSTM.toml,line={number},col=" in steps[1].stdout


def test_a_stale_report_fails_the_last_step(checkout: Path, venv: Path) -> None:
    report = checkout / "registry" / "reports" / "registry_summary.md"
    report.write_text(report.read_text(encoding="utf-8") + "\nedited by hand\n", encoding="utf-8")
    install, validate, build = _run_steps(checkout, venv, {"registry": "registry"})
    assert (install.returncode, validate.returncode, build.returncode) == (0, 0, 1)
    assert "stale: reports/registry_summary.md" in build.stderr
