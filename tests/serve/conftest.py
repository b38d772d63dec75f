"""A running `modreg serve` on 127.0.0.1 (a free port) over a copy of the example registry."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from modreg.serve import make_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, registry folder) of a server running in a thread, stopped after the test."""
    registry = tmp_path / "registry"
    shutil.copytree(ROOT / "registry.example", registry, ignore=shutil.ignore_patterns(".modreg"))
    server = make_server(registry, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}", registry
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
