"""Console latency with a million record versions in PostgreSQL (issue 17).

Fills a fresh database ``hubbench_console`` on the local PostgreSQL with generated rows, in
SQL (generate_series), shaped like a province's store after some years: 1,000,000 versions
of 400,000 records in 8 data sets from 40 county sources over 4,000 runs, their link codes,
60,000 issue rows, 20,000 open quarantine rows.  Then serves the hub's app on uvicorn on
loopback, signs in once, and times over HTTP, 30 times each (after 3 warm-up requests):

- the sources page            GET /console/
- a record search             GET /console/find?q=<a project code>
- a record's page             GET /console/records/PROJECT/<code>
- the quarantine page         GET /console/quarantine        (and a page deep in it)
- rejected, runs of a source  GET /console/rejected, /console/sources/<name>

Baseline, in the same run and server: GET /healthz (the HTTP and framework floor, no store).
Printed: median and 95th percentile in ms, the ratio of each median to the baseline's, and
each against the goal (300 ms).

    .venv/bin/python bench/console.py [--versions 1000000] [--keep]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psycopg

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DB = "hubbench_console"
GOAL_MS = 300.0
DATASETS = ("PROJECT", "TENDER_PROJECT", "SECTION", "TENDER_NOTICE", "BID_OPENING_RECORD",
            "WIN_RESULT_ANNO", "CONTRACT_PERFORMANCE", "EVALUATION_REPORT")  # fmt: skip


def fill(url: str, versions: int) -> None:
    """Generated rows, in SQL: runs, versions, current records, link codes, issues, quarantine."""
    records = versions * 2 // 5
    sql = f"""
    INSERT INTO sync_run (source, origin, status, started_at, finished_at, records_in, accepted,
                          rejected, quarantined, held, duplicate, released)
    SELECT 'county-' || lpad((g % 40)::text, 2, '0'), 'files:/inbox/' || g, 'done',
           now() - (4000 - g) * interval '1 hour', now() - (4000 - g) * interval '1 hour'
           + interval '40 seconds', 280, 250, 15, 5, 5, 5, 0
    FROM generate_series(1, 4000) g;

    INSERT INTO record_version (dataset, business_key, version_no, op, content, content_hash,
        data_timestamp, source, run_id, record_index, received_at)
    SELECT d.ds, 'E' || lpad((g % {records})::text, 16, '0'), g / {records} + 1,
           CASE WHEN g < {records} THEN 'add' ELSE 'modify' END,
           '{{"PROJECT_CODE": "E' || lpad((g % {records} / 8)::text, 16, '0')
             || '", "PROJECT_NAME": "青山县第' || g || '号道路维修工程", "AMOUNT": "' || g
             || '.00"}}',
           md5(g::text) || md5((g + 1)::text),
           to_char(timestamp '2024-01-01' + g * interval '1 minute', 'YYYYMMDDHH24MISS'),
           'county-' || lpad((g % 40)::text, 2, '0'), 1 + g % 4000, g % 280,
           now() - (4000 - g % 4000) * interval '1 hour'
    FROM generate_series(0, {versions - 1}) g
    JOIN (SELECT ds, ordinality - 1 AS i FROM unnest(ARRAY{list(DATASETS)}) WITH ORDINALITY ds)
         d ON d.i = g % {records} % 8;

    INSERT INTO current_record (dataset, business_key, library, version_id, data_timestamp,
        content_hash, deleted, conflict, versions, source, updated_at)
    SELECT DISTINCT ON (dataset, business_key) dataset, business_key, 'transactions', id,
           data_timestamp, content_hash, false, false, version_no, source, received_at
    FROM record_version ORDER BY dataset, business_key, version_no DESC;

    INSERT INTO record_ref (dataset, business_key, field, value)
    SELECT dataset, business_key, 'PROJECT_CODE',
           'E' || lpad((substr(business_key, 2)::bigint / 8)::text, 16, '0')
    FROM current_record;

    INSERT INTO issue (run_id, source, record_index, dataset, business_key, field, rule, value,
                       message, severity, outcome)
    SELECT 1 + g % 4000, 'county-' || lpad((g % 40)::text, 2, '0'), g % 280, 'SECTION',
           'E' || lpad(g::text, 16, '0'), 'BID_SECTION_CODE', 'code.check', 'E43050024030',
           'BID_SECTION_CODE E43050024030 fails its check digit', 'error', 'rejected'
    FROM generate_series(1, 60000) g;

    INSERT INTO quarantine (run_id, source, record_index, dataset, rule, message, raw_record,
                            raw_format, status, created_at)
    SELECT 1 + g % 4000, 'county-' || lpad((g % 40)::text, 2, '0'), g % 280, 'SECTION',
           'mapping.value', 'SECTION.DATA_TIMESTAMP: 2024.03.03 16:34:00 is not a date',
           '{{"row": {{"更新时间": "2024.03.03 16:34:00"}}}}', 'row', 'open',
           now() - (20000 - g) * interval '10 minutes'
    FROM generate_series(1, 20000) g;
    ANALYZE;
    """
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
        c.execute(sql)  # type: ignore[arg-type]


def timed(http: httpx.Client, path: str, n: int) -> list[float]:
    for _ in range(3):
        assert http.get(path).status_code == 200, path
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = http.get(path)
        out.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (path, r.status_code)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--versions", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from hub.access import users
    from hub.config import ConsoleSection, NodeConfig, SigningSection, StoreSection
    from hub.package import testpki
    from hub.service.app import create_app
    from hub.service.server import server
    from hub.store.engine import open_store

    with psycopg.connect(ADMIN, autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB}")
        c.execute(f"CREATE DATABASE {DB}")
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB}"
    tmp = Path(tempfile.mkdtemp(prefix="bench-console-"))
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    me = testpki.make_node(testpki.make_ca("ecdsa", now, "bench CA"), "ecdsa",
                           "12350000MB0000000P", now, 3)  # fmt: skip
    (tmp / "me.key").write_bytes(me.key.pem())
    (tmp / "me.pem").write_bytes(me.cert.pem())
    cfg = NodeConfig(
        store=StoreSection(url=url, data_dir=tmp / "data"),
        signing=SigningSection(key=tmp / "me.key", cert=tmp / "me.pem"),
        console=ConsoleSection(secure_cookies=False),
    )
    store = open_store(cfg)
    t = time.perf_counter()
    fill(url, args.versions)
    print(f"filled {args.versions:,} versions in {time.perf_counter() - t:.0f} s")
    users.add(store, "bench", "administrator", "bench-password-123", None, "bench")
    srv = server(create_app(cfg, store), "127.0.0.1", 8497, 10, log_level="warning")
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    while not srv.started:
        time.sleep(0.05)
    try:
        with httpx.Client(base_url="http://127.0.0.1:8497", timeout=60) as http:
            r = http.post("/console/sign-in",
                          data={"name": "bench", "password": "bench-password-123"})  # fmt: skip
            assert r.status_code == 303, r.text
            q = http.get("/console/quarantine").text
            deep = re.findall(r"/console/quarantine/(\d+)", q)[-1]
            key = "E" + str(args.versions * 2 // 5 // 2).zfill(16)
            project = "E" + str(int(key[1:]) // 8).zfill(16)
            found = http.get(f"/console/find?q={project}").text
            assert found.count("/console/records/") >= 8, "the search found nothing"
            paths = {
                "baseline: /healthz": "/healthz",
                "sources page": "/console/",
                "record search": f"/console/find?q={project}",
                "record page": f"/console/records/PROJECT/{key}",
                "quarantine page": "/console/quarantine",
                "quarantine, deep page": f"/console/quarantine?before={int(deep) // 2}",
                "rejected page": "/console/rejected",
                "a source's runs": "/console/sources/county-07",
            }
            got = {name: timed(http, p, args.runs) for name, p in paths.items()}
    finally:
        srv.should_exit = True
        th.join(10)
        store.dispose()
        if not args.keep:
            with psycopg.connect(ADMIN, autocommit=True) as c:
                c.execute(f"DROP DATABASE IF EXISTS {DB}")
    base = statistics.median(got["baseline: /healthz"])
    print(f"\n{'page':<24}{'median ms':>11}{'p95 ms':>9}{'× baseline':>12}  goal {GOAL_MS:.0f} ms")
    ok = True
    for name, ms in got.items():
        med, p95 = statistics.median(ms), sorted(ms)[int(len(ms) * 0.95) - 1]
        verdict = "" if name.startswith("baseline") else ("met" if p95 < GOAL_MS else "MISSED")
        ok = ok and verdict != "MISSED"
        print(f"{name:<24}{med:>11.1f}{p95:>9.1f}{med / base:>12.1f}  {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
