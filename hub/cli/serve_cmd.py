"""`hub serve`: run the HTTP service (signed packages in, signed receipts out)."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import click

from hub.cli.common import config_option, fail, load
from hub.errors import HubError

LEAD_SECONDS = 60.0  # the leader lease (a `hub worker`'s is its --lease)


@click.command("serve")
@click.option("--host", default=None, help="Listen address (default: [http].host).")
@click.option("--port", type=int, default=None, help="Port (default: [http].port).")
@click.option(
    "--schedules/--no-schedules",
    default=True,
    show_default=True,
    help="Stand for the leader of the processes on this store; the leader runs the "
    "[schedules], the forwarding passes and the alert checks (with --no-schedules this "
    "process checks alerts only).",
)
@click.option(
    "--lease",
    "lease_seconds",
    type=click.FloatRange(min=3),
    default=LEAD_SECONDS,
    show_default=True,
    help="Seconds the leader lease lasts without renewal (renewed every third of it).",
)
@config_option
def serve(
    host: str | None,
    port: int | None,
    schedules: bool,
    lease_seconds: float,
    config_path: Path | None,
) -> None:
    """Serve POST /v1/packages (verify, ingest, answer with the signed receipt) and, while
    this process leads, the scheduled syncs and forwarding; several processes may serve one
    database (one of them, or one `hub worker`, leads at a time)."""
    from hub.schedule.scheduler import Scheduler  # noqa: PLC0415
    from hub.service.app import create_app  # noqa: PLC0415  (the web stack loads only here)
    from hub.service.server import server  # noqa: PLC0415
    from hub.store.engine import open_store  # noqa: PLC0415
    from hub.store.lease import holder_id  # noqa: PLC0415
    from hub.work.worker import Leadership  # noqa: PLC0415

    cfg = load(config_path)
    try:
        app = create_app(cfg)
    except HubError as exc:
        fail(exc)
    h = cfg.http
    store = open_store(cfg, migrate=False)
    keeper: Leadership | None = None
    sched: Scheduler | None = None
    if schedules:  # the schedules run in this process while it holds the leader lease
        keeper = Leadership(cfg, store, holder_id(), lease_seconds)
        keeper.start()
    else:  # alerts are still checked here
        sched = Scheduler(cfg, store, syncs=False)
        sched.start()
    # uvicorn shuts down on SIGTERM, puts the previous handler back and raises the signal
    # again: this handler turns it into a clean exit, so the finally below gives the leader
    # lease back (without it the process died there, and the next leader waited it out)
    signal.signal(signal.SIGTERM, _clean_exit)
    try:
        server(
            app, host or h.host, port or h.port, h.header_timeout_seconds, log_level="info"
        ).run()
    finally:
        if keeper is not None:
            keeper.stop.set()
            keeper.join(30)
        if sched is not None:
            sched.stop()


def _clean_exit(_sig: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)
