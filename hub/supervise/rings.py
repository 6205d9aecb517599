"""The rotation kind (串通投标 by turns): the same few firms bid together again and again and
take turns winning.  A screen across sections, not within one:

for each set of ``members`` firms that bid in a touched section, the sections where all of
them bid; at least ``min_count`` such sections, every one won by a member, and at least two
different members winning, is a ring when chance cannot explain it.  With ``by_turns =
false`` the winners do not matter: a set that bids together far more often than chance
allows is a ring whoever wins (cover bidders that let an outsider win now and then).

Under independent bidding the number of sections where all of a set bid is about Poisson
with λ = N · Π(nᵢ / N) (nᵢ: sections firm i bid in, N: sections), and a member wins a section
of c bidders with chance q = members / c (q: the mean over the common sections).  So a set
co-bids in at least k sections and wins all of them with chance
Σⱼ≥ₖ Pois(j; λ) qʲ = e^(−λ(1−q)) · P(Pois(λq) ≥ k) (by_turns false: P(Pois(λ) ≥ k)), and
some set of the store's F firms does with chance at most C(F, members) times that
(Bonferroni).  Above ``max_p`` the set is not reported.  Without the test a small market
shows rings by chance as months accumulate: with 40 firms each bidding in 11% of the
sections (the generator's market), every set of four co-bids in about 13 of a month's
84,000 sections, and thousands of the 91,390 sets would win all of theirs.  The evidence
gives λ, the observed count and the chance.

It reads every bid list and award of the store when bids or awards arrive (a ring spans
sections that arrived at different times); docs/supervision.md.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from itertools import combinations
from string import Template
from typing import Any

from hub.supervise.pack import Rule
from hub.supervise.parts import Group
from hub.supervise.reading import Looked, Rec
from hub.supervise.seen import Seen


def rotation(seen: Seen, pack: str, rule: Rule) -> list[Looked]:
    g, w = rule.among, rule.when
    assert g and g.field and w and w.field and rule.min_count and rule.members
    codes = seen.touched_codes([g, w])
    if not codes:
        return []
    firms_of, sections_of, winner = _bidding(seen, g, w)
    touched = seen.group(w, codes)  # the awards of the touched sections, read whole
    out = [Looked(rule, pack, a, a, s, False, complete=True)
           for s in sorted(touched) for a in touched[s]]  # fmt: skip
    total = len(firms_of)
    rings: set[frozenset[str]] = set()
    # sections two firms share, each pair once, and each set's common sections: kept for
    # the other rule over the same bids (both judge the same sets of four)
    pairs = seen.derived.setdefault(("pairs", g), {})
    commons = seen.derived.setdefault(("commons", g), {})
    sets = math.comb(len(sections_of), rule.members)  # the sets of firms that could co-bid
    found: dict[tuple[str, str], Looked] = {}  # by award: two rings may start at one
    for s in sorted(codes):
        for ring in combinations(sorted(firms_of.get(s, ())), rule.members):
            key = frozenset(ring)
            if key in rings:
                continue
            if (common := commons.get(ring)) is None:
                common = commons[ring] = _common(ring, sections_of, pairs)
            awarded = sorted(common & winner.keys())
            if len(common) < rule.min_count or not awarded:
                continue
            won = {c: winner[c] for c in common if c in winner}
            expected = total * math.prod(len(sections_of[f]) / total for f in ring)
            if rule.by_turns:  # every common section awarded, to members, by turns
                if (
                    len(won) < len(common)
                    or not set(won.values()) <= key
                    or len(set(won.values())) < 2
                ):
                    continue
                q = sum(rule.members / len(firms_of[c]) for c in common) / len(common)
                once = math.exp(-expected * (1 - q)) * poisson_tail(len(common), expected * q)
            else:  # bidding together this often, whoever won
                once = poisson_tail(len(common), expected)
            chance = min(1.0, sets * once)
            if rule.max_p is not None and chance > rule.max_p:
                continue
            rings.add(key)
            ring_of = {"firms": list(ring), "sections": sorted(common), "winners": won,
                       "observed": len(common), "expected": round(expected, 4),
                       "chance": float(f"{chance:.3g}"),
                       "bids": {f: len(sections_of[f]) for f in ring}}  # fmt: skip
            # anchored on the award of the ring's first awarded section by code: stable as
            # sections arrive; one finding per award, a further ring starting there joins it
            [anchor, *_] = seen.group(w, {awarded[0]})[awarded[0]]
            if (at := (anchor.dataset, anchor.key)) in found:
                found[at].evidence.setdefault("other_rings", []).append(ring_of)
            else:
                found[at] = _finding(rule, pack, anchor, ring_of, total)
    return out + [found[k] for k in sorted(found)]


def _bidding(
    seen: Seen, g: Group, w: Group
) -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, str]]:
    """Who bid in each section, where each firm bid, who won each section: read once per
    evaluation for both rules over the same bids and awards."""
    memo = ("rings", g, w)
    if memo not in seen.derived:
        firms_of: dict[str, set[str]] = defaultdict(set)  # section → firms
        sections_of: dict[str, set[str]] = defaultdict(set)  # firm → sections
        assert g.field and w.field
        for _, sections, firm in seen.columns(g.dataset, g.link, g.field):
            for s in sections:
                if isinstance(firm, str) and firm:
                    firms_of[s].add(firm)
                    sections_of[firm].add(s)
        winner: dict[str, str] = {}  # section → the winner's code
        for _, sections, code in seen.columns(w.dataset, w.link, w.field):
            for s in sections:
                winner[s] = str(code or "")
        seen.derived[memo] = (firms_of, sections_of, winner)
    return seen.derived[memo]  # type: ignore[no-any-return]


def _common(
    ring: tuple[str, ...], sections_of: dict[str, set[str]], pairs: dict[tuple[str, str], set[str]]
) -> set[str]:
    """The sections where every firm of the ring bid: an intersection of pairs' shared
    sections, each pair's computed once (candidate sets share their pairs: a market of 40
    firms has 780 pairs and tens of thousands of sets of four), then of small sets."""
    shared = []
    for a, b in zip(ring[::2], ring[1::2], strict=False):
        if (a, b) not in pairs:
            pairs[(a, b)] = sections_of[a] & sections_of[b]
        shared.append(pairs[(a, b)])
    if len(ring) % 2:
        shared.append(sections_of[ring[-1]])
    return set.intersection(*sorted(shared, key=len))


def poisson_tail(k: int, lam: float) -> float:
    """P(X ≥ k) for X ~ Poisson(λ), summed from k upward in logs (no overflow)."""
    if lam <= 0:
        return 1.0 if k <= 0 else 0.0
    term = math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1))
    total, i = 0.0, k
    while term > total * 1e-16 and i < k + 10_000:
        total += term
        i += 1
        term *= lam / i
    return min(1.0, total)


def _finding(rule: Rule, pack: str, anchor: Rec, ring: dict[str, Any], total: int) -> Looked:
    looked = Looked(rule, pack, anchor, anchor, ring["sections"][0], True)
    looked.evidence = {**ring, "law": rule.law, "of_sections": total}
    looked.message = Template(rule.message).safe_substitute(
        count=ring["observed"],
        value=", ".join(ring["firms"]),
        records=", ".join(ring["sections"][:12]),
        link=ring["sections"][0],
        min_count=rule.min_count,
        expected=f"{ring['expected']:.2f}",
        chance=f"{ring['chance']:.2g}",
        winners=", ".join(f"{w} ({n})" for w, n in Counter(ring["winners"].values()).most_common()),
    )
    return looked
