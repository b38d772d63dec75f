"""`modreg serve` over real HTTP on 127.0.0.1: the JSON API, the HTML page, changes seen
without a restart, 50 concurrent clients, path traversal, unknown routes, never a traceback."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]


def get(base: str, path: str, method: str = "GET") -> tuple[int, str, str]:
    """(status, content type, body) of one request, the path sent exactly as given."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read().decode("utf-8")
    finally:
        connection.close()


def get_json(base: str, path: str) -> dict:
    status, kind, body = get(base, path)
    assert status == 200 and kind == "application/json", (path, status, body)
    return json.loads(body)


def test_search_with_the_query_language(served: tuple[str, Path]) -> None:
    base, _ = served
    found = get_json(base, "/api/search?q=long+horizon+mlp&limit=3")
    assert (found["format"], found["kind"]) == (1, "search")
    assert {hit["name"] for hit in found["items"]} == {"NHITS", "TSMixer", "TiDE"}
    filtered = get_json(base, "/api/search?category=recurrent&status=deprecated")
    assert [hit["name"] for hit in filtered["items"]] == ["RNN"]
    where = get_json(base, "/api/search?where=" + "runtime.params.input_size%20%3E%3D%2024%20and%20tags%20in%20%5B%27mlp%27%5D")
    assert "NHITS" in {hit["name"] for hit in where["items"]}
    status, _, body = get(base, "/api/search?where=performance.mase%20%3C")
    assert status == 400 and json.loads(body)["error"]["code"] == 2 and "Traceback" not in body


def test_show_history_list_stats_indexes_and_reports(served: tuple[str, Path]) -> None:
    base, registry = served
    shown = get_json(base, "/api/models/NHITS")
    assert shown["kind"] == "show" and shown["descriptor"]["name"] == "NHITS" and shown["file_format"] == "toml"
    history = get_json(base, "/api/models/NHITS/history")
    assert [item["version"] for item in history["items"]][:2] == ["1.0.0", "1.1.0"]
    assert len(get_json(base, "/api/models")["items"]) == len(list((registry / "models").iterdir()))
    assert get_json(base, "/api/stats")["kind"] == "stats"
    for name in ("model_index.json", "registry.json", "version_history.json", "metadata_index.json", "registry_statistics.json"):
        status, kind, body = get(base, f"/api/index/{name}")
        assert status == 200 and body == (registry / "index" / name).read_text(encoding="utf-8"), name
    status, kind, body = get(base, "/api/reports/registry_summary.md")
    assert status == 200 and kind.startswith("text/markdown")
    assert body == (registry / "reports" / "registry_summary.md").read_text(encoding="utf-8")
    assert get_json(base, "/api")["kind"] == "routes"


def test_changes_on_disk_are_seen_without_a_restart(served: tuple[str, Path]) -> None:
    base, registry = served
    assert get_json(base, "/api/search?q=zebra")["total"] == 0
    path = registry / "models" / "NHITS.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('"mlp", ', '"mlp", "zebra", '), encoding="utf-8")
    time.sleep(0.05)
    assert [hit["name"] for hit in get_json(base, "/api/search?q=zebra")["items"]] == ["NHITS"]
    assert "zebra" in get_json(base, "/api/models/NHITS")["descriptor"]["tags"]
    assert '"zebra"' in get(base, "/api/index/metadata_index.json")[2]
    (registry / "models" / "TCN.toml").unlink()
    assert get(base, "/api/models/TCN")[0] == 404
    assert "TCN" not in {row["name"] for row in get_json(base, "/api/models")["items"]}


def test_fifty_concurrent_clients(served: tuple[str, Path]) -> None:
    base, _ = served
    paths = ["/api/search?q=lstm", "/api/models/NHITS", "/", "/api/index/model_index.json", "/models/LSTM",
             "/api/models/GRU/history", "/api/stats", "/api/search?category=advanced&limit=0", "/?q=transformer",
             "/api/reports/registry_report.md"]
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda i: get(base, paths[i % len(paths)]), range(150)))
    assert [status for status, _, _ in answers] == [200] * 150
    assert all("Traceback" not in body for _, _, body in answers)


