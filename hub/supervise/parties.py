"""The shared kind: two records of one transaction (linked by a code) that should name
different parties but share one — the agency that also bids, an expert employed by a bidder,
two bidders with one telephone.  A side's value is its field, or looked up through ``via``
(the record keyed by that value: an expert's employer, a company's legal representative)."""

from __future__ import annotations

from string import Template

from hub.supervise.pack import Rule
from hub.supervise.parts import Member
from hub.supervise.reading import Key, Looked, Rec, stamped_in_force
from hub.supervise.seen import Seen


def _norm(v: object) -> str:
    return "".join(v.split()).upper() if isinstance(v, str) else ""


def _values(seen: Seen, m: Member, recs: list[Rec]) -> dict[Key, tuple[str, str]]:
    """Each record's (own value, compared value); records with no compared value left out."""
    own = {(r.dataset, r.key): str(r.content.get(m.field) or "") for r in recs}
    if m.via is None:
        return {k: (v, _norm(v)) for k, v in own.items() if _norm(v)}
    out = {}
    for k, v in own.items():  # read ahead by shared(): one query for every look-up
        looked_up = seen.cache.get((m.via.dataset, v))
        if looked_up is not None and _norm(w := looked_up.content.get(m.via.field)):
            out[k] = (f"{v} → {w}", _norm(w))
    return out


def _naming(seen: Seen, m: Member) -> dict[str, set[str]]:
    """The link codes of the records naming each value of a side's field: a scan of the
    side's data set (parties are not indexed yet), once per evaluation for every rule that
    looks the same field up (three rules look bidders' companies up)."""
    memo = ("naming", m.dataset, m.link, m.field)
    if memo not in seen.derived:
        named: dict[str, set[str]] = {}
        for _, codes, v in seen.columns(m.dataset, m.link, m.field):
            named.setdefault(str(v or ""), set()).update(codes)
        seen.derived[memo] = named
    return seen.derived[memo]  # type: ignore[no-any-return]


def shared(seen: Seen, pack: str, rule: Rule) -> list[Looked]:
    left, right = rule.left, rule.right
    assert left is not None and right is not None
    codes = set(seen.touched_codes([left, right]))
    for m in (left,) if left == right else (left, right):
        # a looked-up value changed: the transactions naming it
        changed = seen.changed(m.via.dataset, m.via.field) if m.via is not None else set()
        if changed:
            named = _naming(seen, m)
            for v in changed:
                codes |= named.get(v, set())
    lefts, rights = seen.group(left, codes), seen.group(right, codes)
    for m, groups in ((left, lefts), (right, rights)):  # every look-up in one read
        if m.via is not None:
            vals = {str(r.content.get(m.field) or "") for rs in groups.values() for r in rs}
            seen.records({(m.via.dataset, v) for v in vals if v})
    same_side = left == right
    out: list[Looked] = []
    for code in sorted(codes):
        ls, rs = lefts.get(code, []), rights.get(code, [])
        # every right-hand record judged whole: a kept finding no longer shared is cleared
        out += [Looked(rule, pack, b, b, code, False, complete=True) for b in rs]
        lv, rv = _values(seen, left, ls), _values(seen, right, rs)
        by_value: dict[str, list[Rec]] = {}
        for a in ls:
            if (x := lv.get((a.dataset, a.key))) is not None:
                by_value.setdefault(x[1], []).append(a)
        for b in rs:
            y = rv.get((b.dataset, b.key))
            if y is None or not stamped_in_force(rule, b):
                continue
            for a in by_value.get(y[1], []):
                if (a.dataset, a.key) == (b.dataset, b.key) or (same_side and a.key >= b.key):
                    continue  # a record with itself; a pair of one data set once
                x = lv[(a.dataset, a.key)]
                looked = Looked(rule, pack, a, b, code, True)
                looked.evidence = {
                    "link": code, "law": rule.law,
                    "records": [
                        {"dataset": a.dataset, "key": a.key, "field": left.field,
                         "value": x[0], "source": a.source},
                        {"dataset": b.dataset, "key": b.key, "field": right.field,
                         "value": y[0], "source": b.source},
                    ],
                }  # fmt: skip
                looked.message = Template(rule.message).safe_substitute(
                    link=code, value=y[0].split(" → ")[-1],
                    start_record=f"{a.dataset} {a.key}", end_record=f"{b.dataset} {b.key}",
                    records=f"{a.key} and {b.key}",
                )  # fmt: skip
                out.append(looked)
    return out
