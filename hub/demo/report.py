"""The demo's closing summary: a table per node, and where to look next."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from hub.demo.flow import Demo
from hub.demo.nodes import Node


def _counts(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(d.items()) if v) or "-"


def summary(demo: Demo, console: Console) -> None:
    t = Table(title="every record's fate, per node")
    t.add_column("node")
    for col in ("in", "accepted", "dup.", "held", "rejected", "quar.", "live"):
        t.add_column(col, justify="right")
    for n in demo.nodes:
        f = demo.figures[n.name]
        fa = f.fates
        t.add_row(
            f"{n.title}",
            str(fa["records_in"]) + ("" if f.conserved else " ≠"),
            str(fa["accepted"]),
            str(fa["duplicate"]),
            str(fa["held"]),
            str(fa["rejected"]),
            str(fa["quarantined"]),
            str(f.current),
        )
    console.print(t)
    for n in demo.nodes:
        f = demo.figures[n.name]
        for x in f.forwarded:
            sent = sum(x["records"].values())
            console.print(
                f"  {n.title} → {x['target']}: {sent} record(s) in packages "
                f"{_counts(x['packages'])}; its verdicts: {_counts(x['records'])}",
                highlight=False,
            )
        if f.packages_in:
            console.print(
                f"  {n.title} received signed packages: {_counts(f.packages_in)}",
                highlight=False,
            )
        if f.reasons:
            why = ", ".join(f"{rule} ×{k}" for rule, k in f.reasons)
            console.print(f"  {n.title} did not take records mostly for: {why}", highlight=False)
    prov = demo.figures["province"]
    found = sum(k for _, k in prov.findings)
    console.print(
        f"supervision at the province: {found} open finding(s) of {len(prov.findings)} "
        f"rule(s); the generator planted {demo.planted_findings} (a pattern whose records a "
        "county rejected or still holds cannot be found)",
        highlight=False,
    )
    if demo.pushed:
        console.print(
            "连江's trading system got a signed receipt from its county hub: "
            + _counts(demo.pushed),
            highlight=False,
        )
    _next(demo.nodes, console)


def _next(nodes: list[Node], console: Console) -> None:
    prov = nodes[0]
    cfg = f"--config {prov.config}"
    county = f"--config {nodes[1].config}"
    console.print("\nwhere to look next:", style="bold")
    for line in (
        f"hub forward {county}   # 闽侯's target: packages, the province's verdicts",
        f"hub rejected --limit 5 {county}   # why records were not taken: rule, field, value",
        f"hub findings {cfg}   # what supervision found at the province",
        f"hub stats {cfg}   # the province's libraries, per source",
        f"hub users add admin --role administrator {cfg}   # then:",
        f"hub serve {cfg}   # and sign in at {prov.url}/console/",
    ):
        console.print(f"  {line}", highlight=False, soft_wrap=True)