@pytest.mark.parametrize("path", [
    "/api/models/..%2Fmodreg.toml", "/api/models/../modreg.toml", "/api/index/..%2F..%2Fmodreg.toml",
    "/api/index/../modreg.toml", "/api/reports/%2e%2e%2faudit.jsonl", "/../../etc/passwd", "/models/..%2F..%2Fetc%2Fpasswd",
    "/api/models/NHITS.toml", "/api/index/registry.toml", "/static/../modreg.toml", "//etc/passwd", "/api/models/%00",
])
def test_path_traversal_is_a_404_that_reads_nothing(served: tuple[str, Path], path: str) -> None:
    base, registry = served
    status, _, body = get(base, path)
    assert status == 404, (path, status)
    assert "[plugins]" not in body and "root:" not in body and "Traceback" not in body


@pytest.mark.parametrize("path", ["/nope", "/api/nope", "/api/models/NHITS/nope", "/models", "/api/search/x", "/favicon.ico"])
def test_unknown_routes_are_404(served: tuple[str, Path], path: str) -> None:
    status, kind, body = get(served[0], path)
    assert status == 404 and "Traceback" not in body
    if path.startswith("/api"):
        assert json.loads(body)["error"]["code"] == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_it_is_read_only(served: tuple[str, Path], method: str) -> None:
    status, _, body = get(served[0], "/api/models/NHITS", method)
    assert status == 405 and "read-only" in body


def test_a_broken_descriptor_never_gives_a_traceback(served: tuple[str, Path]) -> None:
    base, registry = served
    (registry / "models" / "NHITS.toml").write_text('name = "NHITS"\nname = "twice"\n', encoding="utf-8")
    for path in ("/api/models/NHITS", "/models/NHITS", "/api/search?q=nhits", "/", "/api/index/registry.json"):
        status, _, body = get(base, path)
        assert status in (200, 400, 404, 409, 500) and "Traceback" not in body, (path, status)


def test_the_html_page_lists_searches_and_escapes(served: tuple[str, Path]) -> None:
    base, registry = served
    status, kind, page = get(base, "/")
    assert status == 200 and kind.startswith("text/html") and '<form method="get" action="/"' in page
    assert page.count('class="hit"') == len(list((registry / "models").iterdir()))
    status, _, found = get(base, "/?q=lstm&status=active")
    assert found.index('href="/models/LSTM"') < found.index('href="/models/GRU"')
    path = registry / "models" / "LSTM.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'summary = "', 'summary = "<script>alert(1)</script> ', 1), encoding="utf-8")
    status, _, entry = get(base, "/models/LSTM")
    assert status == 200 and "<script>alert(1)</script>" not in entry and "&lt;script&gt;" in entry


def test_the_command_serves_on_loopback_and_stops(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "modreg", "--registry", str(ROOT / "registry.example"), "serve",
                                "--port", "0"], stderr=subprocess.PIPE, text=True,
                               env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    try:
        line = process.stderr.readline()
        assert "at http://127.0.0.1:" in line and "read-only" in line
        url = line.split(" at ", 1)[1].split()[0].rstrip("/")
        assert get_json(url, "/api/models/NHITS")["descriptor"]["name"] == "NHITS"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("host", ["evil.example:8000", "127.0.0.1.evil.example", "localhost.evil.example", None])
def test_a_request_for_another_host_name_is_refused_on_loopback(served: tuple[str, Path], host: str | None) -> None:
    """DNS rebinding: a web page whose name now resolves to 127.0.0.1 sends its own name as Host."""
    base, _ = served
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.putrequest("GET", "/api/models", skip_host=True)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        status, body = response.status, json.loads(response.read())
    finally:
        connection.close()
    assert status == 421 and body["error"]["message"].startswith("this server answers requests for localhost")
    assert get_json(base, "/api/models")["kind"] == "list"  # its own address still answers
    assert get(base.replace("127.0.0.1", "localhost"), "/api")[0] == 200
