"""A PostgreSQL server of the test's own (initdb in a temporary folder, on a free loopback
port), which the test may stop and start: the shared one on 5432 must stay up."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.webkit import free_port


class PgServer:
    def __init__(self, root: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        assert found, "PostgreSQL's server binaries are missing: scripts/services.sh installs them"
        self.bin, self.root, self.port = Path(found[-1]).parent, root, free_port()
        self.data = root / "data"
        self.url = f"postgresql://hub@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        cmd = [str(self.bin / argv[0]), *argv[1:]]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "hub")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on"
        log = str(self.root / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", log, "-w", "start")

    def crash(self) -> None:
        """Stop it the way a power cut or an OOM kill does: no checkpoint, no goodbye."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


@contextlib.contextmanager
def private_postgresql() -> Iterator[PgServer]:
    """A server in a folder of its own under /tmp (pytest's folders are root's alone, and
    the server runs as the postgres user), removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="hub-pg-"))
    pg = PgServer(root)
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            pg.crash()
        shutil.rmtree(root, ignore_errors=True)
