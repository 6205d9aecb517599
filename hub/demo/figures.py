"""What a node did, read back from its store: every record's fate, the top reasons for what
was not taken, what went upstream and what the platform above said, packages received and
supervision findings.  Pure reading; the demo prints it and its test checks it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from hub.config import NodeConfig
from hub.forward.status import targets
from hub.store.engine import Store
from hub.store.models import CurrentRecord, Finding, IssueRow, Package, SyncRun, table

RUN, ISSUE, PKG, FIND = table(SyncRun), table(IssueRow), table(Package), table(Finding)
CUR = table(CurrentRecord)
FATES = ("records_in", "accepted", "duplicate", "held", "released", "rejected", "quarantined")


@dataclass
class Figures:
    fates: dict[str, int]
    reasons: list[tuple[str, int]]  # rule, records not taken for it (top 3)
    current: int  # live records in the store
    packages_in: dict[str, int]
    forwarded: list[dict[str, Any]] = field(default_factory=list)
    findings: list[tuple[str, int]] = field(default_factory=list)

    @property
    def conserved(self) -> bool:
        f = self.fates
        taken = f["accepted"] + f["duplicate"] + f["held"] + f["rejected"] + f["quarantined"]
        return f["records_in"] == taken


def figures(cfg: NodeConfig, store: Store) -> Figures:
    with store.read() as conn:
        sums = conn.execute(select(*(func.coalesce(func.sum(RUN.c[k]), 0) for k in FATES))).one()
        fates = dict(zip(FATES, (int(x) for x in sums), strict=True))
        not_taken = ISSUE.c.outcome.in_(("rejected", "quarantined"))
        n = func.count(func.distinct(ISSUE.c.run_id * 1_000_000 + ISSUE.c.record_index))
        reasons = [
            (r.rule, int(r.n))
            for r in conn.execute(
                select(ISSUE.c.rule, n.label("n"))
                .where(not_taken, ISSUE.c.severity == "error")
                .group_by(ISSUE.c.rule)
                .order_by(n.desc(), ISSUE.c.rule)
                .limit(3)
            )
        ]
        current = int(
            conn.execute(select(func.count()).select_from(CUR).where(~CUR.c.deleted)).scalar() or 0
        )
        packages = {
            str(k): int(v)
            for k, v in conn.execute(select(PKG.c.status, func.count()).group_by(PKG.c.status))
        }
        found = [
            (r.rule, int(r.n))
            for r in conn.execute(
                select(FIND.c.rule, func.count().label("n"))
                .where(FIND.c.status == "open")
                .group_by(FIND.c.rule)
                .order_by(func.count().desc(), FIND.c.rule)
            )
        ]
    return Figures(fates, reasons, current, packages, targets(cfg, store), found)
