"""The HTML page in a real browser: headless Chromium (Debian's package) loads the search page
and an entry page; skipped where no Chromium is installed (.ci/run installs it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from modreg import api

BROWSER = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium: apt-get install chromium")


def render(url: str, tmp_path: Path, *extra: str) -> str:
    """The DOM after the browser loaded `url` (and ran whatever the page runs)."""
    done = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           f"--user-data-dir={tmp_path / 'profile'}", *extra, "--dump-dom", url],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_search_page_in_chromium(served: tuple[str, Path], tmp_path: Path) -> None:
    base, registry = served
    dom = render(f"{base}/?q=long+horizon+mlp", tmp_path)
    matches = api.search("long horizon mlp", registry=registry).total
    rows = dom.split('<tbody>', 1)[1].split("</tbody>", 1)[0].split('<tr class="hit">')[1:]
    assert {row.split('href="/models/', 1)[1].split('"', 1)[0] for row in rows[:3]} == {"NHITS", "TSMixer", "TiDE"}
    assert 'value="long horizon mlp"' in dom and f"{matches} matches" in dom and matches > 3


def test_an_entry_page_and_a_screenshot(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    dom = render(f"{base}/models/NHITS", tmp_path)
    assert '<h1 id="name">NHITS' in dom and "Neural Hierarchical Interpolation" in dom and 'id="history"' in dom
    shot = tmp_path / "page.png"
    subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'shot'}",
                    "--window-size=1000,700", f"--screenshot={shot}", f"{base}/?q=lstm"],
                   capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
