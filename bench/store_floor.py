"""The write floor of the hub's store: what its rows cost SQLite before any reconcile logic.

``bench/ingest.py`` asks the hub to reach half the bare baseline's records/s.  This measures
how close any reconcile could get with the store as it is: the rows a first load of the same
generated records produces (record_version, current_record, record_ref, entity_claim, from the
hub's own ``prepare``), written through the hub's own statements (``hub.store.bulk``) into a
fresh store made by its migrations, chunk by chunk with a commit each, as ingest does; but no
lookups, no decisions, no validation.  Next to it, in the same run: the bare baseline's
table written alone, and the bare baseline end to end (parse, validate, insert).

The last line is the ceiling: bare end to end / hub write floor, the best ratio a hub with
free reconcile and validation (on other cores) could reach against the bare baseline.

    .venv/bin/python bench/store_floor.py --records 100000
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson


def hub_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The rows a first load writes, per table, in file order (ids from 1)."""
    from hub.dictionary import load_dictionary
    from hub.reconcile.keys import key_plans
    from hub.reconcile.prepare import prepare

    plans = key_plans(load_dictionary())
    versions: dict[tuple[str, str, str], tuple[Any, ...]] = {}
    current: dict[tuple[str, str], tuple[Any, ...]] = {}
    refs: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    claims: dict[tuple[str, ...], tuple[Any, ...]] = {}
    for index, line in enumerate(path.read_bytes().splitlines(), start=1):
        obj = orjson.loads(line)
        ds, fields = obj["dataset"], obj["record"]
        p = prepare(plans[ds], {k: v for k, v in fields.items() if v is not None}, obj.get("op"))
        if p is None or (ds, p.key, p.hash) in versions:
            continue
        vid = len(versions) + 1
        versions[ds, p.key, p.hash] = (
            vid, ds, p.key, 1, p.op, p.content, p.hash, p.ts, "bench",
            None, None, None, 1, "0" * 64, index, "2026-11-22 00:00:00.000000",
        )  # fmt: skip
        current[ds, p.key] = (
            ds, p.key, plans[ds].library, vid, p.ts, p.hash, False, False, 1, "bench",
            "2026-11-22 00:00:00.000000",
        )  # fmt: skip
        refs[ds, p.key] = [(ds, p.key, f, v) for f, v in p.links]
        for code, role, name in p.claims:
            claims[code, role, "bench", ds] = (code, role, "bench", ds, name, vid, p.ts)
    return {
        "record_version": list(versions.values()),
        "current_record": list(current.values()),
        "record_ref": [r for rs in refs.values() for r in rs],
        "entity_claim": list(claims.values()),
    }


def write_floor(rows: dict[str, list[tuple[Any, ...]]], data_dir: Path, chunk: int) -> Any:
    from sqlalchemy import insert

    from hub.config import NodeConfig, StoreSection
    from hub.ingest.chunk import CLAIM_COLS, CURRENT_COLS, REF_COLS, VERSION_COLS
    from hub.store.bulk import Bulk
    from hub.store.engine import open_store
    from hub.store.models import SyncRun

    cols = {
        "record_version": VERSION_COLS,
        "current_record": CURRENT_COLS,
        "record_ref": REF_COLS,
        "entity_claim": CLAIM_COLS,
    }
    url = f"sqlite:///{data_dir / 'floor.db'}"
    store = open_store(NodeConfig(store=StoreSection(url=url, data_dir=data_dir)))
    spent: dict[str, float] = defaultdict(float)
    with store.write() as conn:
        conn.execute(
            insert(SyncRun).values(
                id=1, source="bench", origin="bench", status="running",
                started_at=datetime.now(UTC),
            )
        )  # fmt: skip
    # chunk k of every table: the versions with ids k*chunk+1.. and the rows that go with them
    parts: list[dict[str, list[tuple[Any, ...]]]] = [
        defaultdict(list) for _ in range(0, len(rows["record_version"]), chunk)
    ]
    vid_of = {(r[0], r[1]): r[3] for r in rows["current_record"]}
    version_of: dict[str, Callable[[tuple[Any, ...]], int]] = {
        "record_version": lambda r: r[0],
        "current_record": lambda r: r[3],
        "record_ref": lambda r: vid_of[r[0], r[1]],
        "entity_claim": lambda r: r[5],
    }
    for table, tr in rows.items():
        vid = version_of[table]
        for r in tr:
            parts[(vid(r) - 1) // chunk][table].append(r)
    t_all = time.perf_counter()
    for part in parts:
        with store.write() as conn:
            db = Bulk(conn)
            for table, tr in part.items():
                t = time.perf_counter()
                db.insert(table, cols[table], tr, copy=True)
                spent[table] += time.perf_counter() - t
            t_commit = time.perf_counter()
        spent["commit"] += time.perf_counter() - t_commit
    spent["all"] = time.perf_counter() - t_all
    store.dispose()
    return spent


def bare_floor(path: Path, url: str) -> tuple[float, float]:
    """(the bare baseline end to end, its inserts alone) in seconds."""
    from ingest import bare_table, run_bare  # type: ignore[import-not-found]  # bench/ on path
    from sqlalchemy import MetaData, create_engine

    t = time.perf_counter()
    run_bare(path, url)
    whole = time.perf_counter() - t
    md = MetaData()
    table = bare_table(md, "bare_again")
    engine = create_engine(url)
    md.create_all(engine)
    rows = [
        {"dataset": (o := orjson.loads(line))["dataset"], "content": orjson.dumps(o["record"])}
        for line in path.read_bytes().splitlines()
    ]
    t = time.perf_counter()
    with engine.begin() as conn:
        for start in range(0, len(rows), 2000):
            conn.execute(table.insert(), rows[start : start + 2000])
    return whole, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=2000)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from ingest import make_file

    from bench.scratch import scratch

    tmp = scratch("bench-floor-")
    file = tmp / "batch.jsonl"
    make_file(file, args.records, args.seed)
    rows = hub_rows(file)
    spent = write_floor(rows, tmp / "hub", args.chunk)
    bare_whole, bare_insert = bare_floor(file, f"sqlite:///{tmp / 'bare.db'}")
    print(f"{args.records:,} generated records on SQLite, chunks of {args.chunk}, one run")
    print(f"{'what':<46}{'rows':>9}{'seconds':>9}")
    for table in ("record_version", "current_record", "record_ref", "entity_claim"):
        print(f"{'hub ' + table:<46}{len(rows[table]):>9,}{spent[table]:>9.2f}")
    print(f"{'hub commits':<46}{'':>9}{spent['commit']:>9.2f}")
    print(f"{'hub write floor (all of the above)':<46}{'':>9}{spent['all']:>9.2f}")
    print(f"{'bare inserts alone (dataset, content)':<46}{args.records:>9,}{bare_insert:>9.2f}")
    print(f"{'bare end to end (parse, validate, insert)':<46}{args.records:>9,}{bare_whole:>9.2f}")
    print(
        f"ceiling of hub / bare with free reconcile and validation: "
        f"{bare_whole / spent['all']:.2f}  (goal 0.50)"
    )


if __name__ == "__main__":
    main()
