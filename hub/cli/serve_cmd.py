"""`hub serve`: run the HTTP service (signed packages in, signed receipts out)."""

from __future__ import annotations

from pathlib import Path

import click

from hub.cli.common import config_option, fail, load
from hub.errors import HubError


@click.command("serve")
@click.option("--host", default=None, help="Listen address (default: [http].host).")
@click.option("--port", type=int, default=None, help="Port (default: [http].port).")
@click.option(
    "--schedules/--no-schedules",
    default=True,
    show_default=True,
    help="Run the [schedules] of the configuration in this process too "
    "(alerts are checked either way).",
)
@config_option
def serve(host: str | None, port: int | None, schedules: bool, config_path: Path | None) -> None:
    """Serve POST /v1/packages (verify, ingest, answer with the signed receipt) and run the
    scheduled syncs; several processes may serve one database (a sync runs once at a time)."""
    from hub.schedule.scheduler import Scheduler  # noqa: PLC0415
    from hub.service.app import create_app  # noqa: PLC0415  (the web stack loads only here)
    from hub.service.server import server  # noqa: PLC0415
    from hub.store.engine import open_store  # noqa: PLC0415

    cfg = load(config_path)
    try:
        app = create_app(cfg)
    except HubError as exc:
        fail(exc)
    h = cfg.http
    # the scheduler also runs the alert check, so it runs with --no-schedules too
    sched = Scheduler(cfg, open_store(cfg, migrate=False), syncs=schedules)
    sched.start()
    try:
        server(
            app, host or h.host, port or h.port, h.header_timeout_seconds, log_level="info"
        ).run()
    finally:
        sched.stop()
