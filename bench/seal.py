"""What encryption costs: a package sealed and opened per recipient family, and ingest with the
raw store sealed at rest, each against the same work without encryption in the same run.

1. seal + open of one package archive (default 20 MB) for an RSA, an ECDSA and an SM2
   encryption certificate; baseline: SHA-256 over the same bytes (what verifying any
   package costs at least);
2. `ingest_file` of one generated night (default 50,000 records) into a fresh SQLite store
   with `[encryption] at_rest` off (baseline) and on.

    .venv/bin/python bench/seal.py [--records 50000] [--mb 20]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


def _best(fn: object, n: int = 3) -> float:
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--mb", type=int, default=20)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.ingest import make_file
    from hub.config import NodeConfig, StoreSection
    from hub.ingest.pipeline import ingest_file
    from hub.package import testpki
    from hub.package.envelope import Recipient, open_envelope, seal
    from hub.sections import EncryptionSection
    from hub.store.engine import open_store

    tmp = Path(tempfile.mkdtemp(prefix="bench-seal-"))
    now = datetime.now(UTC)
    data = os.urandom(args.mb << 20)
    copy = _best(lambda: hashlib.sha256(data).digest())
    print(f"one package of {args.mb} MB: seal + open, best of 3")
    print(f"{'recipient':<22}{'seal s':>9}{'open s':>9}{'MB/s':>9}{'× sha256':>9}")
    print(f"{'none (SHA-256 only)':<22}{copy:>9.3f}{0:>9.3f}{args.mb / copy:>9.0f}{1:>9.2f}")
    pairs = {}
    for fam in ("rsa", "ecdsa", "sm2"):
        ca = testpki.make_ca("sm2" if fam == "sm2" else "ecdsa", now, f"bench CA {fam}")
        node = testpki.make_node(ca, fam, "12350000MB0100001C", now, 9, encrypt=True)
        me = Recipient(node.cert, node.key)
        pairs[fam] = node
        sealed = seal(data, [node.cert])
        s = _best(lambda c=node.cert: seal(data, [c]))
        o = _best(lambda e=sealed, m=me: open_envelope(e, "bench", [m]))
        print(f"{fam:<22}{s:>9.3f}{o:>9.3f}{args.mb / (s + o):>9.0f}{copy / (s + o):>9.2f}")

    night = tmp / "night.jsonl"
    make_file(night, args.records, 3)
    node = pairs["ecdsa"]
    (tmp / "enc.pem").write_bytes(node.cert.pem())
    (tmp / "enc.key").write_bytes(node.key.pem())
    print(f"\ningest of {args.records:,} records into a fresh SQLite store")
    print(f"{'raw store':<22}{'seconds':>9}{'rec/s':>9}{'× plain':>9}")
    base = 0.0
    for label, enc in (
        ("plain", EncryptionSection()),
        (
            "sealed at rest",
            EncryptionSection(cert=tmp / "enc.pem", key=tmp / "enc.key", at_rest=True),
        ),
    ):
        cfg = NodeConfig(store=StoreSection(data_dir=tmp / label.replace(" ", "-")), encryption=enc)
        store = open_store(cfg)
        t = time.perf_counter()
        run = ingest_file(store, night, "bench")
        took = time.perf_counter() - t
        store.dispose()
        base = base or took
        rate = run.counts.records_in / took
        print(f"{label:<22}{took:>9.2f}{rate:>9,.0f}{base / took:>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
