"""全面性 comprehensiveness: of the transactions a source announced, the share whose later
stages arrived when they were due.

A source announces a transaction with its section (标段, the SECTION record).  Once
``grace_days`` have passed since the section's DATA_TIMESTAMP (60: the law's shortest path
from documents to award is about 35 days: 20 days to the deadline, the evaluation, 3 days of
publicity), the node expects, from any source, the records of each stage:

    投标人名单 TENDER_LIST · 评标报告 EVALUATION_REPORT · 中标结果 WIN_RESULT_ANNO

A section with a 招标异常情况报告 (TENDER_ABNORMITY_REPORT: the tender failed, was stopped)
owes no later stage.  A source that sends signed packages numbers them (the manifest's
``sequence``, 1, 2, 3 … per receiver): the numbers below the highest that never arrived in a
verified package are packages lost on the way, with every transaction they carried.

    全面性 = (due sections with every stage / due sections)
             × (packages arrived / highest package number)

the second factor only for a source that numbers its packages: a missing package is taken
to have carried as many due sections as an arrived one.  The sections that lack a stage and
the missing package numbers are listed, so a county can send what is missing
(docs/supervision.md).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from hub.store.keyfilter import custom_plans, parts, values_in
from hub.store.models import CurrentRecord, Package, RecordRef, table

CUR, REF, PKG = table(CurrentRecord), table(RecordRef), table(Package)
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
    packages: int = 0  # numbered packages arrived (distinct numbers)
    numbered: int = 0  # the highest number: packages the source sent, as far as we know
    lost: list[int] = field(default_factory=list)  # numbers that never arrived (first 50)

    @property
    def share(self) -> float | None:
        factors = [self.complete / self.due] if self.due else []
        if self.numbered:
            factors.append(self.packages / self.numbered)
        return round(math.prod(factors), 4) if factors else None

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "sections": self.sections, "due": self.due,
                "complete": self.complete, "comprehensiveness": self.share,
                "missing": self.missing, "examples": self.examples,
                "packages": self.packages, "numbered": self.numbered,
                "lost": self.lost}  # fmt: skip


def coverage(
    conn: Connection,
    source: str | None = None,
    now: dt.datetime | None = None,
    grace_days: int = GRACE_DAYS,
    examples: int = 10,
) -> dict[str, Coverage]:
    """全面性 per source (sources that announced no section and numbered no package are left
    out)."""
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
    _numbered(conn, source, out)
    return out


def _numbered(conn: Connection, source: str | None, out: dict[str, Coverage]) -> None:
    """The package numbers each source's verified packages carried, and the gaps below the
    highest (a package refused before its signature was checked has no row: a gap)."""
    q = select(PKG.c.source, PKG.c.sequence).where(PKG.c.sequence.is_not(None)).distinct()
    if source:
        q = q.where(PKG.c.source == source)
    got: dict[str, set[int]] = defaultdict(set)
    for src, n in conn.execute(q).all():
        got[str(src)].add(int(n))
    for src, numbers in sorted(got.items()):
        c = out.setdefault(src, Coverage(src))
        c.packages, c.numbered = len(numbers), max(numbers)
        c.lost = [n for n in range(1, c.numbered + 1) if n not in numbers][:50]
