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

from hub.supervise.pack import Rule
from hub.supervise.reading import Looked, Rec, stamped_in_force
from hub.supervise.seen import Seen


def _say(rule: Rule, **values: Any) -> str:
    return Template(rule.message).safe_substitute(**values)


def count(seen: Seen, pack: str, rule: Rule) -> list[Looked]:
    assert rule.count is not None and rule.when is not None and rule.min_count is not None
    codes = seen.touched_codes([rule.count, rule.when])
    counted, events = seen.group(rule.count, codes), seen.group(rule.when, codes)
    out = []
    for code, whens in sorted(events.items()):
        members = counted.get(code, [])
        for w in whens:
            n = len(members)
            if not stamped_in_force(rule, w):
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
    codes = seen.touched_codes([g])
    out = []
    for code, members in sorted(seen.group(g, codes).items()):
        # every member judged whole (a kept finding of a pair no longer equal is cleared);
        # only members with one value are paired, as of the later record of the pair
        out += [Looked(rule, pack, m, m, code, False, complete=True) for m in members]
        alike: dict[str, list[Rec]] = {}
        for r in members:
            if isinstance(v := r.content.get(g.field), str) and v:
                alike.setdefault(_num(v), []).append(r)
        for a, b in (p for same in alike.values() for p in combinations(same, 2)):
            sa, sb = (str(r.content.get("DATA_TIMESTAMP") or "") for r in (a, b))
            if not stamped_in_force(rule, a if sa > sb else b):
                continue
            va = a.content.get(g.field)
            looked = Looked(rule, pack, a, b, code, broken=True)
            looked.evidence = {
                "link": code, "field": g.field, "value": va, "law": rule.law,
                "records": [{"dataset": r.dataset, "key": r.key, "source": r.source}
                            for r in (a, b)],
            }  # fmt: skip
            looked.message = _say(rule, link=code, value=va, records=f"{a.key} and {b.key}")
            out.append(looked)
    return out


def _num(v: str) -> str:
    """A decimal compared by value: 1200.00 and 1200 are the same price."""
    try:
        return f"{float(v):.6f}"
    except ValueError:
        return v.strip()
