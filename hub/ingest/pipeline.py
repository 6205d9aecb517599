"""The ingest pipeline (design §2 steps 1, 3–7): one function for the CLI, scheduler and HTTP.

1. the raw bytes are stored, content-addressed, before anything else;
2. a sync run is opened;
3. records are decoded and validated as a stream (JSONL a block at a time);
4. every ``chunk_records`` records, one writing transaction reconciles the chunk and commits
   its versions, issues, quarantine and holds and the run's counters together; the
   caller's source cursor commits with the last chunk, so a failed run never moves it.
   A crash loses at most the uncommitted chunk, and running the same input again turns
   what was committed into DUPLICATEs: nothing is lost and nothing is doubled.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Connection, update

from hub.config import IngestSection
from hub.dictionary.loader import load_dictionary
from hub.errors import InputError
from hub.ingest import attachments, streams
from hub.ingest.chunk import Item
from hub.ingest.holds import expire_holds
from hub.ingest.orphans import interrupt_dead
from hub.ingest.outcome import Counts, Verdict
from hub.ingest.parallel import available, validated_chunks
from hub.ingest.reconciler import Reconciler
from hub.mapping.compiled import Mapping
from hub.mapping.records import ROW_FORMAT, iter_mapped
from hub.store import audit
from hub.store.blobs import record_raw
from hub.store.engine import Store
from hub.store.lease import holder_id
from hub.store.models import Hold, SourceCursor, SyncRun, table
from hub.store.upsert import upsert
from hub.validation.limits import MB, Limits
from hub.validation.sniff import detect_format
from hub.validation.validator import Validator

RUN, HOLD = table(SyncRun), table(Hold)


@dataclass
class RunResult:
    run_id: int
    source: str
    origin: str
    raw_sha256: str
    format: str
    counts: Counts
    status: str = "done"
    error: str | None = None
    expired_holds: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "source": self.source,
            "origin": self.origin,
            "raw_sha256": self.raw_sha256,
            "format": self.format,
            "status": self.status,
            **self.counts.as_dict(),
            "expired_holds": self.expired_holds,
            **({"error": self.error} if self.error else {}),
        }


def default_validator(settings: IngestSection | None = None) -> Validator:
    """One compiled validator per process and dictionary (compiling schemas and rules takes a
    while); the dictionary is the node's, with its provincial overlays, the limits its."""
    s = settings or IngestSection()
    return _validator(s.max_input_mb, s.max_line_mb, load_dictionary().profile)


@functools.lru_cache(maxsize=4)
def _validator(max_input_mb: int, max_line_mb: int, profile: str) -> Validator:
    d = load_dictionary()
    assert d.profile == profile
    limits = Limits(max_input_bytes=max_input_mb * MB, jsonl_max_line=max_line_mb * MB)
    return Validator(d, limits=limits)


def _now() -> datetime:
    return datetime.now(UTC)


def ingest_file(
    store: Store,
    path: Path,
    source: str,
    *,
    fmt: str | None = None,
    settings: IngestSection | None = None,
    now: datetime | None = None,
    cursor: str | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_verdict: Callable[[Verdict], None] | None = None,
    mapping: Mapping | None = None,
) -> RunResult:
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(str(path), f"cannot be read ({exc.strerror})") from exc
    with fh:
        return ingest_stream(
            store,
            fh,
            source,
            str(path),
            fmt=fmt,
            settings=settings,
            now=now,
            cursor=cursor,
            on_progress=on_progress,
            on_verdict=on_verdict,
            mapping=mapping,
        )


