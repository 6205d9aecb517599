"""sftp: pull a county's nightly drops from an SFTP server, push packages to one (paramiko).

Pull never takes a file that may still be being written: with ``done_marker`` (``.done``,
``.ok``) a file is taken only once ``NAME<marker>`` exists; otherwise only once the server
says it has not changed for ``min_age_seconds``.  A file is downloaded to ``NAME.part`` in
the adapter's work folder, resumed from where it stopped if the connection was cut, its
size checked against the server's and, when the county drops a ``NAME.sha256`` beside it,
its SHA-256 too; only then is it renamed and handed to the hub.  After the hub's commit the
remote file moves to ``done/`` (to ``failed/`` with ``NAME.error.txt`` if it was refused).
A dropped signed package is answered with the node's signed receipt, uploaded to
``receipts/NAME.receipt`` before the package moves.
Push uploads to ``.NAME.part`` and renames it, so the peer never sees half a package.

The session (``adapters.sshsession``): the server's host key must be in ``known_hosts``
(never added automatically); a changed key is a FatalError naming both fingerprints.  Key
authentication only.  Connect, per-read and whole-transfer timeouts are options.  A package
pushed here is answered later: ``status`` reads the receipt the other node left beside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import paramiko
from pydantic import Field

from adapters.drops import MAX_RECEIPT, takeable
from adapters.sshsession import SshLogin, open_session
from hub.errors import InputError, RetryableError
from hub.interfaces import Adapter, AdapterContext, AdapterOptions, Batch, PushResult
from hub.package.receipt import drop_receipt_names

CHUNK = 1 << 20  # bytes per read of a download (paramiko prefetches 32 KiB requests ahead)


class SftpOptions(SshLogin):
    remote_dir: str = "."
    pattern: list[str] = Field(
        default_factory=lambda: ["*.xml", "*.json", "*.jsonl", "*.csv", "*.zip", "*.p7m"]
    )
    done_marker: str | None = None
    min_age_seconds: float = Field(default=120, ge=0)
    checksum_suffix: str | None = ".sha256"  # NAME.sha256 beside a file, if the county sends it
    done_dir: str = "done"
    failed_dir: str = "failed"
    upload_dir: str = "."  # push: where packages go
    transfer_timeout: float = Field(default=3600, gt=0)
    format: Literal["xml", "json", "jsonl", "csv", "package"] | None = None
    receipts_dir: str = "receipts"  # signed receipts for dropped packages: NAME.receipt


class SftpAdapter(Adapter):
    name = "sftp"
    Options = SftpOptions
    options: SftpOptions
    # called with (file name, bytes so far) while downloading: progress, and a test seam
    on_transfer: Callable[[str, int], None] | None = None

    def __init__(self, options: AdapterOptions, context: AdapterContext) -> None:
        super().__init__(options, context)
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None

    # -- the connection --------------------------------------------------------------------
    @property
    def peer(self) -> str:
        o = self.options
        return f"sftp://{o.username}@{o.host}:{o.port}"

    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is not None:
            return self._sftp
        self._client, self._sftp = open_session(self.options, self.context, self.peer)
        return self._sftp

    def close(self) -> None:
        if self._sftp is not None:
            with contextlib.suppress(Exception):
                self._sftp.close()
        if self._client is not None:
            self._client.close()
        self._client = self._sftp = None

    def _fault(self, what: str, exc: BaseException) -> RetryableError:
        self.close()  # a broken session is not reused
        return RetryableError(f"{self.peer}: {what}: {type(exc).__name__}: {exc}")

    def _remote(self, *parts: str) -> str:
        return posixpath.join(self.options.remote_dir, *parts)

    # -- pulling ---------------------------------------------------------------------------
    def ready(self, now: float | None = None) -> list[paramiko.SFTPAttributes]:
        """The remote files that may be taken now, in name order."""
        o = self.options
        try:
            entries = self.sftp().listdir_attr(o.remote_dir)
        except (TimeoutError, OSError, EOFError, paramiko.SSHException) as exc:
            raise self._fault(f"listing {o.remote_dir!r}", exc) from exc
        by_name = {e.filename: e for e in entries if e.st_mode and stat.S_ISREG(e.st_mode)}
        names = takeable(
            [(n, float(e.st_mtime or 0)) for n, e in by_name.items()],
            o.pattern,
            o.done_marker,
            o.min_age_seconds,
            time.time() if now is None else now,
            sidecars=[o.checksum_suffix] if o.checksum_suffix else [],
        )
        return [by_name[n] for n in names]

    def pull(self, cursor: str | None) -> Iterator[Batch]:
        for entry in self.ready():
            origin = f"{self.peer}{self._remote(entry.filename)}"
            refused: InputError | None = None
            local = None
            for _attempt in range(2):  # a digest mismatch: download once more from scratch
                try:
                    local = self._download(entry)
                    refused = None
                    break
                except InputError as exc:
                    refused = exc
            yield Batch(
                name=entry.filename,
                origin=origin,
                path=local,
                fmt=self.options.format,
                cursor=entry.filename,
                size=entry.st_size,
                handle=entry.filename,
                refused=refused,
            )

    def _expected_digest(self, name: str) -> str | None:
        suffix = self.options.checksum_suffix
        if not suffix:
            return None
        try:
            with self.sftp().open(self._remote(name + suffix), "rb") as fh:
                text = fh.read(200).decode("ascii", "replace").split()
        except FileNotFoundError:
            return None
        except (TimeoutError, OSError, EOFError, paramiko.SSHException) as exc:
            raise self._fault(f"reading {name + suffix!r}", exc) from exc
        return text[0].lower() if text else None

    def _download(self, entry: paramiko.SFTPAttributes) -> Path:
        """Download (or resume) one file to the work folder; check size and digest."""
        name, size = entry.filename, entry.st_size or 0
        done = self.context.work_dir / name
        part = self.context.work_dir / (name + ".part")
        if done.exists() and done.stat().st_size == size:
            return done  # downloaded before a crash, not yet committed
        have = part.stat().st_size if part.exists() else 0
        if have > size:  # the remote file was replaced by a shorter one: start again
            part.unlink()
            have = 0
        started = time.monotonic()
        try:
            with self.sftp().open(self._remote(name), "rb") as remote, part.open("ab") as fh:
                remote.seek(have)
                remote.prefetch(size - have)  # unbounded: capping at 16-256 measured slower
                while have < size:
                    block = remote.read(min(CHUNK, size - have))
                    if not block:
                        break
                    fh.write(block)
                    have += len(block)
                    if self.on_transfer:
                        self.on_transfer(name, have)
                    if time.monotonic() - started > self.options.transfer_timeout:
                        raise TimeoutError(
                            f"transfer took longer than {self.options.transfer_timeout} s"
                        )
        except (TimeoutError, OSError, EOFError, paramiko.SSHException) as exc:
            raise self._fault(f"downloading {name!r} (kept {have} of {size} bytes)", exc) from exc
        if have != size:
            raise RetryableError(
                f"{self.peer}: {name!r} ended after {have} of {size} bytes; resumed next run"
            )
        expected = self._expected_digest(name)
        if expected is not None:
            h = hashlib.sha256()
            with part.open("rb") as fh:
                while block := fh.read(CHUNK):
                    h.update(block)
            if h.hexdigest() != expected:
                part.unlink()
                raise InputError(
                    f"{self.peer}{self._remote(name)}",
                    f"SHA-256 {h.hexdigest()} differs from {name}{self.options.checksum_suffix} "
                    f"({expected}); the download was discarded",
                    code="input.digest",
                )
        os.replace(part, done)
        return done

    def _move_remote(self, name: str, folder: str) -> str:
        sftp = self.sftp()
        target_dir = self._remote(folder)
        with contextlib.suppress(OSError):
            sftp.mkdir(target_dir)
        target = posixpath.join(target_dir, name)
        with contextlib.suppress(FileNotFoundError):
            sftp.stat(target)
            target = f"{target}.{time.strftime('%Y%m%dT%H%M%S')}"
        sftp.posix_rename(self._remote(name), target)
        for suffix in (self.options.done_marker, self.options.checksum_suffix):
            if suffix:
                with contextlib.suppress(FileNotFoundError):
                    sftp.remove(self._remote(name + suffix))
        return target

    def ack(self, batch: Batch) -> None:
        try:
            self._move_remote(batch.handle, self.options.done_dir)
        except (TimeoutError, OSError, EOFError, paramiko.SSHException) as exc:
            # committed already: the file will be offered again and turn out all duplicate
            raise self._fault(f"moving {batch.handle!r} to {self.options.done_dir}/", exc) from exc
        if batch.path is not None:
            batch.path.unlink(missing_ok=True)

    def reject(self, batch: Batch, reason: str) -> None:
        try:
            target = self._move_remote(batch.handle, self.options.failed_dir)
            with self.sftp().open(target + ".error.txt", "wb") as fh:
                fh.write((reason + "\n").encode("utf-8"))
        except (TimeoutError, OSError, EOFError, paramiko.SSHException) as exc:
            raise self._fault(
                f"moving {batch.handle!r} to {self.options.failed_dir}/", exc
            ) from exc
        if batch.path is not None:
            batch.path.unlink(missing_ok=True)

    def reply(self, batch: Batch, name: str, data: bytes) -> str | None:
        folder = self._remote(self.options.receipts_dir)
        try:
            with contextlib.suppress(OSError):
                self.sftp().mkdir(folder)
            final = self._upload(folder, name, data)
        except (TimeoutError, OSError, EOFError, paramiko.SSHException) as exc:
            # committed already: the drop is offered again and answered as a duplicate
            raise self._fault(f"leaving the receipt {name!r}", exc) from exc
        return f"{self.peer}{final}"

    # -- pushing ---------------------------------------------------------------------------
    def push(self, name: str, data: bytes) -> PushResult:
        try:
            final = self._upload(self.options.upload_dir, name, data)
        except (TimeoutError, OSError, EOFError, paramiko.SSHException) as exc:
            raise self._fault(f"uploading {name!r}", exc) from exc
        return PushResult(True, "renamed", detail=f"{self.peer}{final}")

    def status(self, package_id: str, sha256: str) -> bytes | None:
        """The receipt the node that takes ``upload_dir``'s files left for a package pushed
        there (``receipts/PACKAGE_ID.receipt``; a refusal by file name and digest), None
        while there is none.  Only a regular file is read, and only so much of it."""
        folder = posixpath.join(self.options.upload_dir, self.options.receipts_dir)
        for name in drop_receipt_names(package_id, f"{package_id}.zip", sha256):
            path = posixpath.join(folder, name)
            try:
                sftp = self.sftp()
                attrs = sftp.lstat(path)
                if not stat.S_ISREG(attrs.st_mode or 0):
                    continue
                with sftp.open(path, "rb") as fh:
                    fh.prefetch(attrs.st_size)
                    return bytes(fh.read(MAX_RECEIPT))
            except FileNotFoundError:
                continue
            except (TimeoutError, OSError, EOFError, paramiko.SSHException) as exc:
                raise self._fault(f"reading the receipt {path!r}", exc) from exc
        return None

    def _upload(self, folder: str, name: str, data: bytes) -> str:
        """Write under a hidden ``.part`` name, check the size, rename into place."""
        sftp = self.sftp()
        final = posixpath.join(folder, name)
        tmp = posixpath.join(folder, f".{name}.part")
        with sftp.open(tmp, "wb") as fh:
            fh.set_pipelined(True)
            fh.write(data)
        if (sftp.stat(tmp).st_size or 0) != len(data):
            raise OSError(f"uploaded size differs from {len(data)}")
        sftp.posix_rename(tmp, final)
        return final
