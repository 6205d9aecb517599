"""How a received package's records are placed and answered: its data files parents first,
each verdict of the one ingest stream mapped back to its file and line, and a resumed
package's earlier versions reported as accepted."""

from __future__ import annotations

import bisect
from dataclasses import replace

from sqlalchemy import Connection, select

from hub.dictionary.loader import load_dictionary
from hub.ingest.outcome import Outcome, Verdict
from hub.package.manifest import FileEntry
from hub.package.receipt import RecordVerdict
from hub.reconcile.keys import key_plans
from hub.store.engine import Store
from hub.store.models import RecordVersion, table

VERSION = table(RecordVersion)


def parents_first(files: list[FileEntry]) -> list[FileEntry]:
    """Data files in dictionary order (PROJECT before TENDER_PROJECT before SECTION …), so
    that no record waits on a parent that comes later in the same package."""
    plans = key_plans(load_dictionary())

    def depth(f: FileEntry) -> int:
        plan = plans.get(f.dataset or "")
        return plan.depth if plan else 1 << 10

    return sorted(files, key=depth)


def resumed(store: Store, row_id: int, sha: str, verdicts: list[Verdict]) -> list[Verdict]:
    with store.read() as conn:
        before = _versions_of(conn, row_id)

    def fix(vd: Verdict) -> Verdict:
        n = before.get((sha, vd.index))
        if vd.outcome == "duplicate" and n is not None:
            return replace(vd, outcome=Outcome.ACCEPTED, version=n)
        return vd

    return [fix(vd) for vd in verdicts]


def by_file(files: list[tuple[str, int]], verdicts: list[Verdict]) -> list[RecordVerdict]:
    """Each verdict of the one stream as its data file's: record n of the stream is record
    n - (records of the files before it) of its file."""
    starts: list[int] = []
    n = 0
    for _, count in files:
        starts.append(n)
        n += count
    out = []
    for vd in verdicts:
        i = bisect.bisect_left(starts, vd.index) - 1
        path, first = files[i][0], starts[i]
        out.append(RecordVerdict.of(path, vd, first))
    return out


def _versions_of(conn: Connection, row_id: int) -> dict[tuple[str, int], int]:
    rows = conn.execute(
        select(VERSION.c.raw_sha256, VERSION.c.record_index, VERSION.c.version_no).where(
            VERSION.c.package_id == row_id
        )
    )
    return {(r.raw_sha256, r.record_index): r.version_no for r in rows}
