"""``hub package push|deliveries|redrive``: packages to the platform above, dead letters."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from sqlalchemy import select

from hub.cli.common import config_option, fail, format_option, print_json, store_for
from hub.cli.tables import Table
from hub.errors import HubError
from hub.forward import D, DeliveryResult, push_package, redrive


def _report(r: DeliveryResult, out_format: str, receipt_to: Path | None) -> None:
    if receipt_to is not None and r.receipt:
        receipt_to.write_bytes(r.receipt)
    if out_format == "json":
        print_json(r.as_dict())
    else:
        colour = {"delivered": "green", "already": "green", "refused": "red"}.get(r.status, "red")
        Console().print(
            f"package {r.package_id}: [{colour}]{r.status}[/{colour}] after {r.attempts} "
            f"attempt(s), delivery {r.id}" + (f"; {escape(r.error)}" if r.error else ""),
            highlight=False,
        )
    sys.exit(0 if r.status in ("delivered", "already") else 1)


@click.command("push")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option
@format_option
def package_push(file: Path, config_path: Path | None, out_format: str) -> None:
    """Push a signed package to [upstream]; keep its receipt (FILE.upstream-receipt).

    Retries with backoff as the upstream adapter's options say; when they run out the
    package becomes a dead-letter entry (`hub package deliveries --dead`).  Exit status: 0
    delivered, 1 refused by the peer or dead-lettered, 2 configuration or usage error.
    """
    cfg, store = store_for(config_path)
    try:
        r = push_package(cfg, store, file.read_bytes(), file.name)
    except HubError as exc:
        fail(exc)
    finally:
        store.dispose()
    _report(r, out_format, file.with_name(file.name + ".upstream-receipt"))


@click.command("redrive")
@click.argument("delivery", type=int)
@config_option
@format_option
def package_redrive(delivery: int, config_path: Path | None, out_format: str) -> None:
    """Send a dead-lettered package again."""
    cfg, store = store_for(config_path)
    try:
        r = redrive(cfg, store, delivery)
    except HubError as exc:
        fail(exc)
    finally:
        store.dispose()
    _report(r, out_format, None)


@click.command("deliveries")
@click.option("--dead", is_flag=True, help="Only dead-letter entries (retries ran out).")
@config_option
@format_option
def package_deliveries(dead: bool, config_path: Path | None, out_format: str) -> None:
    """Packages pushed upstream: delivered, refused, or dead (with the last error)."""
    _cfg, store = store_for(config_path)
    try:
        with store.read() as conn:
            q = select(D).order_by(D.c.id)
            if dead:
                q = q.where(D.c.status == "dead")
            rows = list(conn.execute(q))
    finally:
        store.dispose()
    if out_format == "json":
        print_json(
            [
                {
                    "delivery": r.id,
                    "package_id": r.package_id,
                    "peer": r.peer,
                    "status": r.status,
                    "attempts": r.attempts,
                    "last_error": r.last_error,
                    "updated_at": r.updated_at.isoformat(),
                }
                for r in rows
            ]
        )
        return
    t = Table(title="deliveries upstream" + (" (dead letters)" if dead else ""))
    for col in ("id", "package", "peer", "status", "attempts", "last error"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r.id), r.package_id, r.peer, r.status, str(r.attempts), r.last_error or "")
    Console().print(t)
