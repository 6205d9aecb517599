"""SIGKILL at random moments of every phase that stores or acknowledges (issue 21): nothing
lost, nothing duplicated, nothing acknowledged without a stored record.

Nodes as `hub demo` makes them (a province, two counties, their TEST PKIs), SQLite stores.
The kills are split over four phases; each kill hits a real `hub` process at a random
moment, which is then started again, as an operator's supervisor would:

  sync     `hub sync` of a county's inbox: raw store, validate, reconcile, acknowledge (the
           file moved to processed/)
  receive  `hub serve` receiving pushed packages: verify, store, sign and send the receipt
           (the client, as a county system does, sends again what got no receipt)
  forward  `hub forward run` to the province: build, sign, seal, send, record the receipt
  worker   three `hub worker --once` processes sharing a queue on one SQLite file: claim,
           ingest, finish (a killed worker is replaced; its claim runs out)

Each phase has a reference: the same inputs through a copy of the node, with no kills (for
forward: the sender's own store).  After the last kill a clean run finishes the work; then
lost = reference versions or current records missing, duplicated = versions or current
records the reference lacks, acknowledged-without-record = files moved, receipts answered,
deliveries marked delivered or queue items done whose records are not all stored; and
`hub db check --deep` on every store.  Exit status 1 if any figure is not 0.

    .venv/bin/python bench/kills.py [--kills 200] [--seed 21] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import killphases
from bench.killkit import Phase


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=200, help="in all, split over the phases")
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here too")
    ap.add_argument("--keep", action="store_true", help="keep the nodes' folders")
    args = ap.parse_args()
    from rich.console import Console
    from rich.table import Table

    from hub.demo.nodes import make_nodes

    out = Path(tempfile.mkdtemp(prefix="bench-kills-"))
    console = Console(width=160)
    console.print(f"nodes in {out}; seed {args.seed}; {args.kills} kills")
    nodes = make_nodes(out / "nodes", __import__("datetime").datetime.now().astimezone())
    per = args.kills // len(killphases.PHASES)
    extra = args.kills - per * len(killphases.PHASES)
    phases: list[Phase] = []
    for i, (name, fn) in enumerate(killphases.PHASES.items()):
        rng = random.Random(f"{args.seed}-{name}")
        t0 = time.monotonic()
        with console.status(f"{name}: {per + (i < extra)} kills"):
            phase = fn(nodes, out / name, rng, per + (i < extra), console)
        phase.seconds = time.monotonic() - t0
        phases.append(phase)
        console.print(
            f"{name}: {phase.kills} kills, {phase.landed} mid-work; lost {phase.lost}, "
            f"duplicated {phase.duplicated}, acknowledged without record "
            f"{phase.acked_unstored}; store sound: {phase.sound} ({phase.seconds:.0f} s)"
        )
    t = Table(title=f"SIGKILL at random moments (seed {args.seed})")
    for col in ("phase", "kills", "mid-work", "records", "lost", "duplicated",
                "acked w/o record", "db check", "recovery s"):  # fmt: skip
        t.add_column(col, justify="left" if col == "phase" else "right")
    for p in phases:
        t.add_row(p.name, str(p.kills), str(p.landed), str(p.records), str(p.lost),
                  str(p.duplicated), str(p.acked_unstored), "sound" if p.sound else "FAILED",
                  f"{p.recovery_s:.1f}")  # fmt: skip
    t.add_row("all", str(sum(p.kills for p in phases)), str(sum(p.landed for p in phases)),
              str(sum(p.records for p in phases)), str(sum(p.lost for p in phases)),
              str(sum(p.duplicated for p in phases)),
              str(sum(p.acked_unstored for p in phases)),
              "sound" if all(p.sound for p in phases) else "FAILED", "")  # fmt: skip
    console.print(t)
    for p in phases:
        for n in p.notes:
            console.print(f"  {p.name}: {n}", markup=False, highlight=False)
    if args.json:
        args.json.write_text(json.dumps([asdict(p) for p in phases], indent=1), "utf-8")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    return 0 if all(p.ok for p in phases) else 1


if __name__ == "__main__":
    sys.exit(main())
