"""``hub queue [add]`` and ``hub worker``: batches several hub processes share (hub.work)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from hub.cli.common import config_option, fail, format_option, print_json, store_for
from hub.cli.groups import SuggestingGroup
from hub.cli.tables import Table
from hub.errors import HubError


@click.group("queue", cls=SuggestingGroup, invoke_without_command=True)
@config_option
@format_option
@click.pass_context
def queue_group(ctx: click.Context, /, config_path: Path | None, out_format: str) -> None:
    """Batches waiting for a worker (`hub worker`), being worked on, done or failed."""
    if ctx.invoked_subcommand is not None:
        return
    from hub.work import counts, items  # noqa: PLC0415

    _, store = store_for(config_path)
    try:
        by, rows = counts(store), items(store)
    finally:
        store.dispose()
    if out_format == "json":
        print_json({"counts": by, "items": rows})
        return
    t = Table(title="queue: " + (", ".join(f"{k} {v}" for k, v in sorted(by.items())) or "empty"))
    for col in ("id", "source", "file", "status", "attempts", "worker", "run", "error"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            str(r["id"]),
            r["source"],
            r["name"],
            r["status"],
            str(r["attempts"]),
            r["claimed_by"] or "",
            str(r["run_id"] or ""),
            r["error"] or "",
        )
    Console().print(t)


@queue_group.command("add")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--source", required=True, help="The source system's name (e.g. county-minhou).")
@click.option("--input-format", "fmt", default=None, help="Default: sniffed when ingested.")
@config_option
def queue_add(
    files: tuple[Path, ...], source: str, fmt: str | None, config_path: Path | None
) -> None:
    """Put batch files on the queue (their bytes go to the raw store now); workers ingest them."""
    from hub.work import enqueue  # noqa: PLC0415

    _, store = store_for(config_path)
    try:
        for f in files:
            n = enqueue(store, f.read_bytes(), source, f.name, fmt)
            Console().print(f"queued {f.name} as item {n}", highlight=False)
    except HubError as exc:
        fail(exc)
    finally:
        store.dispose()


@click.command("worker")
@click.option(
    "--lease",
    "lease_seconds",
    type=float,
    default=60,
    show_default=True,
    help="Seconds a claim (and the leader lease) lasts without renewal.",
)
@click.option("--once", is_flag=True, help="Stop when the queue is empty.")
@click.option(
    "--lead/--no-lead",
    default=True,
    show_default=True,
    help="Stand for leader (the leader runs the schedules).",
)
@config_option
def worker_cmd(lease_seconds: float, once: bool, lead: bool, config_path: Path | None) -> None:
    """Ingest batches off the queue; several workers may share one database (PostgreSQL: they
    claim with SKIP LOCKED).  The leader among them also runs the [schedules], forwarding
    and alerts.  Stops on SIGTERM or Ctrl-C after the batch in hand."""
    from hub.work import work  # noqa: PLC0415

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cfg, store = store_for(config_path)
    stop = threading.Event()

    def halt(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, halt)
    signal.signal(signal.SIGINT, halt)
    try:
        done = work(cfg, store, stop, lease=timedelta(seconds=lease_seconds), once=once, lead=lead)
    except HubError as exc:
        fail(exc)
    finally:
        store.dispose()
    Console(stderr=True).print(
        f"worker {done.who}: {len(done.items)} batch(es) done, {len(done.failed)} failed"
        + (", led the schedules" if done.led else ""),
        highlight=False,
    )
    sys.exit(1 if done.failed else 0)
