"""Several `hub worker` processes on one PostgreSQL against one (issue 18's goal: two workers
at least 1.8 times one).

The same batches (about 100,000 records in 20 files) are queued twice, into two fresh
databases; first one worker, then N workers (`hub worker --once --no-lead`, separate
processes) empty the queue.  Printed: seconds, records/s and the speed-up over one worker,
and the machine's CPU count (the database runs on the same machine: with 2 CPUs, the
workers and PostgreSQL share them).

    .venv/bin/python bench/workers.py [--records 100000] [--workers 2] [--serial]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument(
        "--serial",
        action="store_true",
        help="each worker validates in its own process only ([ingest] parallel_validation = "
        "false): one CPU per worker, so the ratio shows the scale-out itself",
    )
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.pg import fresh_database
    from bench.scratch import scratch
    from hub.config import NodeConfig, StoreSection
    from hub.generate.batch import jsonl_bytes
    from hub.generate.generator import Generator
    from hub.store.engine import open_store
    from hub.work import counts, enqueue

    tmp = scratch("bench-workers-")
    per_file = max(1, args.records // 71 // args.files)
    g = Generator(seed=17)
    batches = [jsonl_bytes(g.batch(per_file)) for _ in range(args.files)]
    n = sum(b.count(b"\n") for b in batches)
    hub = Path(sys.executable).with_name("hub")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    results: list[tuple[int, float]] = []
    for workers in (1, args.workers):
        name = f"hubbench_workers_{workers}"
        url = fresh_database(name)
        data = tmp / name
        store = open_store(NodeConfig(store=StoreSection(url=url, data_dir=data)))
        for i, b in enumerate(batches):
            enqueue(store, b, "county-bench", f"night-{i:02d}.jsonl")
        toml = tmp / f"{name}.toml"
        ingest = "[ingest]\nparallel_validation = false\n" if args.serial else ""
        toml.write_text(f'[store]\nurl = "{url}"\ndata_dir = "{data}"\n{ingest}', "utf-8")
        t = time.perf_counter()
        procs = [
            subprocess.Popen(
                [str(hub), "worker", "--config", str(toml), "--once", "--no-lead"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(tmp / f"{name}-{w}.log").open("wb"),
            )
            for w in range(workers)
        ]
        codes = [p.wait() for p in procs]
        secs = time.perf_counter() - t
        done = counts(store)
        store.dispose()
        if codes != [0] * workers or done != {"done": len(batches)}:
            print(f"{workers} worker(s): exit {codes}, queue {done}; logs in {tmp}")
            return 1
        results.append((workers, secs))
    how = "one process each (--serial)" if args.serial else "each with its validating child"
    print(f"{n:,} records in {len(batches)} batches, PostgreSQL; {os.cpu_count()} CPUs; {how}")
    print(f"{'workers':<10}{'seconds':>9}{'records/s':>12}{'× one':>8}")
    one = results[0][1]
    for workers, secs in results:
        print(f"{workers:<10}{secs:>9.2f}{n / secs:>12,.0f}{one / secs:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
