"""One sync run of a source (design §2 steps 1–7): pull, store, map, validate, reconcile,
commit with the cursor, then acknowledge.  The CLI and the scheduler call ``sync_source``.

Per batch: ``ingest_stream`` commits the data with the batch's cursor; only then is the batch
acknowledged (a remote file moves to ``done/``).  An input refused as a whole is rejected
(it moves to ``failed/``; its raw bytes stay in the store) and the run goes on with the next.
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
from hub.ingest.outcome import Counts
from hub.ingest.pipeline import RunResult, ingest_stream
from hub.interfaces import Batch
from hub.mapping import Mapping
from hub.sources import mapping_of, open_adapter
from hub.store import audit
from hub.store.engine import Store
from hub.store.models import SourceCursor


@dataclass
class BatchOutcome:
    name: str
    origin: str
    status: str  # done, failed (refused whole), error (transient; the run stopped)
    run: RunResult | None = None
    error: str | None = None
    code: str | None = None

    def as_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"name": self.name, "origin": self.origin, "status": self.status}
        if self.run is not None:
            d |= {"run_id": self.run.run_id, **self.run.counts.as_dict()}
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
                else:
                    outcome = _ingest_one(cfg, store, source, batch, mapping, now, on_progress)
                report.batches.append(outcome)
                if outcome.run is not None:
                    report.counts.merge(outcome.run.counts)
                if outcome.status == "done":
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
            )
    except InputError as exc:
        return BatchOutcome(batch.name, batch.origin, "failed", error=exc.reason, code=exc.code)
    return BatchOutcome(batch.name, batch.origin, "done", run=run)
