"""``hub ingest PATH --source NAME``: store, validate and reconcile one batch file."""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from hub.cli.common import config_option, fail, format_option, print_json, progress, store_for
from hub.cli.tables import Table
from hub.errors import ConfigError, HubError, InputError
from hub.ingest.outcome import Outcome, Verdict
from hub.ingest.pipeline import RunResult, ingest_file
from hub.mapping import load_mapping
from hub.query import fates
from hub.sources import mapping_of
from hub.validation.sniff import FORMATS

SHOW_BAR_FROM = 1 << 20  # bytes


def _count_lines(path: Path) -> int | None:
    """Records in a JSONL file (one per line): a fast count that makes the bar honest."""
    if path.suffix.lower() not in (".jsonl", ".ndjson"):
        return None
    n = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            n += block.count(b"\n")
    return n


@click.command("ingest")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", required=True, help="The source system's name (e.g. county-minhou).")
@click.option("--input-format", type=click.Choice(FORMATS), default=None, help="Default: sniffed.")
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The file is a source system's own export: map it with this TOML mapping "
    "(default: the source's mapping in the configuration, if it has one).",
)
@config_option
@format_option
def ingest(
    path: Path,
    source: str,
    input_format: str | None,
    mapping_path: Path | None,
    config_path: Path | None,
    out_format: str,
) -> None:
    """Store the raw file, validate every record and reconcile it into the store.

    Every record ends accepted, rejected (coded), quarantined (raw kept), held (waiting for
    its parent) or duplicate.  Exit status: 0 nothing rejected or quarantined, 1 some were,
    2 the file cannot be read at all or a usage/configuration error.
    """
    cfg, store = store_for(config_path)
    try:
        mapping = load_mapping(mapping_path) if mapping_path else mapping_of(cfg, source)
    except ConfigError as exc:
        fail(exc)
    err = Console(stderr=True)
    rejected: Counter[str] = Counter()

    def on_verdict(v: Verdict) -> None:
        if v.outcome in (Outcome.REJECTED, Outcome.QUARANTINED):
            rejected[f"{v.outcome.value}: {v.rule}"] += 1

    show_bar = err.is_terminal and path.stat().st_size >= SHOW_BAR_FROM
    try:
        with progress(err) if show_bar else contextlib.nullcontext() as prog:
            task = prog.add_task(path.name, total=_count_lines(path)) if prog else None
            result = ingest_file(
                store,
                path,
                source,
                fmt=input_format,
                settings=cfg.ingest,
                on_progress=(lambda n: prog.advance(task, n))
                if prog and task is not None
                else None,
                on_verdict=on_verdict,
                mapping=mapping,
            )
    except InputError as exc:
        store.dispose()
        if out_format == "json":
            print_json({"error": str(exc), "code": exc.code})
        fail(exc)
    except HubError as exc:
        store.dispose()
        fail(exc)
    with store.read() as conn:
        earlier = fates.earlier_runs(conn, result.raw_sha256, result.run_id)
    store.dispose()
    if out_format == "json":
        print_json({**result.as_dict(), "earlier_runs": earlier})
    else:
        _print(result, rejected, earlier)
    c = result.counts
    sys.exit(1 if c.rejected or c.quarantined else 0)


def _print(result: RunResult, rejected: Counter[str], earlier: list[int]) -> None:
    out = Console()
    c = result.counts
    t = Table(title=f"run {result.run_id}: {result.origin} from {result.source}")
    for col in ("records in", "accepted", "rejected", "quarantined", "held", "duplicate"):
        t.add_column(col, justify="right")
    t.add_row(
        str(c.records_in),
        Text(str(c.accepted), style="green"),
        Text(str(c.rejected), style="red" if c.rejected else ""),
        Text(str(c.quarantined), style="red" if c.quarantined else ""),
        Text(str(c.held), style="yellow" if c.held else ""),
        str(c.duplicate),
    )
    out.print(t)
    if c.released:
        out.print(f"{c.released} record(s) held earlier were released by parents in this run")
    if result.expired_holds:
        out.print(f"{result.expired_holds} hold(s) passed their deadline and were quarantined")
    if rejected:
        r = Table(title="why records were not taken")
        r.add_column("outcome: rule")
        r.add_column("records", justify="right")
        for k, n in rejected.most_common():
            r.add_row(k, str(n))
        out.print(r)
        out.print(
            f"details: hub runs show {result.run_id} (each record's rule, field and value), "
            "hub rejected, hub held, hub quarantine list",
            highlight=False,
        )
    if earlier:
        out.print(
            f"the same file arrived before (run {', '.join(map(str, earlier))}): what it "
            "added is duplicate now; its rejected and held records were judged again, and "
            "`hub stats` counts them once",
            highlight=False,
        )
