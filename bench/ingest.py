"""End-to-end ingest throughput and peak memory: the hub against a bare baseline and dlt.

Contenders, on the same generated JSONL file, into the same database engine, each in a
fresh process (so peak RSS is its own) and a fresh database:

  bare  orjson per line + the data set's compiled jsonschema-rs validator + SQLAlchemy Core
        executemany of (dataset, content) rows, 2,000 at a time; no reconcile, no rules
  dlt   dlt.pipeline(...).run() of the same records, one table per data set
  hub   hub.ingest.pipeline.ingest_file: raw stored, full validation, reconcile, versions,
        current view, link refs, issues, cursor, audit (the real thing)

    .venv/bin/pip install -e '.[bench]'      # dlt, only for this benchmark
    .venv/bin/python bench/ingest.py --records 100000 --db sqlite postgresql
    .venv/bin/python bench/ingest.py --records 1000000 --db sqlite --only hub   # memory
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

PG_ADMIN = os.environ.get("HUB_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CONTENDERS = ("bare", "dlt", "hub")


def make_file(path: Path, n: int, seed: int) -> None:
    from hub.generate.batch import jsonl_bytes
    from hub.generate.generator import Generator

    gen = Generator(seed=seed)
    written = 0
    with path.open("wb") as out:
        while written < n:
            recs = gen.batch(50)[: n - written]
            out.write(jsonl_bytes(recs))
            written += len(recs)


# -- workers (each runs in its own process) ------------------------------------------------
def bare_table(md: Any, name: str) -> Any:
    """The bare baseline's one table: (id, dataset, content), no index."""
    from sqlalchemy import Column, Integer, String, Table, Text

    return Table(
        name,
        md,
        Column("id", Integer, primary_key=True),
        Column("dataset", String(64)),
        Column("content", Text),
    )


def run_bare(path: Path, url: str) -> int:
    import jsonschema_rs
    import orjson
    from sqlalchemy import MetaData, create_engine

    from hub.dictionary.paths import generated_dir

    jdir = generated_dir() / "json"
    validators = {
        p.name.split(".")[0]: jsonschema_rs.validator_for(json.loads(p.read_text()))
        for p in jdir.glob("*.schema.json")
        if p.name not in ("batch.schema.json", "record.schema.json")
    }
    md = MetaData()
    t = bare_table(md, "bare_record")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    md.create_all(engine)
    n, rows = 0, []
    with path.open("rb") as fh, engine.begin() as conn:
        for line in fh:
            obj = orjson.loads(line)
            if validators[obj["dataset"]].is_valid(obj["record"]):
                rows.append(
                    {"dataset": obj["dataset"], "content": orjson.dumps(obj["record"]).decode()}
                )
            n += 1
            if len(rows) >= 2000:
                conn.execute(t.insert(), rows)
                rows = []
        if rows:
            conn.execute(t.insert(), rows)
    return n


def run_dlt(path: Path, url: str) -> int:
    import dlt
    import orjson

    count = 0

    @dlt.resource(table_name=lambda item: item["_dataset"].lower(), write_disposition="append")
    def records() -> Any:
        nonlocal count
        with path.open("rb") as fh:
            for line in fh:
                obj = orjson.loads(line)
                count += 1
                yield {"_dataset": obj["dataset"], **obj["record"]}

    if url.startswith("sqlite"):
        dest = dlt.destinations.sqlalchemy(credentials=url)
    else:
        # dlt insists on a password; the local server trusts loopback, so any will do
        dest = dlt.destinations.postgres(credentials=url.replace("postgres@", "postgres:bench@"))
    workdir = tempfile.mkdtemp(prefix="dlt-", dir=path.parent)  # in the bench's scratch
    pipe = dlt.pipeline(
        pipeline_name=f"bench_{uuid.uuid4().hex[:8]}",
        destination=dest,
        dataset_name="bench",
        pipelines_dir=workdir,
    )
    pipe.run(records())
    return count


def run_hub(path: Path, url: str, data_dir: Path) -> int:
    from hub.config import IngestSection, NodeConfig, StoreSection
    from hub.ingest.pipeline import ingest_file
    from hub.store.engine import open_store

    cfg = NodeConfig(
        store=StoreSection(url=url, data_dir=data_dir),
        ingest=IngestSection(chunk_records=2000),
    )
    store = open_store(cfg)
    res = ingest_file(store, path, "bench", settings=cfg.ingest)
    assert res.counts.conserved
    return res.counts.records_in


def worker(args: argparse.Namespace) -> None:
    path, url = Path(args.file), args.url
    t0 = time.perf_counter()
    if args.worker == "bare":
        n = run_bare(path, url)
    elif args.worker == "dlt":
        n = run_dlt(path, url)
    else:
        n = run_hub(path, url, Path(args.data_dir))
    secs = time.perf_counter() - t0
    # peak RSS of this process plus the largest child's (the hub validates large inputs in
    # a forked child): an upper bound on the two together, counted alike for every contender
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_kb += resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"records": n, "seconds": secs, "peak_mb": rss_kb / 1024}))


# -- the orchestrator --------------------------------------------------------------------------
def fresh_db(kind: str, tmp: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        p = tmp / f"{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{p}", lambda: None
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", drop


def measure(who: str, file: Path, kind: str, tmp: Path) -> dict[str, Any]:
    url, drop = fresh_db(kind, tmp)
    try:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--worker",
                who,
                "--file",
                str(file),
                "--url",
                url,
                "--data-dir",
                str(tmp / f"hub-{uuid.uuid4().hex[:6]}"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        drop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    ap.add_argument("--only", nargs="+", choices=CONTENDERS, default=list(CONTENDERS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--worker", choices=CONTENDERS)
    ap.add_argument("--file")
    ap.add_argument("--url")
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    from bench.scratch import scratch

    tmp = scratch("bench-ingest-")
    file = tmp / "batch.jsonl"
    make_file(file, args.records, args.seed)
    mb = file.stat().st_size / 1e6
    print(
        f"{args.records:,} generated JSONL records ({mb:,.0f} MB), each contender in a fresh "
        "process and a fresh database"
    )
    print(f"{'db':<11}{'contender':<10}{'records/s':>11}{'peak MB':>9}{'vs bare':>9}{'vs dlt':>8}")
    for kind in args.db:
        res = {who: measure(who, file, kind, tmp) for who in args.only}
        rate = {w: r["records"] / r["seconds"] for w, r in res.items() if "error" not in r}
        for who, r in res.items():
            if "error" in r:
                print(f"{kind:<11}{who:<10}  failed: {r['error']}")
                continue
            vs_bare = f"{rate[who] / rate['bare']:.2f}" if "bare" in rate else "-"
            vs_dlt = f"{rate[who] / rate['dlt']:.2f}" if "dlt" in rate else "-"
            print(
                f"{kind:<11}{who:<10}{rate[who]:>11,.0f}{r['peak_mb']:>9,.0f}{vs_bare:>9}{vs_dlt:>8}"
            )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
