"""``hub show DATASET KEY`` and ``hub lifecycle CODE``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from hub.cli.common import config_option, fail, format_option, print_json, store_for
from hub.cli.tables import Table
from hub.dictionary.loader import load_dictionary
from hub.errors import UsageError
from hub.query.records import lifecycle, show


@click.command("show")
@click.argument("dataset")
@click.argument("key")
@config_option
@format_option
def show_cmd(dataset: str, key: str, config_path: Path | None, out_format: str) -> None:
    """One record: the current version, its full history and where each version came from.

    KEY is the data set's business key; composite keys are joined with '|'.
    """
    _, store = store_for(config_path)
    try:
        with store.read() as conn:
            data = show(conn, load_dictionary(), dataset, key)
    except UsageError as exc:
        fail(exc)
    finally:
        store.dispose()
    if out_format == "json":
        print_json(data)
        return
    _print_show(data)


def _print_show(data: dict[str, Any]) -> None:
    out = Console()
    cur = data["current"]
    head = f"{data['dataset']} {data['name_cn']} [{data['library']}] key {data['key']}"
    out.print(Text(head, style="bold"))
    if cur is None:
        out.print("no current version (only held or history)")
    else:
        state = "[red]DELETED[/red] " if cur["deleted"] else ""
        state += "[red]CONFLICT[/red] " if cur["conflict"] else ""
        out.print(
            state
            + escape(
                f"current: version id {cur['version_id']}, DATA_TIMESTAMP "
                f"{cur['data_timestamp']}, from {cur['source']}, {cur['versions']} version(s)"
            )
        )
        t = Table(show_header=True)
        t.add_column("field")
        t.add_column("value", overflow="fold")
        for k, v in cur["content"].items():
            t.add_row(k, str(v))
        out.print(t)
        for a in cur.get("attachments", []):
            gone = " (removed)" if a["removed"] else ""
            out.print(
                escape(f"attachment {a['code'] or ''} {a['name'] or ''}{gone}: {a['location']}"),
                highlight=False,
            )
    h = Table(title="history (by DATA_TIMESTAMP)")
    for col in ("version", "op", "DATA_TIMESTAMP", "source", "run", "package", "received"):
        h.add_column(col)
    for v in data["history"]:
        h.add_row(
            str(v["version"]),
            v["op"],
            v["data_timestamp"],
            v["source"],
            str(v["run"]),
            str(v["package"] or ""),
            str(v["received_at"])[:19],
        )
    out.print(h)
    if data["sightings"]:
        out.print("also sent by: " + ", ".join(s["source"] for s in data["sightings"]))
    for u in data.get("upstream", []):
        said = u["outcome"]
        if u["upstream_version"]:
            said += f" as its version {u['upstream_version']}"
        if u["rule"]:
            said += f": {u['rule']} on {u['field']} (value {u['value']!r}) {u['message'] or ''}"
        took = f", {u['seconds']:.1f} s after it arrived here" if u["seconds"] is not None else ""
        out.print(
            escape(
                f"upstream {u['target']}: version {u['version']} sent as {u['op']} in package "
                f"{u['package_id']} line {u['line']}; {said}{took}"
                + ("" if u["newest_here"] else " (a newer version is here; not sent yet)")
            ),
            highlight=False,
        )
    if data.get("disagreements"):
        d = Table(title="sources disagree")
        d.add_column("field")
        d.add_column("values by source", overflow="fold")
        for f, vals in data["disagreements"].items():
            d.add_row(f, "; ".join(f"{s}: {v}" for s, v in vals.items()))
        out.print(d)
    if data.get("entity_claims"):
        e = Table(title="market entity: roles and sources")
        for col in ("role", "source", "data set", "name", "DATA_TIMESTAMP"):
            e.add_column(col)
        for c in data["entity_claims"]:
            e.add_row(c["role"], c["source"], c["dataset"], c["name"] or "", c["data_timestamp"])
        out.print(e)
    if data["holds"]:
        out.print(
            f"{len(data['holds'])} hold(s): "
            + ", ".join(
                f"#{x['id']} {x['status']} waiting for {x['parent_dataset']} {x['parent_key']}"
                for x in data["holds"]
            )
        )


@click.command("lifecycle")
@click.argument("code")
@config_option
@format_option
def lifecycle_cmd(code: str, config_path: Path | None, out_format: str) -> None:
    """A whole transaction across data sets, from a PROJECT_CODE, TENDER_PROJECT_CODE,
    BID_SECTION_CODE or UNIFIED_DEAL_CODE, in the order things happened."""
    _, store = store_for(config_path)
    try:
        with store.read() as conn:
            rows = lifecycle(conn, load_dictionary(), code)
    finally:
        store.dispose()
    if out_format == "json":
        print_json({"code": code, "records": rows})
        return
    if not rows:
        fail(UsageError(f"no current record is linked to {code!r}"), code=1)
    t = Table(title=f"lifecycle of {code}: {len(rows)} record(s)")
    t.add_column("#", justify="right")
    t.add_column("DATA_TIMESTAMP")
    t.add_column("data set", no_wrap=True)
    t.add_column("key", overflow="fold")
    t.add_column("v", justify="right")
    t.add_column("source")
    last_lib = "transactions"
    for i, r in enumerate(rows, 1):
        if r["library"] != last_lib:
            t.add_section()
            last_lib = r["library"]
        name = Text("  " * r["depth"] if r["library"] == "transactions" else f"({r['library']}) ")
        name.append(r["dataset"])
        name.append(" deleted" if r["deleted"] else "", style="red")
        name.append(" conflict" if r["conflict"] else "", style="red")
        t.add_row(
            str(i),
            r["data_timestamp"],
            name,
            r["key"],
            str(r["versions"]),
            r["source"],
        )
    Console().print(t)
