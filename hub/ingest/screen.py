"""Screening one record of a chunk: its errors make it REJECTED (coded) or QUARANTINED (raw
kept), with its issue rows; a record without errors becomes a candidate version."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import orjson

from hub.ingest.chunk import Cand, Item
from hub.ingest.outcome import QUARANTINE_RULES, Outcome, Verdict
from hub.reconcile.keys import KeyPlan
from hub.reconcile.prepare import prepare
from hub.validation.issues import Issue


class Writing(Protocol):
    """What screening needs of the run it writes for."""

    plans: dict[str, KeyPlan]
    run_id: int
    now: datetime


def screen(
    w: Writing, it: Item, issue_rows: list[dict[str, Any]], quarantine_rows: list[dict[str, Any]]
) -> Cand | Verdict:
    raw = it.raw
    errors = [x for x in it.issues if x.severity == "error"]
    key = p = None
    plan = w.plans.get(raw.dataset)
    if not errors and plan is not None:
        p = it.prep or prepare(plan, raw.fields, raw.op)
        key = p.key if p else None
        if p is None:
            missing = [f for f in plan.key_fields if not raw.fields.get(f)]
            errors = [
                Issue(
                    it.source,
                    it.index,
                    raw.dataset,
                    missing[0],
                    "key.missing",
                    None,
                    f"{it.source}, record {it.index}, {raw.dataset}: the business key "
                    f"({' + '.join(plan.key_fields)}) is incomplete; "
                    f"{', '.join(missing)} missing",
                )
            ]
            it.issues = [*it.issues, *errors]
    if errors and key is None and plan is not None:
        key = plan.key(raw.fields)  # a record not taken still names its key, if it has one
    if errors:
        quarantined = [x for x in errors if x.rule in QUARANTINE_RULES]
        outcome = Outcome.QUARANTINED if quarantined else Outcome.REJECTED
        first = (quarantined or errors)[0]
        issue_rows_of(w, it, key, outcome, issue_rows)
        if quarantined:
            quarantine_rows.append(quarantine_row(w, it, first))
        return Verdict(
            it.index,
            outcome,
            raw.dataset,
            key,
            None,
            first.rule,
            first.field or None,
            first.value,
            first.message,
        )
    assert plan is not None and p is not None
    if it.issues:  # warnings only
        issue_rows_of(w, it, p.key, Outcome.ACCEPTED, issue_rows)
    return Cand(it, plan, p)


def issue_rows_of(
    w: Writing, it: Item, key: str | None, outcome: Outcome, out: list[dict[str, Any]]
) -> None:
    for x in it.issues:
        out.append(
            {
                "run_id": w.run_id,
                "source": it.source,
                "raw_sha256": it.raw_sha256,
                "record_index": it.index,
                "dataset": x.dataset or it.raw.dataset,
                "business_key": key,
                "field": x.field,
                "rule": x.rule,
                "value": x.value,
                "message": x.message,
                "severity": x.severity,
                "outcome": outcome.value,
            }
        )


def quarantine_row(w: Writing, it: Item, first: Issue) -> dict[str, Any]:
    raw = it.raw
    if raw.text is not None:
        fmt = it.fmt if it.fmt in ("xml", "row") else "jsonl"
        text = raw.text.decode("utf-8", "replace")
    else:
        envelope = {"dataset": raw.dataset, "op": raw.op, "key": raw.key, "record": raw.fields}
        text, fmt = orjson.dumps(envelope).decode(), "jsonl"
    return {
        "run_id": w.run_id,
        "source": it.source,
        "raw_sha256": it.raw_sha256,
        "record_index": it.index,
        "dataset": raw.dataset,
        "rule": first.rule,
        "message": first.message,
        "raw_record": text,
        "raw_format": fmt,
        "status": "open",
        "created_at": w.now,
    }
