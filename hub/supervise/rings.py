"""The rotation kind (串通投标 by turns): the same few firms bid together again and again and
take turns winning.  A screen across sections, not within one:

for each set of ``members`` firms that bid in a touched section, the sections where all of
them bid; at least ``min_count`` such sections, every one won by a member, and at least two
different members winning, is a ring.  Under independent bidding the expected number of
sections with all of them is N · Π(nᵢ / N) (nᵢ: sections firm i bid in, N: sections); the
evidence gives it beside what was observed.

It reads every bid list and award of the store when bids or awards arrive (a ring spans
sections that arrived at different times); docs/supervision.md.
"""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import combinations
from string import Template

from hub.supervise.pack import Rule
from hub.supervise.reading import Looked, Rec, links
from hub.supervise.seen import Seen


def rotation(seen: Seen, pack: str, rule: Rule) -> list[Looked]:
    g, w = rule.among, rule.when
    assert g and g.field and w and w.field and rule.min_count and rule.members
    codes = seen.touched_codes([g, w])
    if not codes:
        return []
    firms_of: dict[str, set[str]] = defaultdict(set)  # section → firms
    sections_of: dict[str, set[str]] = defaultdict(set)  # firm → sections
    for r in seen.every(g.dataset).values():
        firm = r.content.get(g.field)
        for s in links(r, g):
            if isinstance(firm, str) and firm:
                firms_of[s].add(firm)
                sections_of[firm].add(s)
    awards: dict[str, Rec] = {}
    for r in seen.every(w.dataset).values():
        for s in links(r, w):
            awards[s] = r
    total = len(firms_of)
    out = [Looked(rule, pack, awards[s], awards[s], s, False, complete=True)
           for s in sorted(codes) if s in awards]  # fmt: skip
    rings: set[frozenset[str]] = set()
    for s in sorted(codes):
        for ring in combinations(sorted(firms_of.get(s, ())), rule.members):
            key = frozenset(ring)
            if key in rings:
                continue
            common = set.intersection(*(sections_of[f] for f in ring))
            if len(common) < rule.min_count or not all(c in awards for c in common):
                continue
            won = {c: str(awards[c].content.get(w.field) or "") for c in common}
            if not set(won.values()) <= key or len(set(won.values())) < 2:
                continue
            rings.add(key)
            out.append(_finding(rule, pack, ring, sorted(common), won, awards, sections_of,
                                total))  # fmt: skip
    return out


def _finding(
    rule: Rule,
    pack: str,
    ring: tuple[str, ...],
    common: list[str],
    won: dict[str, str],
    awards: dict[str, Rec],
    sections_of: dict[str, set[str]],
    total: int,
) -> Looked:
    anchor = awards[common[0]]  # the ring's first section by code: stable as sections arrive
    expected = total * math.prod(len(sections_of[f]) / total for f in ring)
    looked = Looked(rule, pack, anchor, anchor, common[0], True)
    looked.evidence = {
        "firms": list(ring), "sections": common, "winners": won, "law": rule.law,
        "observed": len(common), "expected": round(expected, 4),
        "bids": {f: len(sections_of[f]) for f in ring}, "of_sections": total,
    }  # fmt: skip
    looked.message = Template(rule.message).safe_substitute(
        count=len(common),
        value=", ".join(ring),
        records=", ".join(common[:12]),
        link=common[0],
        min_count=rule.min_count,
        expected=f"{expected:.2f}",
    )
    return looked
