"""`modreg serve`: serve one registry read-only over HTTP (a JSON API and an HTML page)."""

from __future__ import annotations

from typing import Annotated

import typer

from modreg.cli.app import app
from modreg.cli.options import RegistryOpt, merge_state
from modreg.cli.render import notice, warn


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (default: loopback only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="Port to listen on (0: any free one).")] = 8000,
    registry: RegistryOpt = None,
) -> None:
    """Serve the registry read-only over HTTP: search, entries, history, indexes and reports, as JSON and HTML."""
    from modreg import api
    from modreg.serve import is_loopback, make_server

    state = merge_state(ctx, registry=registry)
    root = api.open_registry(state.registry).root
    try:
        server = make_server(root, host, port, log=None if state.quiet else lambda line: notice(state, line))
    except OSError as error:
        from modreg.errors import UsageError

        raise UsageError(f"modreg cannot listen on {host}:{port} ({error.strerror or error}).",
                         hint="choose another --port (0 picks a free one).") from None
    if not is_loopback(host):
        warn(state, f"serving on {host}: anyone who can reach this address can read the registry.")
    bound_host, bound_port = server.server_address[:2]
    state.err.print(f"serving {root} at http://{bound_host}:{bound_port}/ (read-only; Ctrl-C stops)", markup=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        notice(state, "stopped.")
    finally:
        server.server_close()
