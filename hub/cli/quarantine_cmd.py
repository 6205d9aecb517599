"""``hub quarantine list|show|replay``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from sqlalchemy import select

from hub.actions import cli_actor, discard_quarantine
from hub.cli.common import config_option, fail, format_option, print_json, store_for
from hub.cli.groups import SuggestingGroup
from hub.cli.pages import list_page, window_options
from hub.errors import UsageError
from hub.ingest.replay import replay
from hub.query import fates
from hub.sources import mapping_of
from hub.store.models import Quarantine, table

Q = table(Quarantine)


@click.group("quarantine", cls=SuggestingGroup)
def quarantine_group() -> None:
    """Records the hub could not take as they were; raw kept, replayable after a fix."""


@quarantine_group.command("list")
@window_options
@click.option("--all", "show_all", is_flag=True, help="Include replayed and discarded rows.")
@config_option
@format_option
def list_cmd(show_all: bool, config_path: Path | None, out_format: str, **kw: Any) -> None:
    """Open quarantine rows, newest first, with the whole reason."""
    list_page(
        config_path,
        out_format,
        kw,
        lambda conn, w: fates.quarantine(conn, w, None if show_all else "open"),
        "quarantined records",
        [
            ("id", "id"),
            ("status", lambda r: r["status"] + (f": {r['note']}" if r["note"] else "")),
            ("source", "source"),
            ("data set", "dataset"),
            ("rec", "record_index"),
            ("rule", "rule"),
            ("message", "message"),
        ],
        "hub quarantine list",
    )


@quarantine_group.command("show")
@click.argument("qid", type=int)
@config_option
@format_option
def show_cmd(qid: int, config_path: Path | None, out_format: str) -> None:
    """One quarantined record, with the raw record as received."""
    _, store = store_for(config_path)
    with store.read() as conn:
        row = conn.execute(select(Q).where(Q.c.id == qid)).one_or_none()
    store.dispose()
    if row is None:
        fail(UsageError(f"no quarantine row {qid}; see `hub quarantine list`"))
    data = dict(row._mapping)
    if out_format == "json":
        print_json(data)
        return
    out = Console()
    for k in (
        "id",
        "status",
        "source",
        "dataset",
        "record_index",
        "rule",
        "message",
        "raw_sha256",
        "created_at",
        "resolution",
    ):
        out.print(f"[bold]{k}[/bold]: {escape(str(data[k]))}", highlight=False)
    out.print("[bold]raw record[/bold]:")
    out.print(data["raw_record"], highlight=False, markup=False)


@quarantine_group.command("replay")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "replay_all", is_flag=True, help="Replay every open row.")
@config_option
@format_option
def replay_cmd(
    ids: tuple[int, ...], replay_all: bool, config_path: Path | None, out_format: str
) -> None:
    """Validate and reconcile quarantined records again (after a dictionary or mapping fix)."""
    if not ids and not replay_all:
        fail(UsageError("name quarantine ids to replay, or --all"))
    cfg, store = store_for(config_path)
    try:
        counts, outcomes = replay(
            store,
            list(ids) or None,
            cfg.ingest,
            mappings=lambda src: mapping_of(cfg, src),
            actor=cli_actor(),
        )
    finally:
        store.dispose()
    if out_format == "json":
        print_json({**counts.as_dict(), "outcomes": {str(k): v for k, v in outcomes.items()}})
        return
    out = Console()
    out.print(
        f"replayed {counts.records_in}: {counts.accepted} accepted, {counts.rejected} rejected, "
        f"{counts.quarantined} still quarantined, {counts.held} held, "
        f"{counts.duplicate} duplicate"
    )


@quarantine_group.command("discard")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--reason", required=True, help="Why these are not to be taken (audited).")
@config_option
def discard_cmd(ids: tuple[int, ...], reason: str, config_path: Path | None) -> None:
    """Close quarantine rows without taking them; the raw record stays as evidence."""
    _, store = store_for(config_path)
    try:
        done = discard_quarantine(store, list(ids), reason, cli_actor())
    except UsageError as exc:
        fail(exc)
    finally:
        store.dispose()
    click.echo(f"discarded {len(done)} quarantine row(s): {', '.join(map(str, done))}")