def ingest_stream(
    store: Store,
    stream: BinaryIO,
    source: str,
    origin: str,
    *,
    fmt: str | None = None,
    settings: IngestSection | None = None,
    now: datetime | None = None,
    cursor: str | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_verdict: Callable[[Verdict], None] | None = None,
    package: tuple[int, str] | None = None,
    mapping: Mapping | None = None,
    input_name: str | None = None,
) -> RunResult:
    """Ingest one input; raise InputError (after recording a failed run) if it is unreadable.

    ``package``: (package row id, signer) when the input is a data file of a verified signed
    package; every version it creates records both.  ``mapping``: the input is a source
    system's own export (its format is the mapping's), mapped into data-set records before
    validation; records it cannot map are quarantined with their source row.
    ``input_name``: the name the mapping's ``match`` patterns see (default: ``origin``)."""
    settings = settings or IngestSection()
    clock = now or _now()
    sha, size = store.raw.put_stream(stream)
    if mapping is not None:
        fmt = mapping.input.format
    else:
        with store.raw.open(sha) as fh:
            fmt = detect_format(Path(input_name or origin), fh.read(65536), fmt)
    expired = expire_holds(store, clock)
    with store.write() as conn:
        record_raw(conn, sha, size, fmt, origin, clock)
        interrupt_dead(conn, clock)  # runs whose process was killed: not running any more
        run_id = conn.execute(
            RUN.insert().returning(RUN.c.id),
            {
                "source": source,
                "origin": origin[:1000],
                "raw_sha256": sha,
                "status": "running",
                "started_at": clock,
                "owner": holder_id(),
            },
        ).scalar_one()
    result = RunResult(run_id, source, origin, sha, fmt, Counts(), expired_holds=expired)
    pkg_id, signer = package or (None, None)
    rec = Reconciler(
        load_dictionary(),
        run_id,
        clock,
        timedelta(hours=settings.hold_hours),
        package_id=pkg_id,
        signer=signer,
    )
    validator = default_validator(settings)
    item_fmt = ROW_FORMAT if mapping is not None else fmt
    try:
        with contextlib.ExitStack() as stack:
            large = size >= settings.parallel_from_mb * MB
            if large:
                stack.enter_context(streams.bulk_gc())
            if mapping is not None:
                fh = stack.enter_context(store.raw.open(sha))
                chunks = streams.chunks(
                    iter_mapped(mapping, validator, fh, origin, input_name), settings.chunk_records
                )
            elif settings.parallel_validation and large and available():
                chunks = validated_chunks(
                    validator,
                    functools.partial(store.raw.open, sha),
                    origin,
                    fmt,
                    settings.chunk_records,
                    rec.prepare,
                )
            else:
                fh = stack.enter_context(store.raw.open(sha))
                chunks = streams.chunks(
                    validator.iter_stream(fh, origin, fmt), settings.chunk_records
                )
            for chunk, last in streams.with_last(chunks):
                items = [
                    Item(r.raw.index, r.raw, r.issues, item_fmt, source, sha, None, p)
                    for r, p in chunk
                    if r.raw.index  # index 0: a document-level result (its issues only)
                ]
                doc_issues = [i for r, _ in chunk if not r.raw.index for i in r.issues]
                if doc_issues:
                    raise InputError(
                        origin, doc_issues[0].message, code="schema.document"
                    )  # the batch document itself is wrong: refuse it whole
                with store.write() as conn:
                    res = rec.apply(conn, items)
                    attachments.keep(conn, items, res.verdicts)
                    _add_counts(conn, run_id, res.counts)
                    if last and cursor is not None:
                        # the cursor covers the whole input: it commits with the last chunk
                        set_cursor(conn, source, run_id, clock, cursor)
                        cursor = None
                result.counts.merge(res.counts)
                if on_verdict:
                    for v in res.verdicts:
                        on_verdict(v)
                if on_progress:
                    on_progress(len(items))
    except InputError as exc:
        _finish(store, result, "failed", exc.reason)
        raise
    except BaseException as exc:  # a crash: record it if we still can, then re-raise
        try:
            _finish(store, result, "failed", f"{type(exc).__name__}: {exc}")
        finally:
            raise
    if cursor is not None:  # an input without records still moves the cursor
        with store.write() as conn:
            set_cursor(conn, source, run_id, clock, cursor)
    _finish(store, result, "done", None)
    return result


def _add_counts(conn: Connection, run_id: int, c: Counts) -> None:
    conn.execute(
        update(RUN)
        .where(RUN.c.id == run_id)
        .values({k: getattr(RUN.c, k) + v for k, v in c.as_dict().items() if v})
    )


def set_cursor(conn: Connection, source: str, run_id: int, now: datetime, cursor: str) -> None:
    """Record ``source``'s cursor as of ``run_id``, in the caller's transaction."""
    upsert(
        conn,
        table(SourceCursor),
        [{"source": source, "cursor": cursor, "run_id": run_id, "updated_at": now}],
        ("source",),
    )


def _finish(store: Store, result: RunResult, status: str, error: str | None) -> None:
    result.status, result.error = status, error
    with store.write() as conn:
        conn.execute(
            update(RUN)
            .where(RUN.c.id == result.run_id)
            .values(status=status, finished_at=_now(), error=error)
        )
        audit.append(
            conn,
            result.source,
            f"ingest.{status}",
            result.origin,
            {"run": result.run_id, "raw": result.raw_sha256, **result.counts.as_dict()}
            | ({"error": error} if error else {}),
        )
