"""What a target said of each record a package carried, kept beside what was sent
(forward_item): the verdicts of a signed receipt, or the per-record answers of a peer that
signs nothing (a Fujian-style service)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import update

from hub.interfaces import LineAnswer
from hub.package.receipt import Receipt
from hub.store.bulk import Bulk
from hub.store.engine import Store
from hub.store.models import ForwardItem, table

ITEM = table(ForwardItem)

# forward_item's columns, in the order of the rows written here
ITEM_COLS = (
    "target",
    "dataset",
    "business_key",
    "op",
    "content_hash",
    "version_id",
    "package_id",
    "line",
    "sent_at",
    "outcome",
    "upstream_version",
    "rule",
    "field",
    "value",
    "message",
    "verdict_at",
)
NO_VERDICT = (None,) * 7
LINE = ("target", "package_id", "dataset", "line")  # a verdict's line (ix_forward_item_line)


def record_verdicts(
    store: Store, name: str, receipt: Receipt, now: datetime, package_id: str | None = None
) -> dict[str, int]:
    """``receipt``'s verdicts beside what ``name`` was sent; ``package_id``: the package a
    refusal answers (a refusal does not name the package: its id was only claimed)."""
    pid = receipt.package_id or package_id or ""
    with store.write() as conn:
        if receipt.status == "refused" and receipt.refusal is not None:
            conn.execute(
                update(ITEM)
                .where(ITEM.c.target == name, ITEM.c.package_id == pid)
                .values(
                    outcome="rejected",
                    rule=receipt.refusal.code,
                    message=receipt.refusal.message,
                    verdict_at=now,
                )
            )
            return {"refused": 1}
        db = Bulk(conn)
        when = db.when(now)
        line = (name, pid)
        rows = [
            (
                v.outcome,
                v.version,
                v.rule,
                v.field,
                v.value,
                v.message,
                when,
                *line,
                v.dataset,
                v.line,
            )
            for v in receipt.records
        ]
        db.update("forward_item", ITEM_COLS[9:], LINE, rows)
    return dict(Counter(v.outcome for v in receipt.records))


def record_answers(
    store: Store, name: str, pid: str, answers: list[LineAnswer], now: datetime
) -> dict[str, int]:
    with store.write() as conn:
        db = Bulk(conn)
        when = db.when(now)
        rows: list[tuple[object, ...]] = []
        for a in answers:
            outcome, rule = ("accepted", None) if a.accepted else ("rejected", "peer")
            verdict = (outcome, None, rule, None, None, a.message or None, when)
            rows.append((*verdict, name, pid, a.dataset, a.line))
        db.update("forward_item", ITEM_COLS[9:], LINE, rows)
    return dict(Counter("accepted" if a.accepted else "rejected" for a in answers))
