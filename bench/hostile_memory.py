"""Peak memory and progress of `hub` on the three inputs shaped to hurt of issue 16.

1. 16,000 tiny records on one XML line (160 KB): `hub validate` and `hub ingest`, beside the
   baseline of the same records one per line, in the same run.
2. An XML batch of a million tiny records (10 MB, under the 50 MB input limit): `hub
   ingest`, seconds until the first chunk is committed and peak memory until then (--full:
   to the end; every record fails, so that means 19 million issue rows).
3. One JSONL line of 200 MB: `hub ingest` quarantines that record without holding it.

Peak RSS is the child's maximum resident set (``getrusage(RUSAGE_CHILDREN)`` of a fresh
interpreter per case).  The budget printed beside each is 1 GiB on this 24 GiB machine: 20 ×
the design's 50 MB input limit (design §8 gives input limits, not a memory figure).

    .venv/bin/python bench/hostile_memory.py [--full]
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HUB = str(Path(sys.executable).with_name("hub"))
BUDGET_MB = 1024
TINY = "<PROJECT/>"  # 10 bytes: a record with every field missing


def peak_run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(seconds, peak RSS MB, exit status) of one command in a fresh process."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "dt = time.perf_counter() - t\n"
        "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(dt, kb / 1024, rc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    dt, mb, rc = out.stdout.split()
    return float(dt), float(mb), int(rc)


def first_commit(argv: list[str], cwd: Path, env: dict[str, str], db: Path, full: bool) -> str:
    """Seconds to the first committed chunk (records_in > 0 in the store), peak RSS meanwhile."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    first, peak = None, 0.0
    while p.poll() is None:
        time.sleep(0.5)
        try:
            with open(f"/proc/{p.pid}/status", encoding="ascii") as fh:
                rss = next(int(ln.split()[1]) for ln in fh if ln.startswith("VmHWM"))
            peak = max(peak, rss / 1024)
        except (OSError, StopIteration):
            pass
        if first is None and db.exists():
            with sqlite3.connect(db) as c:
                try:
                    n = c.execute("SELECT coalesce(max(records_in), 0) FROM sync_run").fetchone()
                except sqlite3.OperationalError:
                    n = (0,)
            if n[0]:
                first = time.perf_counter() - t
                if not full:
                    p.kill()
    p.wait()
    total = time.perf_counter() - t
    when = f"first commit {first:.1f} s" if first is not None else "no commit"
    return f"{when}, {'done' if full else 'stopped'} at {total:.1f} s, peak {peak:.0f} MB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="ingest the million records to the end")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}

        def store(name: str) -> dict[str, str]:
            return {**env, "HUB_DATABASE_URL": f"sqlite:///{d / name}"}

        one = d / "oneline.xml"
        one.write_text("<BATCH>" + TINY * 16000 + "</BATCH>")
        lines = d / "lines.xml"
        lines.write_text("<BATCH>\n" + "\n".join([TINY] * 16000) + "\n</BATCH>\n")
        rows = []
        for what, path in (("16k records on one line", one), ("same, one per line", lines)):
            for cmd in ("validate", "ingest"):
                argv = [HUB, cmd, str(path)] + (["--source", "b"] if cmd == "ingest" else [])
                dt, mb, _ = peak_run(argv, d, store(f"{cmd}-{path.stem}.db"))
                rows.append((f"{cmd}: {what}", f"{dt:.1f} s", f"{mb:.0f} MB"))

        big = d / "million.xml"
        with big.open("w") as fh:
            fh.write("<BATCH>")
            for _ in range(1000):
                fh.write(TINY * 1000)
            fh.write("</BATCH>")
        size = big.stat().st_size / 1e6
        mil = first_commit(
            [HUB, "ingest", str(big), "--source", "m"], d, store("m.db"), d / "m.db", args.full
        )
        rows.append((f"ingest: 1,000,000 tiny records ({size:.0f} MB XML)", mil, ""))

        line = d / "line.jsonl"
        with line.open("wb") as fh:
            fh.write(b'{"dataset": "PROJECT", "record": {"PROJECT_NAME": "')
            chunk = b"x" * (1 << 20)
            for _ in range(200):
                fh.write(chunk)
            fh.write(b'"}}\n')
        dt, mb, rc = peak_run([HUB, "ingest", str(line), "--source", "l"], d, store("l.db"))
        rows.append(("ingest: one 200 MB JSONL line", f"{dt:.1f} s (exit {rc})", f"{mb:.0f} MB"))

    print(f"{'case':52} {'time':>36} {'peak RSS':>9}   budget {BUDGET_MB} MB")
    for name, t, mb in rows:
        print(f"{name:52} {t:>36} {mb:>9}")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
