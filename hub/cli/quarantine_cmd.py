"""``hub quarantine list|show|replay``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from hub.cli.common import config_option, fail, format_option, print_json, store_for
from hub.cli.groups import SuggestingGroup
from hub.errors import UsageError
from hub.ingest.replay import replay
from hub.sources import mapping_of
from hub.store.models import Quarantine, table

Q = table(Quarantine)


@click.group("quarantine", cls=SuggestingGroup)
def quarantine_group() -> None:
    """Records the hub could not take as they were; raw kept, replayable after a fix."""


@quarantine_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include replayed rows.")
@click.option("--limit", type=int, default=100, show_default=True)
@config_option
@format_option
def list_cmd(show_all: bool, limit: int, config_path: Path | None, out_format: str) -> None:
    """Open quarantine rows, newest first."""
    _, store = store_for(config_path)
    q = (
        select(
            Q.c.id,
            Q.c.status,
            Q.c.source,
            Q.c.dataset,
            Q.c.record_index,
            Q.c.rule,
            Q.c.message,
            Q.c.created_at,
        )
        .order_by(Q.c.id.desc())
        .limit(limit)
    )
    if not show_all:
        q = q.where(Q.c.status == "open")
    with store.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    store.dispose()
    if out_format == "json":
        print_json(rows)
        return
    t = Table(title=f"{len(rows)} quarantined record(s)")
    for col in ("id", "status", "source", "data set", "rec", "rule", "message"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(
            str(r["id"]),
            r["status"],
            r["source"],
            r["dataset"],
            str(r["record_index"]),
            r["rule"],
            r["message"][-120:],
        )
    Console().print(t)


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
        out.print(f"[bold]{k}[/bold]: {data[k]}", highlight=False)
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
            store, list(ids) or None, cfg.ingest, mappings=lambda src: mapping_of(cfg, src)
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
