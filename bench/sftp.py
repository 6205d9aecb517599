"""SFTP pull throughput: the hub's sftp adapter against OpenSSH's own sftp client.

Both download from the same sshd on a loopback port (started here, as in the tests), in the
same run, best of ``--repeat``:

  openssh  ``sftp -b`` (batch mode) ``get`` of the large file / of every small file
  hub      SftpAdapter.pull(): listing, readiness, download to .part, size and digest
           checks, rename (what a sync run does before ingest; no ack, no ingest)

    .venv/bin/python bench/sftp.py                 # 100 MB file + 1,000 small files
    .venv/bin/python bench/sftp.py --large-mb 20 --small 200 --repeat 1   # quick
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _best(n: int, fn: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--large-mb", type=int, default=100)
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--small-kb", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from adapters.sftp import SftpAdapter, SftpOptions
    from hub.interfaces import AdapterContext
    from tests.sshd import make_sshd

    tmp = Path(tempfile.mkdtemp(prefix="hub-bench-sftp-"))
    server = make_sshd(tmp / "sshd")
    try:
        large_dir, small_dir = tmp / "remote-large", tmp / "remote-small"
        large_dir.mkdir()
        small_dir.mkdir()
        with (large_dir / "big.jsonl").open("wb") as fh:
            for _ in range(args.large_mb):
                fh.write(os.urandom(1 << 20))
        for i in range(args.small):
            (small_dir / f"f{i:05d}.jsonl").write_bytes(os.urandom(args.small_kb * 1024))
        old = time.time() - 3600
        for p in [*large_dir.iterdir(), *small_dir.iterdir()]:
            os.utime(p, (old, old))

        def openssh(remote: Path, local: Path) -> Callable[[], None]:
            def run() -> None:
                shutil.rmtree(local, ignore_errors=True)
                local.mkdir()
                batch = tmp / "batch.txt"
                batch.write_text(f"get {remote}/* {local}/\n")
                subprocess.run(
                    [
                        "sftp",
                        "-q",
                        "-b",
                        str(batch),
                        "-i",
                        str(server.client_key),
                        "-o",
                        f"UserKnownHostsFile={server.known_hosts}",
                        "-o",
                        "StrictHostKeyChecking=yes",
                        "-o",
                        "BatchMode=yes",
                        "-P",
                        str(server.port),
                        f"{server.user}@127.0.0.1",
                    ],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )

            return run

        def hub(remote: Path, work: Path) -> Callable[[], None]:
            def run() -> None:
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir()
                opts = SftpOptions(
                    host="127.0.0.1",
                    port=server.port,
                    username=server.user,
                    key=server.client_key,
                    known_hosts=server.known_hosts,
                    remote_dir=str(remote),
                    pattern=["*.jsonl"],
                    min_age_seconds=1,
                )
                with SftpAdapter(opts, AdapterContext("bench", tmp, work)) as a:
                    for b in a.pull(None):
                        assert b.path is not None and b.path.stat().st_size == b.size

            return run

        rows = []
        for label, remote, size, files in (
            ("large", large_dir, args.large_mb * (1 << 20), 1),
            ("small", small_dir, args.small * args.small_kb * 1024, args.small),
        ):
            t_ssh = _best(args.repeat, openssh(remote, tmp / f"ssh-{label}"))
            t_hub = _best(args.repeat, hub(remote, tmp / f"hub-{label}"))
            rows.append((label, files, size, t_ssh, t_hub))
        print(
            f"{'case':<7}{'files':>7}{'MB':>8}{'contender':>11}{'MB/s':>9}{'files/s':>10}"
            f"{'vs openssh':>12}"
        )
        for label, files, size, t_ssh, t_hub in rows:
            for name, t in (("openssh", t_ssh), ("hub", t_hub)):
                print(
                    f"{label:<7}{files:>7}{size / 1e6:>8.1f}{name:>11}{size / 1e6 / t:>9.1f}"
                    f"{files / t:>10.1f}{t_ssh / t:>12.2f}"
                )
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
