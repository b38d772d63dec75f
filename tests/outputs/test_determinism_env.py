"""The same registry gives the same bytes whoever builds it: time zone, locale, hash seed, umask,
git configuration, the order the descriptors were written in, and their Windows line ends.

Each environment builds a copy of the example registry from scratch (no cache, no outputs) in
a `python -m modreg` process and must give exactly the committed index/ and reports/.
Locales come from `locale -a`; one that is not installed is compiled into a temporary
folder with `localedef` (LOCPATH) when the system has its source, else the case is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import modreg
from modreg import api
from modreg.outputs.indexes import INDEX_FILES
from modreg.outputs.reports import REPORT_FILES

OUTPUTS = (*INDEX_FILES, *REPORT_FILES)
SRC = Path(modreg.__file__).resolve().parents[1]


def _copy(example: Path, target: Path) -> Path:
    shutil.copytree(example, target, ignore=shutil.ignore_patterns(".modreg", "audit.jsonl", "index", "reports"))
    return target


def _outputs(root: Path) -> dict[str, bytes]:
    return {relative: (root / relative).read_bytes() for relative in OUTPUTS}


def _installed_locales() -> set[str]:
    try:
        listed = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        return set()
    return {name.lower().replace("utf-8", "utf8") for name in listed.split()}


@pytest.fixture(scope="module")
def locale_env(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """`locale_env("tr_TR")`: the environment selecting that UTF-8 locale (skips when it cannot)."""
    installed = _installed_locales()
    compiled = tmp_path_factory.mktemp("locales")

    def select(name: str) -> dict[str, str]:
        wanted = f"{name}.UTF-8"
        env = {"LC_ALL": wanted, "LANG": wanted}
        if wanted.lower().replace("utf-8", "utf8") not in installed:
            if shutil.which("localedef") is None or not Path("/usr/share/i18n/locales", name).exists():
                pytest.skip(f"the locale {wanted} is not installed and cannot be compiled here")
            subprocess.run(["localedef", "-i", name, "-f", "UTF-8", str(compiled / wanted)], capture_output=True, check=False)
            env["LOCPATH"] = str(compiled)
        probe = "import locale; locale.setlocale(locale.LC_ALL, ''); print(locale.localeconv()['decimal_point'])"
        done = subprocess.run([sys.executable, "-c", probe], env={**os.environ, **env}, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"the locale {wanted} cannot be selected: {done.stderr.strip()[-200:]}")
        assert done.stdout.strip() == ",", "this locale writes decimals with a comma: the case must test that"
        return env

    return select


def _build_in(root: Path, env: dict[str, str], umask: int = 0o022) -> None:
    script = f"import os, sys; os.umask({umask}); from modreg.cli import main; sys.argv = ['modreg', '-r', {str(root)!r}, 'build']; main()"
    full = {**os.environ, "PYTHONPATH": str(SRC), **env}
    done = subprocess.run([sys.executable, "-c", script], env=full, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


ENVIRONMENTS = {
    "kiritimati-seed1-umask077": ({"TZ": "Pacific/Kiritimati", "PYTHONHASHSEED": "1"}, 0o077),
    "adak-seed4242": ({"TZ": "America/Adak", "PYTHONHASHSEED": "4242"}, 0o022),
    "ascii-c-locale": ({"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "PYTHONIOENCODING": "ascii"}, 0o022),
}


@pytest.mark.parametrize("case", sorted(ENVIRONMENTS))
def test_the_example_builds_to_its_committed_bytes_in_any_environment(example_registry: Path, tmp_path: Path, case: str) -> None:
    env, umask = ENVIRONMENTS[case]
    root = _copy(example_registry, tmp_path / "registry")
    _build_in(root, env, umask)
    assert _outputs(root) == _outputs(example_registry)


@pytest.mark.parametrize("name", ["de_DE", "tr_TR"])
def test_the_example_builds_to_its_committed_bytes_in_a_comma_decimal_locale(
    example_registry: Path, tmp_path: Path, locale_env, name: str  # type: ignore[no-untyped-def]
) -> None:
    root = _copy(example_registry, tmp_path / "registry")
    _build_in(root, locale_env(name))
    assert _outputs(root) == _outputs(example_registry)


def test_a_git_config_that_converts_line_ends_does_not_change_the_bytes(example_registry: Path, tmp_path: Path) -> None:
    attributes = tmp_path / "attributes"
    attributes.write_text("* text eol=crlf\n", encoding="utf-8")
    config = tmp_path / "gitconfig"
    config.write_text(f"[core]\n\tautocrlf = true\n\tattributesFile = {attributes}\n", encoding="utf-8")
    root = _copy(example_registry, tmp_path / "registry")
    _build_in(root, {"GIT_CONFIG_GLOBAL": str(config), "HOME": str(tmp_path)})
    assert _outputs(root) == _outputs(example_registry)


def test_descriptors_written_in_another_order_and_as_on_windows_give_the_same_bytes(example_registry: Path, tmp_path: Path) -> None:
    root = _copy(example_registry, tmp_path / "registry")
    models = root / "models"
    files = sorted(models.iterdir(), reverse=True)
    contents = {path.name: path.read_bytes() for path in files}
    for path in files:
        path.unlink()
    for name, raw in contents.items():  # newest name first, each with a BOM, CRLF and no final newline
        (models / name).write_bytes(b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n").rstrip(b"\r\n"))
    assert api.build(registry=root).ok
    assert _outputs(root) == _outputs(example_registry)
