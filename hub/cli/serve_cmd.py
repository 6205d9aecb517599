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
    import uvicorn  # noqa: PLC0415  (the web stack loads only for this command)

    from hub.service.app import create_app  # noqa: PLC0415

    cfg = load(config_path)
    try:
        app = create_app(cfg)
    except HubError as exc:
        fail(exc)
    uvicorn.run(app, host=host or cfg.http.host, port=port or cfg.http.port, log_level="info")
