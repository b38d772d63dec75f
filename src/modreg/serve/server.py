"""The HTTP server of `modreg serve`: the standard library's ThreadingHTTPServer, read-only.

One thread per connection; each request goes through `routes.handle`. Whatever goes wrong
inside a request becomes a 500 with a one-line JSON or HTML answer (the traceback never
reaches the client; one line goes to the log). Loopback (127.0.0.1) is the default address.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from modreg.serve.routes import Response, handle

__all__ = ["LOOPBACK", "is_loopback", "make_server"]

LOOPBACK = "127.0.0.1"
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
}


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def make_server(registry: Path, host: str = LOOPBACK, port: int = 8000, *,
                log: Callable[[str], None] | None = None) -> ThreadingHTTPServer:
    """A server (not yet serving) of the registry at `registry`; port 0 picks a free one.

    `log` receives one line per request (None: no request log).
    """
    handler = type("RegistryHandler", (_Handler,), {"registry": registry, "log": staticmethod(log) if log else None})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


class _Handler(BaseHTTPRequestHandler):
    """Answers every method through `routes.handle`; HEAD sends the headers only."""

    registry: Path
    log: Any = None
    server_version = "modreg"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's naming
        self._answer(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(with_body=False)

    def do_POST(self) -> None:  # noqa: N802
        self._answer(with_body=True)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_POST

    def _answer(self, *, with_body: bool) -> None:
        try:
            response = handle(self.command, self.path, self.registry, host=self.headers.get("Host"),
                              loopback_only=is_loopback(str(self.server.server_address[0])))
        except Exception as error:  # noqa: BLE001 - a client never sees a traceback
            print(f"modreg serve: {self.command} {self.path}: {type(error).__name__}: {error}", file=sys.stderr)
            response = Response(500, "application/json",
                                b'{"error": {"code": 500, "message": "internal error", "hint": null, "path": null, '
                                b'"line": null}, "format": 1, "kind": "error"}')
        self._send(response, with_body)

    def _send(self, response: Response, with_body: bool) -> None:
        self.send_response(response.status)
        for name, value in {**_SECURITY_HEADERS, **response.headers, "Content-Type": response.content_type,
                            "Content-Length": str(len(response.body))}.items():
            self.send_header(name, value)
        self.end_headers()
        if with_body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        if self.log is not None:
            self.log(f"{self.address_string()} {format % args}")
