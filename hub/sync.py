"""One sync run of a source (design §2 steps 1–7): pull, store, map, validate, reconcile,
commit with the cursor, then acknowledge.  The CLI and the scheduler call ``sync_source``.

Per batch: ``ingest_stream`` commits the data with the batch's cursor; only then is the batch
acknowledged (a remote file moves to ``done/``).  A batch that is a signed package (a ``.zip``
drop, or a source whose format is ``package``) is received instead: verified, ingested
without a mapping, and answered with the node's signed receipt, which the adapter leaves
for the sender (``receipts/NAME.receipt`` beside the drop) before the drop is acknowledged;
a refused package gets a signed refusal receipt the same way.  An input refused as a whole is
rejected (it moves to ``failed/``; its raw bytes stay in the store) and the run goes on.
A transient fault (RetryableError) ends the run; nothing after the last commit is lost and
the next run starts from the committed cursor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from hub.config import NodeConfig
from hub.errors import InputError, RetryableError
from hub.ingest.outcome import Counts, Verdict
from hub.ingest.pipeline import RunResult, ingest_stream, set_cursor
from hub.interfaces import Adapter, Batch
from hub.mapping import Mapping
from hub.package.build import SigningIdentity
from hub.package.envelope import Unsealer
from hub.package.node import identity, trust_store, unsealer
from hub.package.receipt import receipt_name
from hub.package.receive import receive_package
from hub.package.trust import TrustStore
from hub.sources import mapping_of, open_adapter
from hub.store import audit
from hub.store.engine import Store
from hub.store.models import SourceCursor


@dataclass
class BatchOutcome:
    name: str
    origin: str
    status: str  # done, failed (refused whole), error (transient; the run stopped)
    runs: list[RunResult] = field(default_factory=list)  # a package: one per data file
    error: str | None = None
    code: str | None = None
    package: str | None = None  # a signed package: its id (or None if refused unread)
    receipt: str | None = None  # where its signed receipt was left for the sender
    verdicts: list[Verdict] | None = field(default=None, repr=False)  # rows' fates, not a package
    left: str | None = None  # where the adapter left those verdicts for the source

    @property
    def counts(self) -> Counts | None:
        return Counts.total(r.counts for r in self.runs) if self.runs else None

    def as_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"name": self.name, "origin": self.origin, "status": self.status}
        if self.runs:
            d["run_ids"] = [r.run_id for r in self.runs]
        if (c := self.counts) is not None:
            d |= c.as_dict()
        if self.package is not None or self.receipt is not None:
            d |= {"package": self.package, "receipt": self.receipt}
        if self.left is not None:
            d["verdicts_left"] = self.left
        if self.error:
            d |= {"error": self.error, "code": self.code}
        return d


@dataclass
class SyncReport:
    source: str
    cursor_before: str | None
    cursor_after: str | None = None
    batches: list[BatchOutcome] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    error: str | None = None  # set when a transient fault stopped the run

    @property
    def ok(self) -> bool:
        return self.error is None and all(b.status == "done" for b in self.batches)

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "cursor_before": self.cursor_before,
            "cursor_after": self.cursor_after,
            "batches": [b.as_dict() for b in self.batches],
            **self.counts.as_dict(),
            "error": self.error,
        }


def current_cursor(store: Store, source: str) -> str | None:
    with store.read() as conn:
        return conn.execute(
            select(SourceCursor.cursor).where(SourceCursor.source == source)
        ).scalar_one_or_none()


def sync_source(
    cfg: NodeConfig,
    store: Store,
    source: str,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    on_batch: Callable[[Batch], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> SyncReport:
    """Pull everything new from ``source`` (at most ``limit`` batches) into the store."""
    mapping = mapping_of(cfg, source)
    report = SyncReport(source, current_cursor(store, source))
    receiver = _Receiver(cfg)
    with open_adapter(cfg, source) as adapter:
        try:
            for batch in adapter.pull(report.cursor_before):
                if on_batch:
                    on_batch(batch)
                if batch.refused is not None:
                    outcome = BatchOutcome(
                        batch.name,
                        batch.origin,
                        "failed",
                        error=batch.refused.reason,
                        code=batch.refused.code,
                    )
                    with store.write() as conn:
                        audit.append(conn, source, "batch.refused", batch.origin, outcome.as_dict())
                elif is_package(batch):
                    outcome = receiver.receive(store, source, batch, adapter, now, on_progress)
                else:
                    outcome = _ingest_one(cfg, store, source, batch, mapping, now, on_progress)
                report.batches.append(outcome)
                if (counts := outcome.counts) is not None:
                    report.counts.merge(counts)
                if outcome.status == "done":
                    if outcome.verdicts is not None:  # a county system's rows: their fates
                        outcome.left = adapter.verdicts(batch, outcome.verdicts)
                    adapter.ack(batch)
                else:
                    adapter.reject(batch, outcome.error or "refused")
                    if adapter.ordered:
                        break  # the cursor must not pass a refused batch: fix, then rerun
                if limit is not None and len(report.batches) >= limit:
                    break
        except RetryableError as exc:
            report.error = str(exc)
            with store.write() as conn:
                audit.append(conn, source, "sync.interrupted", source, {"error": str(exc)})
    report.cursor_after = current_cursor(store, source)
    return report


def _ingest_one(
    cfg: NodeConfig,
    store: Store,
    source: str,
    batch: Batch,
    mapping: Mapping | None,
    now: datetime | None,
    on_progress: Callable[[int], None] | None,
) -> BatchOutcome:
    verdicts: list[Verdict] = []
    try:
        with batch.open() as fh:
            run = ingest_stream(
                store,
                fh,
                source,
                batch.origin,
                fmt=batch.fmt,
                settings=cfg.ingest,
                now=now,
                cursor=batch.cursor,
                on_progress=on_progress,
                mapping=mapping,
                input_name=batch.name,
                on_verdict=verdicts.append,
            )
    except InputError as exc:
        return BatchOutcome(batch.name, batch.origin, "failed", error=exc.reason, code=exc.code)
    return BatchOutcome(batch.name, batch.origin, "done", runs=[run], verdicts=verdicts)


def is_package(batch: Batch) -> bool:
    """A signed package: declared so, or a ``.zip`` drop (``.p7m``: a package encrypted to
    this node) whose format is not declared."""
    if batch.fmt is not None:
        return batch.fmt == "package"
    return batch.name.lower().endswith((".zip", ".p7m"))


class _Receiver:
    """Receives package batches as this node; its keys are loaded at the first package, so a
    source that never sees one needs no [trust] or [signing]."""

    def __init__(self, cfg: NodeConfig) -> None:
        self.cfg = cfg
        self._keys: tuple[TrustStore, SigningIdentity, Unsealer] | None = None

    def receive(
        self,
        store: Store,
        source: str,
        batch: Batch,
        adapter: Adapter,
        now: datetime | None,
        on_progress: Callable[[int], None] | None,
    ) -> BatchOutcome:
        if self._keys is None:  # a ConfigError here is the node's fault: it ends the run
            self._keys = (trust_store(self.cfg), identity(self.cfg), unsealer(self.cfg))
        trust, who, keys = self._keys
        got = receive_package(
            store,
            batch.read(),
            batch.origin,
            trust,
            who,
            source=source,
            settings=self.cfg.ingest,
            now=now,
            on_progress=on_progress,
            unsealer=keys,
        )
        r = got.receipt
        outcome = BatchOutcome(batch.name, batch.origin, "done", runs=got.runs)
        outcome.package = r.package_id
        if got.status == "refused":
            assert r.refusal is not None
            outcome.status, outcome.code = "failed", r.refusal.code
            outcome.error = r.refusal.message
        elif batch.cursor is not None and got.runs:
            with store.write() as conn:  # replaying a package is harmless: it is a duplicate
                set_cursor(conn, source, got.runs[-1].run_id, got.receipt.issued, batch.cursor)
        outcome.receipt = adapter.reply(batch, receipt_name(batch.name, r), got.receipt_bytes)
        return outcome
