"""``hub demo``: three nodes on loopback, a night's data from two counties to the province."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from rich.console import Console

from hub.cli.common import fail
from hub.errors import HubError


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-out"),
    show_default=True,
    help="The folder the three nodes are written to (a second run starts it afresh).",
)
@click.option("--seed", type=int, default=42, show_default=True, help="The generator's seed.")
def demo_cmd(out: Path, seed: int) -> None:
    """Run a county → province cascade on loopback: two counties take a night's data in
    (one from file inboxes, one pushed over HTTP), forward signed packages to the province,
    which verifies, reconciles and judges them; the verdicts come back down.

    Exit status: 0 every node accounted for every record, 1 not, 2 it could not run."""
    from hub.demo import run, summary  # noqa: PLC0415

    console = Console()
    started = time.monotonic()

    def say(text: str) -> None:
        console.print(f"[dim]{time.monotonic() - started:5.1f}s[/dim] {text}", highlight=False)

    try:
        demo = run(out.resolve(), seed, say)
    except HubError as exc:
        fail(exc)
    summary(demo, console)
    console.print(f"\ndone in {time.monotonic() - started:.1f} s; everything is in {out}/")
    sys.exit(0 if all(f.conserved for f in demo.figures.values()) else 1)
