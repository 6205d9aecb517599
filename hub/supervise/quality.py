"""Data quality per source and month, the dimensions provinces score counties by
(docs/supervision.md gives the exact formulas):

- 完整性 completeness: records with every mandatory and conditionally mandatory field;
- 合规性 compliance: records that passed every dictionary and rule check (not rejected, not
  quarantined);
- 准确性 accuracy: accepted records that no supervision finding names;
- 及时性 timeliness: arrival − DATA_TIMESTAMP of the accepted versions: p50, p95 and the
  share within the SLA;
- 修复率 repair rate: rejected or quarantined records later accepted (replayed, or sent
  again corrected).

- 全面性 comprehensiveness (hub.supervise.coverage): of the sections a source announced,
  those whose later stages arrived when due; scored per source over all its sections, and
  repeated on each of its months.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, distinct, exists, func, select

from hub.store.engine import utc
from hub.store.models import Finding, IssueRow, Quarantine, RecordVersion, SyncRun, table
from hub.supervise.coverage import Coverage, coverage

RUN, ISSUE, Q, VER, F = (
    table(SyncRun), table(IssueRow), table(Quarantine), table(RecordVersion), table(Finding)
)  # fmt: skip
MISSING = ("required", "conditional.required")


@dataclass
class Score:
    source: str
    month: str
    records: int = 0
    incomplete: int = 0
    not_compliant: int = 0  # rejected + quarantined
    accepted: int = 0
    with_findings: int = 0
    to_repair: int = 0
    repaired: int = 0
    delays_h: list[float] = field(default_factory=list)
    within_sla: int = 0

    def as_row(self, sla_hours: float) -> dict[str, Any]:
        d = sorted(self.delays_h)

        def share(n: int, of: int) -> float | None:
            return round(n / of, 4) if of else None

        return {
            "source": self.source,
            "month": self.month,
            "records": self.records,
            "accepted": self.accepted,
            "completeness": share(self.records - self.incomplete, self.records),
            "compliance": share(self.records - self.not_compliant, self.records),
            "accuracy": share(self.accepted - self.with_findings, self.accepted),
            "timely_p50_h": round(d[len(d) // 2], 1) if d else None,
            "timely_p95_h": round(d[min(len(d) - 1, int(len(d) * 0.95))], 1) if d else None,
            "timeliness": share(self.within_sla, len(d)),
            "sla_hours": sla_hours,
            "repair_rate": share(self.repaired, self.to_repair),
            "to_repair": self.to_repair,
            "repaired": self.repaired,
        }


def scores(
    conn: Connection,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    source: str | None = None,
    sla_hours: float = 24.0,
    zone: str = "Asia/Shanghai",
    cover: dict[str, Coverage] | None = None,
) -> list[dict[str, Any]]:
    """The rows per source and month; ``cover``: 全面性 already computed (else computed)."""
    tz = ZoneInfo(zone)
    runs = select(RUN.c.id, RUN.c.source, RUN.c.started_at, RUN.c.records_in, RUN.c.accepted,
                  RUN.c.rejected, RUN.c.quarantined)  # fmt: skip
    if since:
        runs = runs.where(RUN.c.started_at >= since)
    if until:
        runs = runs.where(RUN.c.started_at < until)
    if source:
        runs = runs.where(RUN.c.source == source)
    month_of: dict[int, tuple[str, str]] = {}
    out: dict[tuple[str, str], Score] = {}
    for r in conn.execute(runs):
        started = utc(r.started_at)
        assert started is not None
        k = (r.source, f"{started.astimezone(tz):%Y-%m}")
        month_of[r.id] = k
        s = out.setdefault(k, Score(*k))
        s.records += r.records_in
        s.accepted += r.accepted
        s.not_compliant += r.rejected + r.quarantined
        s.to_repair += r.rejected + r.quarantined
    ids = list(month_of)
    for part in _parts(ids):
        _incomplete(conn, part, month_of, out)
        _repaired(conn, part, month_of, out)
        _delays(conn, part, month_of, out, tz, sla_hours)
    _findings(conn, out, tz)
    cover = coverage(conn, source) if cover is None else cover
    rows = [s.as_row(sla_hours) for _, s in sorted(out.items())]
    for row in rows:
        c = cover.get(row["source"])
        row["comprehensiveness"] = c.share if c else None
    return rows


def _parts(ids: list[int], n: int = 5000) -> list[list[int]]:
    return [ids[i : i + n] for i in range(0, len(ids), n)]


def _incomplete(conn: Connection, ids: list[int], month_of: Any, out: Any) -> None:
    q = (
        select(ISSUE.c.run_id, func.count(distinct(ISSUE.c.record_index)))
        .where(ISSUE.c.run_id.in_(ids), ISSUE.c.rule.in_(MISSING))
        .group_by(ISSUE.c.run_id)
    )
    for run_id, n in conn.execute(q):
        out[month_of[run_id]].incomplete += int(n)


def _repaired(conn: Connection, ids: list[int], month_of: Any, out: Any) -> None:
    # quarantined records replayed into the store
    q = (
        select(Q.c.run_id, func.count())
        .where(Q.c.run_id.in_(ids), Q.c.resolution == "accepted")
        .group_by(Q.c.run_id)
    )
    for run_id, n in conn.execute(q):
        out[month_of[run_id]].repaired += int(n)
    # rejected records whose key was later accepted from the same source
    later = exists().where(
        and_(
            VER.c.dataset == ISSUE.c.dataset,
            VER.c.business_key == ISSUE.c.business_key,
            VER.c.source == ISSUE.c.source,
            VER.c.run_id > ISSUE.c.run_id,
        )
    )
    fixed = (
        select(ISSUE.c.run_id, func.count(distinct(ISSUE.c.record_index)))
        .where(ISSUE.c.run_id.in_(ids), ISSUE.c.outcome == "rejected",
               ISSUE.c.business_key.is_not(None), later)
        .group_by(ISSUE.c.run_id)
    )  # fmt: skip
    for run_id, n in conn.execute(fixed):
        out[month_of[run_id]].repaired += int(n)


def _delays(
    conn: Connection, ids: list[int], month_of: Any, out: Any, tz: ZoneInfo, sla: float
) -> None:
    q = select(VER.c.run_id, VER.c.data_timestamp, VER.c.received_at).where(VER.c.run_id.in_(ids))
    for run_id, ts, received in conn.execute(q.execution_options(yield_per=10_000)):
        try:
            stamped = dt.datetime.strptime(ts[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(
                tzinfo=tz
            )
        except ValueError:
            continue
        arrived = utc(received)
        assert arrived is not None
        hours = max(0.0, (arrived - stamped.replace(tzinfo=tz)).total_seconds() / 3600)
        s = out[month_of[run_id]]
        s.delays_h.append(hours)
        s.within_sla += hours <= sla


def _findings(conn: Connection, out: dict[tuple[str, str], Score], tz: ZoneInfo) -> None:
    """Accepted records named by a finding (open or reviewed), by the month it was found."""
    q = select(F.c.source, F.c.found_at, F.c.dataset, F.c.business_key).where(
        F.c.status != "cleared"
    )
    seen: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for src, found, ds, key in conn.execute(q):
        when = utc(found)
        assert when is not None
        seen[(src, f"{when.astimezone(tz):%Y-%m}")].add((ds, key))
    for k, recs in seen.items():
        if k in out:
            out[k].with_findings += len(recs)
