"""全面性 comprehensiveness: of the transactions a source announced, the share whose later
stages arrived when they were due.

A source announces a transaction with its section (标段, the SECTION record).  Once
``grace_days`` have passed since the section's DATA_TIMESTAMP (60: the law's shortest path
from documents to award is about 35 days: 20 days to the deadline, the evaluation, 3 days of
publicity), the node expects, from any source, the records of each stage:

    投标人名单 TENDER_LIST · 评标报告 EVALUATION_REPORT · 中标结果 WIN_RESULT_ANNO

A section with a 招标异常情况报告 (TENDER_ABNORMITY_REPORT: the tender failed, was stopped)
owes no later stage.  全面性 = due sections with every stage / due sections.  The sections
that lack a stage are listed, so a county can send what is missing (docs/supervision.md).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from hub.store.keyfilter import custom_plans, parts, values_in
from hub.store.models import CurrentRecord, RecordRef, table

CUR, REF = table(CurrentRecord), table(RecordRef)
STAGES = {
    "TENDER_LIST": "投标人名单",
    "EVALUATION_REPORT": "评标报告",
    "WIN_RESULT_ANNO": "中标结果",
}
ENDED = "TENDER_ABNORMITY_REPORT"
GRACE_DAYS = 60


@dataclass
class Coverage:
    source: str
    sections: int = 0  # announced
    due: int = 0
    complete: int = 0
    missing: dict[str, int] = field(default_factory=dict)  # stage → sections without it
    examples: list[dict[str, Any]] = field(default_factory=list)  # a few incomplete sections

    @property
    def share(self) -> float | None:
        return round(self.complete / self.due, 4) if self.due else None

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "sections": self.sections, "due": self.due,
                "complete": self.complete, "comprehensiveness": self.share,
                "missing": self.missing, "examples": self.examples}  # fmt: skip


def coverage(
    conn: Connection,
    source: str | None = None,
    now: dt.datetime | None = None,
    grace_days: int = GRACE_DAYS,
    examples: int = 10,
) -> dict[str, Coverage]:
    """全面性 per source (sources that announced no section are left out)."""
    custom_plans(conn)
    cutoff = f"{(now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=grace_days):%Y%m%d%H%M%S}"
    q = select(CUR.c.source, CUR.c.business_key, CUR.c.data_timestamp).where(
        CUR.c.dataset == "SECTION", CUR.c.deleted.is_(False)
    )
    if source:
        q = q.where(CUR.c.source == source)
    out: dict[str, Coverage] = {}
    due: dict[str, str] = {}  # section code → source
    for src, code, stamp in conn.execute(q).all():
        c = out.setdefault(src, Coverage(src))
        c.sections += 1
        if stamp <= cutoff:
            c.due += 1
            due[code] = src
    have: dict[str, set[str]] = defaultdict(set)
    for part in parts(sorted(due), 5000):
        rows = conn.execute(
            select(REF.c.value, REF.c.dataset)
            .where(REF.c.field == "BID_SECTION_CODE", values_in(REF.c.value, part),
                   REF.c.dataset.in_([*STAGES, ENDED]))
            .distinct()
        ).all()  # fmt: skip
        for code, ds in rows:
            have[code].add(ds)
    for code, src in sorted(due.items()):
        c, got = out[src], have.get(code, set())
        lacking = [] if ENDED in got else [s for s in STAGES if s not in got]
        if not lacking:
            c.complete += 1
            continue
        for s in lacking:
            c.missing[s] = c.missing.get(s, 0) + 1
        if len(c.examples) < examples:
            c.examples.append({"section": code, "missing": lacking})
    return out
