"""The routes of `modreg serve`: a request (method, path, query) in, a `Response` out.

Read-only, over one registry, through `modreg.api` (so every answer reflects the files on disk
at that moment: descriptors changed, added or removed are seen without a restart):

    GET /                            the HTML page: search form and results
    GET /models/NAME                 the HTML page of one entry
    GET /api                         the routes, as JSON
    GET /api/search?q=&tag=&category=&capability=&status=&author=&where=&sort=&limit=
    GET /api/models                  every entry (`modreg list --json`)
    GET /api/models/NAME             one entry (`modreg show --json`)
    GET /api/models/NAME/history     its versions (`modreg history --json`)
    GET /api/stats                   `modreg stats --json`
    GET /api/index/FILE.json         a generated index, as `modreg index` would write it now
    GET /api/reports/FILE.md         a generated report, likewise

JSON answers are the documents of the JSON contract (`modreg.api.contract`). Names are
matched against fixed patterns and lists before anything is read, so no path can leave the
registry; anything else is a 404, a bad query a 400, never a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from modreg import api
from modreg.api.contract import document, error_document
from modreg.errors import ExitCode, ModregError
from modreg.serve import pages

__all__ = ["ROUTES", "Response", "handle"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,63}$")
_STATUS = {ExitCode.NOT_FOUND: 404, ExitCode.USAGE: 400, ExitCode.CHECK_FAILED: 409, ExitCode.CONFLICT: 409}
ROUTES = ("/", "/models/NAME", "/api", "/api/search", "/api/models", "/api/models/NAME", "/api/models/NAME/history",
          "/api/stats", "/api/index/FILE.json", "/api/reports/FILE.md")
_SEARCH_LISTS = {"tag": "tags", "category": "categories", "capability": "capabilities", "status": "statuses",
                 "author": "authors"}


@dataclass(frozen=True)
class Response:
    """What the server sends: a status, a content type and the body."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def handle(method: str, target: str, registry: Path, *, host: str | None = None, loopback_only: bool = False) -> Response:
    """The answer to one request (never raises for what a client sends). `loopback_only`: the
    server listens on loopback, so a request whose `Host` header names another host is refused
    (a web page that rebinds its own domain name to 127.0.0.1 cannot read the registry)."""
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=False)
    segments = [unquote(s) for s in parts.path.split("/")[1:]]
    wants_json = segments[:1] == ["api"]
    if loopback_only and not _loopback_host(host):
        return _error(421, f"this server answers requests for localhost or 127.0.0.1 only, not for {host!r}.",
                      wants_json, hint="open http://127.0.0.1:PORT/, or serve with --host to share it.")
    if method not in ("GET", "HEAD"):
        return _error(405, f"{method} is not allowed: this server is read-only.", wants_json, {"Allow": "GET, HEAD"})
    try:
        return _route(segments, query, registry)
    except ModregError as error:
        status = _STATUS.get(error.exit_code, 500)
        if wants_json:
            return _json(error_document(error.to_dict()), status)
        return _html(pages.error_page(status, error.message, error.hint), status)


def _route(segments: list[str], query: Mapping[str, list[str]], registry: Path) -> Response:
    match segments:
        case [""] | []:
            return _html(pages.index_page(registry.name, _search(query, registry), _text(query, "q")))
        case ["models", name] if _NAME.match(name):
            entry, history = api.show(name, registry=registry), api.history(name, registry=registry)
            return _html(pages.entry_page(entry, history))
        case ["api"] | ["api", ""]:
            return _json({"format": 1, "kind": "routes", "items": list(ROUTES)})
        case ["api", "search"]:
            return _json(document("search", _search(query, registry)))
        case ["api", "models"]:
            return _json(document("list", api.list_entries(registry=registry)))
        case ["api", "models", name] if _NAME.match(name):
            return _json(document("show", api.show(name, registry=registry)))
        case ["api", "models", name, "history"] if _NAME.match(name):
            return _json(document("history", api.history(name, registry=registry)))
        case ["api", "stats"]:
            return _json(document("stats", api.stats(registry=registry)))
        case ["api", ("index" | "reports") as folder, file]:
            return _generated(f"{folder}/{file}", registry)
    return _not_found(segments)


def _search(query: Mapping[str, list[str]], registry: Path) -> Any:
    lists = {key: tuple(query.get(name, ())) for name, key in _SEARCH_LISTS.items()}
    limit = _text(query, "limit")
    if limit is not None and not limit.isdigit():
        from modreg.errors import UsageError

        raise UsageError(f"limit must be a whole number, not `{limit}`.", hint="e.g. limit=20; limit=0 gives every match.")
    return api.search(_text(query, "q") or "", registry=registry, where=_text(query, "where"),
                      sort=_text(query, "sort"), limit=int(limit) if limit is not None else 50, **lists)


def _text(query: Mapping[str, list[str]], name: str) -> str | None:
    values: Sequence[str] = query.get(name, ())
    return values[-1] if values else None


def _generated(relative: str, registry: Path) -> Response:
    outputs = api.generated(registry=registry)
    if relative not in outputs:
        return _not_found(relative.split("/"), known=sorted(outputs))
    kind = "application/json" if relative.endswith(".json") else "text/markdown; charset=utf-8"
    return Response(200, kind, outputs[relative].encode("utf-8"))


def _not_found(segments: Sequence[str], known: Sequence[str] = ()) -> Response:
    wants_json = list(segments[:1]) == ["api"] or bool(known)
    hint = f"known: {', '.join(known)}" if known else "see /api for the routes."
    return _error(404, "No such page.", wants_json, hint=hint)


def _loopback_host(host: str | None) -> bool:
    """Whether a Host header names this machine's loopback: localhost, 127.x.y.z or [::1], any port."""
    if not host:
        return False
    name = host.rsplit(":", 1)[0] if not host.endswith("]") and host.count(":") == 1 else host
    name = name.strip().lower().removeprefix("[").split("]")[0]
    return name in ("localhost", "::1") or re.fullmatch(r"127(?:\.\d{1,3}){3}", name) is not None


def _error(status: int, message: str, wants_json: bool, headers: dict[str, str] | None = None,
           hint: str | None = None) -> Response:
    if wants_json:
        body = error_document({"code": status, "message": message, "hint": hint, "path": None, "line": None})
        return _json(body, status, headers)
    return _html(pages.error_page(status, message, hint), status, headers)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return Response(status, "application/json", text.encode("utf-8"), headers or {})


def _html(text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, "text/html; charset=utf-8", text.encode("utf-8"), headers or {})

