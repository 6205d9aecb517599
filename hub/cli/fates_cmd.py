"""Every record's fate: ``hub runs``, ``hub rejected``, ``hub held``, ``hub conflicts``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from hub.actions import cli_actor, resolve_conflict
from hub.cli.common import config_option, fail, format_option, print_json, store_for
from hub.cli.groups import SuggestingGroup
from hub.cli.pages import cell, list_page, window_options
from hub.cli.tables import Table
from hub.errors import UsageError
from hub.query import conflicts, fates


def _counts(r: dict[str, Any]) -> str:
    return f"{r['records_in']} in: " + ", ".join(
        f"{r[k]} {k}" for k in fates.COUNT_COLS[1:] if r[k]
    )


@click.group("runs", cls=SuggestingGroup, invoke_without_command=True)
@window_options
@config_option
@format_option
@click.pass_context
def runs_group(ctx: click.Context, /, config_path: Path | None, out_format: str, **kw: Any) -> None:
    """Sync runs, newest first: counts and the most frequent reason records were not taken.

    `hub runs show ID` lists the records that run did not take, with rule, field and value."""
    if ctx.invoked_subcommand is not None:
        return
    list_page(
        config_path,
        out_format,
        kw,
        fates.runs,
        "runs",
        [
            ("run", "id"),
            ("started", "started_at"),
            ("source", "source"),
            ("status", "status"),
            ("records", _counts),
            ("top reason", "top_reason"),
            ("origin", lambda r: str(r["origin"])[-60:]),
        ],
        "hub runs",
    )


@runs_group.command("show")
@click.argument("run_id", type=int)
@click.option("--limit", type=click.IntRange(1), default=1000, show_default=True)
@config_option
@format_option
def runs_show(run_id: int, limit: int, config_path: Path | None, out_format: str) -> None:
    """One run: its counts, then every issue of its records (rule, field, value, outcome)."""
    _, store = store_for(config_path)
    try:
        with store.read() as conn:
            d = fates.run_detail(conn, run_id, limit)
    except UsageError as exc:
        fail(exc)
    finally:
        store.dispose()
    if out_format == "json":
        print_json(d)
        return
    out, run = Console(), d["run"]
    out.print(
        Text(
            f"run {run['id']} of {run['source']} ({run['status']}), from {run['origin']}\n"
            f"started {cell(run['started_at'])}, finished {cell(run['finished_at'])}: "
            f"{_counts(run)}" + (f"\nerror: {run['error']}" if run["error"] else "")
        )
    )
    if d["issues"]:
        t = Table(title=f"issues of its records ({d['issues_total']})")
        for c in ("rec", "data set", "key", "field", "rule", "value", "outcome", "message"):
            t.add_column(c, overflow="fold")
        for i in d["issues"]:
            t.add_row(
                cell(i["record_index"]),
                cell(i["dataset"]),
                cell(i["business_key"], 30),
                cell(i["field"]),
                cell(i["rule"]),
                cell(i["value"], 40),
                cell(i["outcome"]),
                cell(i["message"]),
            )
        out.print(t)
        if d["issues_total"] > len(d["issues"]):
            left = d["issues_total"] - len(d["issues"])
            out.print(Text(f"{left} more issue(s): --limit {d['issues_total']} shows them all"))


@click.command("rejected")
@window_options
@click.option("--rule", default=None, help="Only this rule id (e.g. check.uscc).")
@click.option("--dataset", default=None, help="Only this data set.")
@config_option
@format_option
def rejected_cmd(
    rule: str | None, dataset: str | None, config_path: Path | None, out_format: str, **kw: Any
) -> None:
    """Rejected records, newest first: the rule, field and value that rejected each one."""
    list_page(
        config_path,
        out_format,
        kw,
        lambda conn, w: fates.rejected(conn, w, rule, dataset),
        "rejected records' errors",
        [
            ("id", "id"),
            ("arrived", "arrived"),
            ("source", "source"),
            ("run", "run_id"),
            ("rec", "record_index"),
            ("data set", "dataset"),
            ("key", "business_key"),
            ("field", "field"),
            ("rule", "rule"),
            ("value", lambda r: cell(r["value"], 40)),
            ("message", lambda r: r["message"].split(": ", 1)[-1]),
        ],
        "hub rejected",
    )


@click.command("held")
@window_options
@click.option("--all", "show_all", is_flag=True, help="Also holds released or expired.")
@config_option
@format_option
def held_cmd(show_all: bool, config_path: Path | None, out_format: str, **kw: Any) -> None:
    """Held records: valid, waiting for their parent record until a deadline."""
    list_page(
        config_path,
        out_format,
        kw,
        lambda conn, w: fates.held(conn, w, None if show_all else "held"),
        "held records",
        [
            ("id", "id"),
            ("source", "source"),
            ("data set", "dataset"),
            ("key", "business_key"),
            ("waits for", lambda r: f"{r['parent_dataset']} {r['parent_key']}"),
            ("status", "status"),
            ("received", "received_at"),
            ("deadline", "deadline"),
        ],
        "hub held",
    )


@click.group("conflicts", cls=SuggestingGroup, invoke_without_command=True)
@window_options
@click.option("--all", "show_all", is_flag=True, help="Also resolved conflicts.")
@config_option
@format_option
@click.pass_context
def conflicts_group(
    ctx: click.Context, /, show_all: bool, config_path: Path | None, out_format: str, **kw: Any
) -> None:
    """Keys with two different contents at the same DATA_TIMESTAMP (never resolved silently).

    `hub conflicts show ID` compares the versions side by side; `hub conflicts resolve ID
    --take N` makes version N current (audited)."""
    if ctx.invoked_subcommand is not None:
        return
    list_page(
        config_path,
        out_format,
        kw,
        lambda conn, w: conflicts.conflicts(conn, w, None if show_all else "open"),
        "conflicts",
        [
            ("id", "id"),
            ("data set", "dataset"),
            ("key", "business_key"),
            ("DATA_TIMESTAMP", "data_timestamp"),
            ("status", "status"),
            (
                "versions (source)",
                lambda r: ", ".join(f"{v['version_no']} ({v['source']})" for v in r["versions"]),
            ),
            ("fields that differ", lambda r: ", ".join(conflicts.differing_fields(r["versions"]))),
        ],
        "hub conflicts",
    )


@conflicts_group.command("show")
@click.argument("ref")
@config_option
@format_option
def conflicts_show(ref: str, config_path: Path | None, out_format: str) -> None:
    """The tied versions side by side, the fields that differ first.  REF: the conflict's id
    or its record's business key."""
    _, store = store_for(config_path)
    try:
        with store.read() as conn:
            c = conflicts.conflict(conn, conflicts.conflict_id(conn, ref))
    except UsageError as exc:
        fail(exc)
    finally:
        store.dispose()
    if c is None:
        fail(UsageError(f"no conflict {ref}; `hub conflicts --all` lists them"))
    if out_format == "json":
        print_json(c)
        return
    vs = c["versions"]
    t = Table(
        title=f"conflict {c['id']} ({c['status']}): {c['dataset']} {c['business_key']} "
        f"at {c['data_timestamp']}"
    )
    t.add_column("field")
    for v in vs:
        mark = " (current)" if v["current"] else ""
        t.add_column(f"version {v['version_no']}: {v['source']}{mark}", overflow="fold")
    differ = conflicts.differing_fields(vs)
    same = sorted({k for v in vs for k in v["content"]} - set(differ))
    for f in differ:
        t.add_row(Text(f, style="bold red"), *[cell(v["content"].get(f)) for v in vs])
    for f in same:
        t.add_row(cell(f), *[cell(vs[0]["content"].get(f), 60)] * len(vs))
    Console().print(t)
    if c["status"] == "open":
        Console().print(
            Text(f"take one: hub conflicts resolve {c['id']} --take VERSION --note WHY")
        )


@conflicts_group.command("resolve")
@click.argument("ref")
@click.option("--take", "take", type=int, required=True, help="The version number to keep.")
@click.option("--note", default="", help="Why (kept in the audit log).")
@config_option
def conflicts_resolve(ref: str, take: int, note: str, config_path: Path | None) -> None:
    """Make one of the tied versions current and close the conflict (audited).  REF: the
    conflict's id or its record's business key."""
    _, store = store_for(config_path)
    try:
        with store.read() as conn:
            conflict_id = conflicts.conflict_id(conn, ref)
        d = resolve_conflict(store, conflict_id, take, cli_actor(), note)
    except UsageError as exc:
        fail(exc)
    finally:
        store.dispose()
    how = (
        "a newer version is current already; the conflict is closed"
        if d["superseded"]
        else f"version {take} is now current"
    )
    click.echo(f"conflict {conflict_id} resolved: {d['dataset']} {d['key']}: {how}")
