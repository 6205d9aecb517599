"""Receiving a signed package: verify, store, ingest, answer with a signed receipt.

1. the package is verified (``verify_package``); a refused package stores nothing (one audit
   line says it was refused and why) and its sender gets a signed ``refused`` receipt;
2. a package id seen before with the same bytes is a DUPLICATE: the original receipt's very
   bytes are returned and nothing changes;
3. otherwise the archive's bytes go to the raw store, a ``package`` row is written (status
   ``receiving``), and each data file runs through the ingest pipeline, parents' data sets
   first, with the package and its signer on every version it creates; attachments are
   kept in the raw store;
4. the receipt (one verdict per record, by file and line) is signed by this node and kept on
   the package row, which becomes ``done``.

A crash between 3 and 4 leaves the row ``receiving``; receiving the same bytes again resumes
(once the dead receiver's lease has run out, ``hub.package.claim``): records stored by the
first attempt are reported as accepted (their version), not duplicate.  Copies of a package
that arrive while it is being received wait for that receiver and get its receipt.
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from hub.config import IngestSection
from hub.errors import InputError
from hub.ingest.outcome import Counts, Verdict
from hub.ingest.pipeline import RunResult, ingest_stream
from hub.package import archive, crypto, placing
from hub.package import claim as claims
from hub.package.build import SigningIdentity
from hub.package.envelope import Unsealer
from hub.package.receipt import RECEIPT, Receipt, Refusal, parse, sign
from hub.package.trust import TrustStore
from hub.package.verify import Verified, verify_package
from hub.store import audit
from hub.store.engine import Store
from hub.store.models import Package, RecordVersion, table

PKG, VERSION = table(Package), table(RecordVersion)


@dataclass
class Received:
    status: str  # processed, duplicate, refused
    receipt: Receipt
    receipt_bytes: bytes  # the signed receipt archive, as sent back
    package_row: int | None = None
    runs: list[RunResult] = field(default_factory=list)
    reason: InputError | None = None  # why it was refused

    @property
    def counts(self) -> Counts:
        return Counts.total(r.counts for r in self.runs)


def _package_row(store: Store, package_id: str) -> Any:
    with store.read() as conn:
        return conn.execute(select(PKG).where(PKG.c.package_id == package_id)).first()


def seen_in(store: Store) -> Callable[[str], str | None]:
    """The replay lookup: a package id's archive SHA-256 if this store received it."""

    def seen(package_id: str) -> str | None:
        row = _package_row(store, package_id)
        return None if row is None else str(row.raw_sha256)

    return seen


def receive_package(
    store: Store,
    data: bytes,
    origin: str,
    trust: TrustStore,
    who: SigningIdentity,
    *,
    source: str | None = None,
    settings: IngestSection | None = None,
    now: datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
    answer_anonymous: bool = True,
    pusher: str | None = None,
    unsealer: Unsealer | None = None,
) -> Received:
    """Receive one package as this node (``who``: its signing identity and platform code).

    ``answer_anonymous=False`` (the HTTP service): a package refused before its signer was
    authenticated costs nothing durable — no audit row, no signature; its Received has empty
    ``receipt_bytes`` and the caller answers with the reason alone.  ``pusher``: the platform
    code whose token came with the push; a package another sender signed is refused the same
    way (``push.sender``), before anything is stored.  ``unsealer``: this node's decryption
    keys; an encrypted package is opened first, and is then the archive it holds."""
    job = _Job(store, who, origin, source, settings, now or datetime.now(UTC), data)
    try:
        data, job.sealed = (unsealer or Unsealer()).open(data, origin)
        job.data = data
        v = verify_package(
            data, origin, trust, now=job.now, receiver=who.platform_code, seen=seen_in(store)
        )
    except InputError as exc:
        if exc.sender is None and not answer_anonymous:
            return Received("refused", _refusal(who, job.now, job.sha, exc), b"", reason=exc)
        return _refuse(store, who, job.now, job.sha, exc)
    if pusher is not None and v.manifest.sender != pusher:
        wrong = InputError(
            origin,
            f"the package's sender {v.manifest.sender!r} is not {pusher!r}, whose token came "
            "with the push: a sender pushes its own packages only",
            code="push.sender",
        )
        return Received("refused", _refusal(who, job.now, job.sha, wrong), b"", reason=wrong)
    with claims.local_lock(v.manifest.package_id):
        got = job.claimed(v)
        if isinstance(got, Received):
            return got
        row_id, resumed = got
        try:
            return job.take(v, row_id, resumed, claims.Renewer(store, row_id, on_progress))
        except BaseException:
            claims.lease(store, row_id, None)  # the next copy takes over at once
            raise


