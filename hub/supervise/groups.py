"""The kinds that judge a group of records sharing a link code (the bids of one section):

- ``count``: where a record of ``when`` exists for the code (an award), fewer than
  ``min_count`` records of ``count`` (bids) break the rule;
- ``same_value``: two records of ``among`` with the same value of its field (two equal bid
  prices) break it, one finding per pair.
"""

from __future__ import annotations

from itertools import combinations
from string import Template
from typing import Any

from hub.supervise.pack import Group, Rule
from hub.supervise.reading import Looked, Rec, Seen, day_of, links, partners


def _codes(seen: Seen, groups: list[Group]) -> set[str]:
    """The link codes of the touched records of these groups' data sets."""
    keys = [k for g in groups for k in seen.scope(g.dataset)]
    recs = seen.touched_records(keys)
    return {v for g in groups for k, r in recs.items() if k[0] == g.dataset for v in links(r, g)}


def _members(seen: Seen, g: Group, codes: set[str]) -> dict[str, list[Rec]]:
    found = partners(seen.conn, g, codes)
    recs = seen.records({k for ks in found.values() for k in ks})
    return {v: sorted((recs[k] for k in ks if k in recs), key=lambda r: r.key)
            for v, ks in found.items()}  # fmt: skip


def _say(rule: Rule, **values: Any) -> str:
    return Template(rule.message).safe_substitute(**values)


def count(seen: Seen, pack: str, rule: Rule) -> list[Looked]:
    assert rule.count is not None and rule.when is not None and rule.min_count is not None
    codes = _codes(seen, [rule.count, rule.when])
    counted, events = _members(seen, rule.count, codes), _members(seen, rule.when, codes)
    out = []
    for code, whens in sorted(events.items()):
        members = counted.get(code, [])
        for w in whens:
            n = len(members)
            if not _in_force(rule, w):
                continue
            looked = Looked(rule, pack, w, w, code, broken=n < rule.min_count)
            if looked.broken:
                looked.evidence = {
                    "link": code, "count": n, "min_count": rule.min_count, "law": rule.law,
                    "when": {"dataset": w.dataset, "key": w.key, "source": w.source},
                    "records": [{"dataset": m.dataset, "key": m.key} for m in members],
                }  # fmt: skip
                looked.message = _say(rule, link=code, count=n, min_count=rule.min_count,
                                      end_record=f"{w.dataset} {w.key}")  # fmt: skip
            out.append(looked)
    return out


def same_value(seen: Seen, pack: str, rule: Rule) -> list[Looked]:
    g = rule.among
    assert g is not None and g.field is not None
    codes = _codes(seen, [g])
    out = []
    for code, members in sorted(_members(seen, g, codes).items()):
        # each member's value and date once; a pair is judged as of its later record
        value = {
            r.key: _num(v) for r in members if isinstance(v := r.content.get(g.field), str) and v
        }
        stamp = {r.key: str(r.content.get("DATA_TIMESTAMP") or "") for r in members}
        for a, b in combinations([m for m in members if m.key in value], 2):
            if not _in_force(rule, a if stamp[a.key] > stamp[b.key] else b):
                continue
            va = a.content.get(g.field)
            same = value[a.key] == value[b.key]
            looked = Looked(rule, pack, a, b, code, broken=same)
            if same:
                looked.evidence = {
                    "link": code, "field": g.field, "value": va, "law": rule.law,
                    "records": [{"dataset": r.dataset, "key": r.key, "source": r.source}
                                for r in (a, b)],
                }  # fmt: skip
                looked.message = _say(rule, link=code, value=va,
                                      records=f"{a.key} and {b.key}")  # fmt: skip
            out.append(looked)
    return out


def _in_force(rule: Rule, r: Rec) -> bool:
    """Group rules are judged as of the record's own date (its DATA_TIMESTAMP)."""
    day = day_of(r.content.get("DATA_TIMESTAMP"))
    return day is not None and rule.in_force.covers(day)


def _num(v: str) -> str:
    """A decimal compared by value: 1200.00 and 1200 are the same price."""
    try:
        return f"{float(v):.6f}"
    except ValueError:
        return v.strip()
