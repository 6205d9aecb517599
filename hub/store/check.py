"""Is the store sound?  What ``hub db check`` looks at after a crash, a restore or a disk
that filled: the database's own integrity (SQLite), every current record pointing at a
version with its content, the audit chain, and the raw store holding every batch it lists
(``deep``: and every object's bytes still hashing to its name).  Leftovers of a killed
process (``.incoming-*`` temporary files, which the next write removes once they are an
hour old; runs still marked running, which the next run marks interrupted) are counted,
not failures."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, func, select, text

from hub.store import audit
from hub.store.engine import Store
from hub.store.lease import gone
from hub.store.models import CurrentRecord, RawBatch, RecordVersion, SyncRun, table


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    hint: str = ""  # what to do when it failed


def _database(store: Store, conn: Connection) -> Check:
    if store.dialect != "sqlite":
        return Check("database", True, f"{store.dialect}: its own write-ahead log keeps it whole")
    quick = conn.execute(text("PRAGMA integrity_check")).scalars().all()
    fks = conn.execute(text("PRAGMA foreign_key_check")).all()
    if quick == ["ok"] and not fks:
        return Check("database", True, "SQLite integrity_check ok, no foreign key broken")
    return Check(
        "database",
        False,
        f"integrity_check: {'; '.join(map(str, quick[:5]))}; {len(fks)} foreign key(s) broken",
        "stop the hub and restore the database from its last backup (docs/operations.md)",
    )


def _current(conn: Connection) -> Check:
    cur, ver = table(CurrentRecord), table(RecordVersion)
    j = cur.outerjoin(ver, ver.c.id == cur.c.version_id)
    bad = conn.execute(
        select(func.count())
        .select_from(j)
        .where(
            (ver.c.id.is_(None))
            | ((ver.c.content_hash != cur.c.content_hash) & cur.c.conflict.is_(False))
        )
    ).scalar_one()
    n = conn.execute(select(func.count()).select_from(cur)).scalar_one()
    if bad == 0:
        return Check("current records", True, f"{n} current records, each on its version")
    return Check(
        "current records",
        False,
        f"{bad} of {n} current records point at a missing version or another content",
        "restore the database from its last backup; the raw batches can be ingested again",
    )


def _audit(conn: Connection) -> Check:
    rep = audit.verify(conn)
    if rep.broken_at is None:
        return Check("audit chain", True, f"{rep.entries} entries, every hash and link holds")
    return Check(
        "audit chain",
        False,
        f"broken at entry {rep.broken_at}: {rep.reason}",
        "the audit log was altered or lost an entry: keep this database as evidence and "
        "compare it with the last backup (hub audit list)",
    )


def _raw(store: Store, conn: Connection, deep: bool) -> Check:
    shas = conn.execute(select(table(RawBatch).c.sha256)).scalars().all()
    missing = [s for s in shas if not store.raw.has(s)]
    altered: list[str] = []
    if deep:
        for s in shas:
            if s in missing:
                continue
            h = hashlib.sha256()
            try:
                with store.raw.open(s) as fh:
                    while block := fh.read(1 << 20):
                        h.update(block)
            except Exception:
                altered.append(s)
                continue
            if h.hexdigest() != s:
                altered.append(s)
    how = "read and hashed" if deep else "present (--deep hashes them)"
    if not missing and not altered:
        return Check("raw store", True, f"{len(shas)} raw batches, every object {how}")
    parts = [
        f"{len(bad)} {what} ({', '.join(b[:12] for b in bad[:3])})"
        for what, bad in (("missing", missing), ("altered", altered))
        if bad
    ]
    return Check(
        "raw store",
        False,
        f"of {len(shas)} raw batches: {'; '.join(parts)}",
        "restore data_dir/raw from the last backup: the raw batches are the evidence and "
        "what quarantined records are replayed from",
    )


def _leftovers(store: Store, conn: Connection) -> Check:
    temp = list(store.raw.root.glob(".incoming-*")) if store.raw.root.is_dir() else []
    run = table(SyncRun)
    owners = conn.execute(select(run.c.owner).where(run.c.status == "running")).scalars().all()
    dead = sum(1 for o in owners if gone(o))
    return Check(
        "leftovers",
        True,
        f"{len(temp)} temporary raw file(s) of interrupted writes; {len(owners)} run(s) marked "
        f"running, {dead} of them of a killed process (the next run marks those interrupted; "
        "the same input again completes them)",
    )


def check_store(store: Store, *, deep: bool = False) -> list[Check]:
    steps: list[Callable[[Connection], Check]] = [
        lambda c: _database(store, c),
        _current,
        _audit,
        lambda c: _raw(store, c, deep),
        lambda c: _leftovers(store, c),
    ]
    with store.read() as conn:
        return [step(conn) for step in steps]
