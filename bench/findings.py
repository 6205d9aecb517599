"""Supervision findings against ingest time (issue 20's goal: under a quarter of it).

One run of `hub generate` (about 100,000 records, every statutory timeline kept), then in one
process, on one store: the ingest of that batch (the baseline), and ``findings.check`` over
the records that run wrote (the incremental evaluation ``hub serve`` does each minute), and a
full re-evaluation (``hub findings check --all``).  Printed: seconds, records/s and the ratio
of each to the ingest.  ``--history N`` first ingests N earlier nights of the same generator
(untimed), so the measured run lands in a store that already holds them: what grows with the
store shows there.  ``--repeat K`` does it all K times, each on a fresh store, and judges the
goal by the median ratio (on this 2-vCPU machine one PostgreSQL round differs from the next
by up to half: the database's own background work after a 100,000-row load competes).

    .venv/bin/python bench/findings.py [--records 100000] [--pg] [--history N] [--repeat K]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path


def one_round(args: argparse.Namespace) -> tuple[float, float, float, int]:
    """(ingest, findings of the run, everything) seconds and the findings opened, printed."""
    from bench.scratch import scratch
    from hub.config import NodeConfig, StoreSection
    from hub.generate.batch import write_batch
    from hub.generate.generator import Generator
    from hub.ingest.pipeline import ingest_file
    from hub.store.engine import open_store
    from hub.supervise.findings import check

    tmp = scratch("bench-findings-")
    url = f"sqlite:///{tmp / 'hub.db'}"
    if args.pg:
        from bench.pg import fresh_database

        url = fresh_database("hubbench_findings")
    store = open_store(NodeConfig(store=StoreSection(url=url, data_dir=tmp / "data")))
    per_transaction = 71  # records per generated transaction, every library included
    size = max(1, args.records // per_transaction)
    g = Generator(seed=17)  # one market night after night, its codes running on
    for i in range(args.history):
        earlier = tmp / f"night-{i + 1}.jsonl"
        write_batch(g.batch(size), earlier, "jsonl")
        ingest_file(store, earlier, "county-bench")
    if args.history:
        check(store)
    recs = g.batch(size)
    batch = tmp / "night.jsonl"
    n = write_batch(recs, batch, "jsonl")
    t = time.perf_counter()
    res = ingest_file(store, batch, "county-bench")
    ingest = time.perf_counter() - t
    t = time.perf_counter()
    got = check(store)
    incremental = time.perf_counter() - t
    t = time.perf_counter()
    full = check(store, full=True)
    whole = time.perf_counter() - t
    store.dispose()
    where = "PostgreSQL" if args.pg else "SQLite"
    held = f", into a store holding {args.history} earlier night(s)" if args.history else ""
    print(f"{n:,} records ({res.counts.accepted:,} accepted) on {where}{held}")
    print(f"{'step':<34}{'seconds':>9}{'records/s':>12}{'× ingest':>10}")
    for name, secs in (
        ("baseline: ingest", ingest),
        (f"findings of the run ({got.looked:,} checks)", incremental),
        (f"findings, everything ({full.looked:,} checks)", whole),
    ):
        print(f"{name:<34}{secs:>9.2f}{n / secs:>12,.0f}{secs / ingest:>10.2f}")
    print(f"findings: {got.opened} (a generated batch keeps the law: expected 0)")
    return ingest, incremental, whole, got.opened


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--pg", action="store_true", help="on the local PostgreSQL, not SQLite")
    ap.add_argument("--history", type=int, default=0, help="earlier nights in the store first")
    ap.add_argument("--repeat", type=int, default=1, help="rounds, each on a fresh store")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    rounds = []
    for k in range(args.repeat):
        if args.repeat > 1:
            print(f"-- round {k + 1} of {args.repeat}")
        rounds.append(one_round(args))
    run = statistics.median(r[1] / r[0] for r in rounds)
    whole = statistics.median(r[2] / r[0] for r in rounds)
    if args.repeat > 1:
        each = ", ".join(f"{r[1] / r[0]:.2f}" for r in rounds)
        print(f"median of {args.repeat} rounds: findings of the run {run:.2f} × the ingest "
              f"(each: {each}); everything {whole:.2f} ×")  # fmt: skip
    ok = run < 0.25 and all(r[3] == 0 for r in rounds)
    print("goal (under a quarter of the ingest):", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
