"""The attachments a record arrived with, kept beside the version they came in.

A Fujian message lists its attachments in FILECONTEXT (the 附件采集项 code, the file name, the
file's path on the sender's FTP drop, IS_DELETE); the decoder hands the list on with the
record (``RawRecord.extra["attachments"]``).  When that record becomes a new version, the list
is written in the same transaction as the version, so `hub show` can say what came with it.
The files themselves are not fetched (they lie on the sender's drop, docs/interop.md).  A
duplicate keeps the attachments of the version it duplicates; a record that waits for its
parent (HELD) keeps its list only in the raw message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from hub.ingest.chunk import Item
from hub.ingest.outcome import Outcome, Verdict
from hub.store.models import RecordAttachment, RecordVersion, table

ATT, VER = table(RecordAttachment), table(RecordVersion)


def keep(conn: Connection, items: Sequence[Item], verdicts: Sequence[Verdict]) -> int:
    """Write the lists of the chunk's new versions; the number of attachments written."""
    rows: list[dict[str, Any]] = []
    for it, v in zip(items, verdicts, strict=True):
        listed = (it.raw.extra or {}).get("attachments")
        if not listed or v.outcome != Outcome.ACCEPTED or v.version is None:
            continue
        vid = conn.execute(
            select(VER.c.id).where(
                VER.c.dataset == v.dataset,
                VER.c.business_key == v.key,
                VER.c.version_no == v.version,
            )
        ).scalar_one()
        rows += [
            {
                "version_id": vid,
                "seq": n,
                "code": a.get("FILE_EN_NAME") or None,
                "name": a.get("FILE_NAME") or None,
                "location": a.get("BINARY_CONTENT") or None,
                "removed": a.get("IS_DELETE") == "1",
            }
            for n, a in enumerate(listed, start=1)
        ]
    if rows:
        conn.execute(ATT.insert(), rows)
    return len(rows)
