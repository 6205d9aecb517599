"""A real OpenSSH sshd on a loopback port, for the sftp adapter's tests and bench/sftp.py.

Keys are made fresh with ssh-keygen for each server (test fixtures only, never committed);
the server runs in the foreground of a child process (``sshd -D -e``) with its own config,
key-only authentication as the current user and the internal SFTP server.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keygen(path: Path, kind: str = "ed25519") -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "hub-test-fixture", "-f", str(path)],
        check=True,
    )
    return path


@dataclass
class Sshd:
    root: Path  # its own folder: config, keys, known_hosts
    port: int
    user: str
    client_key: Path
    known_hosts: Path
    host_key: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Sshd:
        if not os.path.exists(SSHD):
            raise RuntimeError("sshd is missing: scripts/setup.sh installs Debian's openssh-server")
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation folder sshd insists on
        config = self.root / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"PidFile {self.root / 'sshd.pid'}",
                    f"AuthorizedKeysFile {self.root / 'authorized_keys'}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "UsePAM no",
                    "StrictModes no",
                    "LogLevel ERROR",
                    "Subsystem sftp internal-sftp",
                ]
            )
            + "\n"
        )
        with (self.root / "sshd.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(config)], stderr=log, stdout=log
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    if s.recv(4).startswith(b"SSH-"):
                        return self
            except OSError:
                time.sleep(0.05)
            if self.proc.poll() is not None:
                break
        raise RuntimeError(f"sshd did not start; see {self.root / 'sshd.log'}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.kill_sessions()

    def sessions(self) -> list[int]:
        """PIDs of the per-connection sshd processes (children of the listener)."""
        if self.proc is None:
            return []
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)],
            check=False,
            capture_output=True,
            text=True,
        ).stdout
        return [int(x) for x in out.split()]

    def kill_sessions(self) -> int:
        pids = self.sessions()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(pids)

    def new_host_key(self) -> None:
        """The server's host key changes (reinstalled, or someone in the middle)."""
        self.stop()
        self.host_key.unlink()
        self.host_key.with_suffix(".pub").unlink()
        keygen(self.host_key)
        self.start()


def make_sshd(root: Path) -> Sshd:
    root.mkdir(parents=True, exist_ok=True)
    host = keygen(root / "host_ed25519")
    client = keygen(root / "client_ed25519")
    shutil.copy(client.with_name(client.name + ".pub"), root / "authorized_keys")
    port = free_port()
    pub = (root / "host_ed25519.pub").read_text().split()
    known = root / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {pub[0]} {pub[1]}\n")
    return Sshd(root, port, getpass.getuser(), client, known, host).start()
