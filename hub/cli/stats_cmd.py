"""``hub stats``: what the store holds, per library, data set and source."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from hub.cli.common import config_option, format_option, print_json, store_for
from hub.cli.tables import Table
from hub.query.stats import stats


@click.command("stats")
@config_option
@format_option
def stats_cmd(config_path: Path | None, out_format: str) -> None:
    """Counts per library, data set and source, issue rates and open work."""
    _, store = store_for(config_path)
    try:
        with store.read() as conn:
            data = stats(conn)
    finally:
        store.dispose()
    if out_format == "json":
        print_json(data)
        return
    out = Console()
    t = Table(title="libraries")
    for col in ("library", "records", "deleted", "conflicts"):
        t.add_column(col, justify="right" if col != "library" else "left")
    for r in data["libraries"]:
        t.add_row(r["library"], str(r["records"]), str(r["deleted"]), str(r["conflicts"]))
    out.print(t)
    s = Table(title="sources")
    cols = ("runs", "records_in", "accepted", "rejected", "quarantined", "held", "duplicate")
    s.add_column("source")
    for c in (*cols, "issue rate"):
        s.add_column(c, justify="right")
    for r in data["sources"]:
        s.add_row(r["source"], *[str(r[c]) for c in cols], f"{r['issue_rate']:.1%}")
    out.print(s)
    d = Table(title="data sets")
    for col in ("data set", "library", "records", "versions", "error issues"):
        d.add_column(col)
    for r in data["datasets"]:
        d.add_row(
            r["dataset"],
            r["library"],
            str(r["records"]),
            str(r["versions"]),
            str(r["error_issues"]),
        )
    out.print(d)
    if data["rules"]:
        out.print(
            "issues by rule: " + ", ".join(f"{r['rule']} {r['issues']}" for r in data["rules"])
        )
    o = data["open"]
    out.print(f"open: {o['quarantine']} quarantined, {o['holds']} held, {o['conflicts']} conflicts")
