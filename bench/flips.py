"""Every byte of a signed package flipped, one at a time, and verified (issue 21): how many
flips were refused, with which reason code, per region of the archive, and how many were
accepted (must be 0).  tests/test_hostile_packages.py does 150 per region in every run;
this is the whole sweep (about 200,000 verifications, minutes).

    .venv/bin/python bench/flips.py [--transactions 2] [--stride 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--transactions", type=int, default=2, help="records of this many")
    ap.add_argument("--stride", type=int, default=1, help="flip every Nth byte")
    args = ap.parse_args()
    from rich.console import Console
    from rich.table import Table

    from hub.errors import InputError
    from tests.packhostile import flip, regions
    from tests.packkit import make_pki, package, records, verify

    pki = make_pki(Path(tempfile.mkdtemp(prefix="bench-flips-")))
    good = package(pki.good, records(args.transactions))
    verify(good, pki)
    t = Table(title=f"a {len(good):,}-byte package, every {args.stride} byte(s) flipped")
    for col in ("region", "bytes", "flips", "accepted", "reason codes", "ms/flip"):
        t.add_column(col, justify="left" if col in ("region", "reason codes") else "right")
    accepted_all, flips_all = 0, 0
    for region, offsets in regions(good).items():
        codes: Counter[str] = Counter()
        accepted = 0
        t0 = time.perf_counter()
        picked = offsets[:: args.stride]
        for at in picked:
            try:
                verify(flip(good, at), pki)
                accepted += 1
            except InputError as exc:
                codes[exc.code] += 1
        ms = (time.perf_counter() - t0) * 1000 / max(len(picked), 1)
        shown = ", ".join(f"{c} {n:,}" for c, n in codes.most_common())
        t.add_row(
            region, f"{len(offsets):,}", f"{len(picked):,}", str(accepted), shown, f"{ms:.2f}"
        )
        accepted_all += accepted
        flips_all += len(picked)
    t.add_row("all", f"{len(good):,}", f"{flips_all:,}", str(accepted_all), "", "")
    Console(width=160).print(t)
    return 1 if accepted_all else 0


if __name__ == "__main__":
    sys.exit(main())
