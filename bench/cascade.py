"""County → province through the cascade, against a single node's ingest (issue 18's goal:
the cascade at least half the single-node rate).

One generated night (about 100,000 records).  In this process: the county's ingest of it
(the baseline), then one forwarding pass from the county to the province, a `hub serve` of
its own (another process, as another node is) on a loopback port: collapse, packages of
5,000 built and signed, pushed, verified, ingested at the province, receipts verified and
their verdicts kept.  Printed: seconds, records/s, and the cascade's rate as a fraction of
the ingest's.  The province's work is inside the timed pass (it answers each package with
its receipt), so the figure is end to end: from a record accepted at the county until the
county holds the province's verdict on it.

    .venv/bin/python bench/cascade.py [--records 100000] [--pg] [--package 5000]

HUB_BENCH_PROFILE=FILE writes a cProfile of the county's side of the pass to FILE.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--pg", action="store_true", help="both stores on the local PostgreSQL")
    ap.add_argument("--package", type=int, default=5000, help="records per package (max_records)")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.scratch import scratch
    from hub.config import NodeConfig, SigningSection, StoreSection, TrustSection
    from hub.forward import forward
    from hub.generate.batch import write_batch
    from hub.generate.generator import Generator
    from hub.ingest.pipeline import ingest_file
    from hub.package import testpki
    from hub.sections import ForwardSection
    from hub.store.engine import open_store

    tmp = scratch("bench-cascade-")
    now = datetime.now(UTC)
    county_code, province_code = "12350121MB0200002L", "12350000MB0100001C"
    for name, code in (("county", county_code), ("province", province_code)):
        testpki.init(tmp / name / "keys", code, now)
    urls = {n: f"sqlite:///{tmp / n / 'hub.db'}" for n in ("county", "province")}
    if args.pg:
        from bench.pg import fresh_database

        urls = {n: fresh_database(f"hubbench_{n}") for n in urls}

    def node(name: str, trusts: str, **kw: object) -> NodeConfig:
        k, t = tmp / name / "keys", tmp / trusts / "keys"
        return NodeConfig(
            store=StoreSection(url=urls[name], data_dir=tmp / name / "data"),
            signing=SigningSection(key=k / "node-ecdsa.TEST-ONLY.key", cert=k / "node-ecdsa.pem"),
            trust=TrustSection(anchors=[t / "ca.pem"], crls=[t / "ca.crl"]),
            **kw,  # type: ignore[arg-type]
        )

    port = _free_port()
    province_cfg = tmp / "province.toml"
    k, t = tmp / "province" / "keys", tmp / "county" / "keys"
    province_cfg.write_text(
        f'[store]\nurl = "{urls["province"]}"\ndata_dir = "{tmp / "province" / "data"}"\n'
        f'[signing]\nkey = "{k / "node-ecdsa.TEST-ONLY.key"}"\ncert = "{k / "node-ecdsa.pem"}"\n'
        f'[trust]\nanchors = ["{t / "ca.pem"}"]\ncrls = ["{t / "ca.crl"}"]\n'
        f"[http]\nport = {port}\n"
    )
    hub = Path(sys.executable).with_name("hub")
    serving = subprocess.Popen(
        [str(hub), "serve", "--config", str(province_cfg), "--no-schedules"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(f"http://127.0.0.1:{port}/healthz", serving)
    target = ForwardSection(
        receiver=province_code,
        options={"url": f"http://127.0.0.1:{port}"},
        max_records=args.package,
    )
    county_cfg = node("county", "province", forward={"province": target})
    county = open_store(county_cfg)

    batch = tmp / "night.jsonl"
    n = write_batch(Generator(seed=17).batch(max(1, args.records // 71)), batch, "jsonl")
    t = time.perf_counter()
    res = ingest_file(county, batch, "county-bench")
    ingest = time.perf_counter() - t
    t = time.perf_counter()
    if os.environ.get("HUB_BENCH_PROFILE"):  # where the county's side of the pass goes
        import cProfile

        with cProfile.Profile() as prof:
            p = forward(county_cfg, county, "province")
        prof.dump_stats(os.environ["HUB_BENCH_PROFILE"])
    else:
        p = forward(county_cfg, county, "province")
    cascade = time.perf_counter() - t
    serving.terminate()
    serving.wait(30)
    sent = sum(s.records for s in p.packages)
    said = sum(sum(s.verdicts.values()) for s in p.packages)
    county.dispose()
    where = "PostgreSQL" if args.pg else "SQLite"
    print(f"{n:,} records, {res.counts.accepted:,} accepted at the county, on {where}")
    print(f"{'step':<44}{'seconds':>9}{'records/s':>12}{'rate × ingest':>15}")
    for name, secs, count in (
        ("baseline: ingest at the county", ingest, res.counts.accepted),
        (f"cascade: {len(p.packages)} packages to the province and back", cascade, sent),
    ):
        rate = count / secs
        print(f"{name:<44}{secs:>9.2f}{rate:>12,.0f}{rate / (res.counts.accepted / ingest):>15.2f}")
    print(f"pass {p.status}: {sent:,} records sent, {said:,} verdicts back")
    return 0 if p.status == "done" and said == sent else 1


def _wait_for(url: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"the province's hub serve did not answer at {url}")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