@dataclass
class _Job:
    """One package being received: where it goes and who answers."""

    store: Store
    who: SigningIdentity
    origin: str
    source: str | None
    settings: IngestSection | None
    now: datetime
    data: bytes
    sealed: str | None = None  # how the package came encrypted (None: it did not)

    @functools.cached_property
    def sha(self) -> str:  # a package of 5,000 records is hashed once, not three times
        return hashlib.sha256(self.data).hexdigest()

    def claimed(self, v: Verified) -> Received | tuple[int, bool]:
        """The row to receive into (and whether a dead receiver's is resumed), or the answer
        when the package was received meanwhile (its receipt) or is another archive."""
        m, sha = v.manifest, self.sha
        while True:
            c = claims.claim(self.store, m.package_id)
            if c.sha256 is not None and c.sha256 != sha:
                err = InputError(
                    self.origin,
                    f"package id {m.package_id!r} was received before with other contents",
                    code="package.replay",
                )
                err.sender = m.sender
                return _refuse(self.store, self.who, self.now, sha, err)
            if c.receipt is not None:
                return Received("duplicate", _original(c.receipt), c.receipt, c.row_id)
            if c.row_id is not None:
                return c.row_id, True
            row_id = claims.open_row(
                self.store, self.data, v, self.origin, self.now, self.source or m.sender
            )
            if row_id is not None:
                return row_id, False
            # another process opened it just now: claim again, which waits for it

    def take(
        self, v: Verified, row_id: int, resumed: bool, on_progress: Callable[[int], None]
    ) -> Received:
        """Ingest the package's data files into row ``row_id`` and sign the receipt."""
        m, store = v.manifest, self.store
        signer = f"{v.signed.signer.name} (serial {v.signed.signer.serial})"
        files: list[tuple[str, int]] = []  # each data file and its records, in stream order
        bodies: list[bytes] = []
        for f in placing.parents_first(m.files):
            body = v.files[f.path]
            if f.kind != "data":
                store.raw.put_stream(io.BytesIO(body))  # attachments: kept as evidence
                continue
            body = body if body.endswith(b"\n") or not body else body + b"\n"
            files.append((f.path, sum(1 for line in body.split(b"\n") if line.strip())))
            bodies.append(body)
        # one stream, one run: a package of many small data files costs one ingest's
        # overhead, and is large enough for the second validating process (parents first)
        stream = b"".join(bodies)
        raw: list[Verdict] = []
        run = ingest_stream(
            store,
            io.BytesIO(stream),
            self.source or m.sender,
            f"{self.origin}#data",
            fmt="jsonl",
            settings=self.settings,
            now=self.now,
            on_progress=on_progress,
            on_verdict=raw.append,
            package=(row_id, signer),
        )
        runs = [run]
        if resumed:  # a resumed package: what the first attempt stored is accepted
            raw = placing.resumed(store, row_id, run.raw_sha256, raw)
        verdicts = placing.by_file(files, raw)
        pos = {f.path: i for i, f in enumerate(m.files)}
        verdicts.sort(key=lambda rv: (pos[rv.file], rv.line))  # the manifest's order
        counts: dict[str, int] = {}
        for rv in verdicts:
            counts[rv.outcome] = counts.get(rv.outcome, 0) + 1
        receipt = Receipt(
            issuer=self.who.platform_code,
            issued=self.now,
            status="processed",
            package_sha256=self.sha,
            package_id=m.package_id,
            sender=m.sender,
            manifest_hash=manifest_hash(v),
            counts=counts,
            records=verdicts,
        )
        signed = sign(receipt, self.who)
        with store.write() as conn:
            conn.execute(
                update(PKG)
                .where(PKG.c.id == row_id)
                .values(status="done", receipt=signed, claimed_until=None)
            )
            detail = {"sha256": self.sha, **counts}
            if self.sealed:
                detail["envelope"] = self.sealed
            audit.append(conn, m.sender, "package.received", m.package_id, detail)
        return Received("processed", receipt, signed, row_id, runs)


def manifest_hash(v: Verified) -> str:
    d = v.manifest.digest
    return f"{d}:{crypto.digest(d, v.manifest_bytes).hex()}"


def _original(receipt_bytes: bytes) -> Receipt:
    return parse(dict(archive.read(receipt_bytes, "stored receipt"))[RECEIPT], "stored receipt")


def _refuse(
    store: Store, who: SigningIdentity, now: datetime, sha: str, exc: InputError
) -> Received:
    with store.write() as conn:
        audit.append(
            conn,
            "hub",
            "package.refused",
            exc.source,
            {"sha256": sha, "code": exc.code, "reason": exc.reason, "sender": exc.sender},
        )
    receipt = _refusal(who, now, sha, exc)
    return Received("refused", receipt, sign(receipt, who), reason=exc)


def _refusal(who: SigningIdentity, now: datetime, sha: str, exc: InputError) -> Receipt:
    return Receipt(
        issuer=who.platform_code,
        issued=now,
        status="refused",
        package_sha256=sha,
        refusal=Refusal(code=exc.code, message=exc.reason),
    )
