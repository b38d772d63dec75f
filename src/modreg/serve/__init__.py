"""`modreg serve`: a read-only HTTP JSON API and a plain HTML page over one registry.

For teams that share a registry without everyone cloning it. `routes` maps requests to
answers through `modreg.api`; `pages` renders the HTML; `server` is the standard library's
threading HTTP server. Sits between the CLI and the API: `cli -> serve -> api`.
"""

from __future__ import annotations

from modreg.serve.server import LOOPBACK, is_loopback, make_server

__all__ = ["LOOPBACK", "is_loopback", "make_server"]
