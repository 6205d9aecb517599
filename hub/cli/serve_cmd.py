"""`hub serve`: run the HTTP service (signed packages in, signed receipts out)."""

from __future__ import annotations

from pathlib import Path

import click

from hub.cli.common import config_option, fail, load
from hub.errors import HubError


@click.command("serve")
@click.option("--host", default=None, help="Listen address (default: [http].host).")
@click.option("--port", type=int, default=None, help="Port (default: [http].port).")
@config_option
def serve(host: str | None, port: int | None, config_path: Path | None) -> None:
    """Serve POST /v1/packages: verify, ingest and answer with the signed receipt."""
    from hub.service.app import create_app  # noqa: PLC0415  (the web stack loads only here)
    from hub.service.server import server  # noqa: PLC0415

    cfg = load(config_path)
    try:
        app = create_app(cfg)
    except HubError as exc:
        fail(exc)
    h = cfg.http
    server(app, host or h.host, port or h.port, h.header_timeout_seconds, log_level="info").run()
