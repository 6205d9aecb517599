"""``hub sync SOURCE...``: pull what is new from configured sources into the store."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from hub.cli.common import config_option, fail, format_option, print_json, progress, store_for
from hub.cli.tables import Table
from hub.config import NodeConfig
from hub.errors import HubError
from hub.interfaces import Batch
from hub.store.engine import Store
from hub.sync import SyncReport, sync_source


@click.command("sync")
@click.argument("sources", nargs=-1)
@click.option("--all", "all_sources", is_flag=True, help="Every configured source.")
@click.option("--limit", type=int, default=None, help="At most this many batches per source.")
@config_option
@format_option
def sync_cmd(
    sources: tuple[str, ...],
    all_sources: bool,
    limit: int | None,
    config_path: Path | None,
    out_format: str,
) -> None:
    """Pull new batches from sources (adapter + mapping from the configuration), store,
    validate and reconcile them; acknowledge each batch only after its commit.

    Exit status: 0 every batch taken, 1 a batch was refused whole or a transient fault
    stopped a source (run again later: nothing committed is lost), 2 configuration error.
    """
    cfg, store = store_for(config_path)
    names = sorted(cfg.sources) if all_sources else list(sources)
    if not names:
        fail(HubError("name a source (`hub sync county-a`) or use --all"))
    err = Console(stderr=True)
    reports: list[SyncReport] = []
    try:
        for name in names:
            reports.append(_sync_one(cfg, store, name, limit, err))
    except HubError as exc:
        fail(exc)
    finally:
        store.dispose()
    if out_format == "json":
        print_json([r.as_dict() for r in reports])
    else:
        _print(reports)
    sys.exit(0 if all(r.ok for r in reports) else 1)


def _sync_one(
    cfg: NodeConfig, store: Store, name: str, limit: int | None, err: Console
) -> SyncReport:
    with progress(err) as prog:
        task = prog.add_task(name, total=None)

        def on_batch(b: Batch) -> None:
            prog.update(task, description=f"{name}: {b.name}")

        return sync_source(
            cfg,
            store,
            name,
            limit=limit,
            on_batch=on_batch,
            on_progress=lambda n: prog.advance(task, n),
        )


def _print(reports: list[SyncReport]) -> None:
    out = Console()
    for r in reports:
        t = Table(title=f"sync {r.source}: cursor {r.cursor_before!r} → {r.cursor_after!r}")
        for col in ("batch", "status", "in", "accepted", "rejected", "quar.", "held", "dup."):
            t.add_column(col, justify="left" if col in ("batch", "status") else "right")
        for b in r.batches:
            c = b.counts
            styles = {"done": ("done", "green"), "failed": ("refused", "red")}
            word, style = styles.get(b.status, (b.status, ""))
            status = Text(word, style=style)
            t.add_row(
                b.name,
                status,
                *(
                    [
                        str(getattr(c, k))
                        for k in (
                            "records_in",
                            "accepted",
                            "rejected",
                            "quarantined",
                            "held",
                            "duplicate",
                        )
                    ]
                    if c
                    else [""] * 6
                ),
            )
        if r.batches:
            out.print(t)
        for b in r.batches:
            if b.error:
                out.print(f"  [red]{escape(str(b.code))}[/red] {escape(f'{b.name}: {b.error}')}")
            if b.receipt:
                what = f"package {b.package}" if b.package else "refused package"
                out.print(
                    f"  {b.name}: {what}; signed receipt at {b.receipt}",
                    highlight=False,
                    markup=False,
                )
        if not r.batches:
            out.print(f"sync {r.source}: nothing new", highlight=False, markup=False)
        if r.counts.released:
            out.print(
                f"  {r.counts.released} held record(s) were released when their parents arrived"
            )
        if r.error:
            out.print(
                f"  [red]stopped[/red] {escape(r.error)}; the next run resumes from the cursor"
            )
