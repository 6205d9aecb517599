"""The interval kind: days from one date to another, within a record or across two records
linked by a code, against min_days / max_days, as of the event's date."""

from __future__ import annotations

from string import Template

from hub.supervise.pack import Rule
from hub.supervise.reading import Key, Looked, Rec, Seen, day_of, links, partners, region_of


def judge(rule: Rule, pack: str, start: Rec, end: Rec, link: str | None) -> Looked | None:
    assert rule.start is not None and rule.end is not None
    a, b = start.content.get(rule.start.field), end.content.get(rule.end.field)
    da, db = day_of(a), day_of(b)
    if da is None or db is None or not rule.in_force.covers(db):
        return None  # nothing to judge: a date is missing, or the rule was not in force
    lo, hi = rule.limits(region_of(end) or region_of(start))
    days = (db - da).days
    broken = (lo is not None and days < lo) or (hi is not None and days > hi)
    looked = Looked(rule, pack, start, end, link, broken, days, event_day=db)
    if broken:
        looked.evidence = {
            "start": {"dataset": start.dataset, "key": start.key, "field": rule.start.field,
                      "value": a, "source": start.source},
            "end": {"dataset": end.dataset, "key": end.key, "field": rule.end.field,
                    "value": b, "source": end.source},
            "days": days, "min_days": lo, "max_days": hi, "link": link, "law": rule.law,
        }  # fmt: skip
        looked.message = Template(rule.message).safe_substitute(
            days=days, start=f"{da:%Y-%m-%d}", end=f"{db:%Y-%m-%d}", min_days=lo, max_days=hi,
            start_record=f"{start.dataset} {start.key}", end_record=f"{end.dataset} {end.key}",
            link=link or "",
        )  # fmt: skip
    return looked


def interval(seen: Seen, pack: str, rule: Rule) -> list[Looked]:
    assert rule.start is not None and rule.end is not None
    if not rule.across:
        recs = seen.records(seen.scope(rule.end.dataset))
        return [x for r in recs.values() if (x := judge(rule, pack, r, r, None)) is not None]
    # across two records: from each touched record on either side to its partners
    mine = seen.records([*seen.scope(rule.start.dataset), *seen.scope(rule.end.dataset)])
    pairs: set[tuple[Key, Key, str]] = set()
    for here, there, is_start in ((rule.start, rule.end, True), (rule.end, rule.start, False)):
        values: dict[str, set[Key]] = {}
        for k, r in mine.items():
            if k[0] == here.dataset:
                for v in links(r, here):
                    values.setdefault(v, set()).add(k)
        for v, others in partners(seen.conn, there, set(values)).items():
            for mine_key in values[v]:
                for o in others:
                    pairs.add((mine_key, o, v) if is_start else (o, mine_key, v))
    recs = {**mine, **seen.records({k for p in pairs for k in p[:2]} - set(mine))}
    out = []
    for s, e, v in sorted(pairs):
        if s in recs and e in recs and (x := judge(rule, pack, recs[s], recs[e], v)):
            out.append(x)
    return out
