"""The screen kind: statistical screens over the bids of one section (条例 Art. 40 (四):
投标报价呈规律性差异; 12号令 Art. 21: 明显低于其他投标报价), the kind competition authorities run
before they look closer:

- ``progression``: three or more prices, in sorted order, with equal differences;
- ``cv``: the coefficient of variation (standard deviation / mean) of the prices below
  ``max_cv`` with at least ``min_count`` bids: prices too close to have been set apart;
- ``distance``: the relative distance between the two lowest bids (Imhof's screen for cover
  bidding): the gap between them over the mean gap between neighbouring losing bids.  Under
  independent bids (uniform order statistics: their gaps are exchangeable) a section of n
  bids shows a relative distance of at least d with chance ((n−2)/(n−2+d))^(n−2); below
  ``max_p`` the losers are bunched far above the winner as chance almost never sets them;
- ``outlier``: the lowest bid below the mean of the others by a share (the gap) that is an
  outlier of the market: above Q3 + ``fence`` × IQR of the gaps of every section in the
  store with ``min_count`` bids (Tukey's fence; 3 is his "far out"), when there are at least
  ``min_sections`` of them, and above ``min_value``.  A section is judged against the
  market as it stood when its bids arrived (``hub findings check --all`` judges again).

A screen is a reason to look, not proof; the finding names the prices.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from string import Template
from typing import Any

from hub.supervise.pack import Rule
from hub.supervise.parts import Group
from hub.supervise.reading import Looked, Rec, stamped_in_force
from hub.supervise.seen import Seen

Priced = list[tuple[Decimal, Rec]]
Judged = tuple[Priced, dict[str, Any]]  # the prices that break the screen (none: kept), facts
Market = dict[str, float]  # the market's fence, computed once per evaluation: q1 q3 fence sections


def _price(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _prices(among: Group, members: list[Rec]) -> Priced:
    assert among.field is not None
    out = [(p, r) for r in members if (p := _price(r.content.get(among.field))) is not None]
    return sorted(out, key=lambda p: (p[0], p[1].key))


def _progression(rule: Rule, prices: Priced, market: Market) -> Judged:
    """The longest run (≥ 3) of consecutive sorted prices with one equal, non-zero step."""
    best: Priced = []
    run = prices[:2]
    for p in prices[2:]:
        same_step = run[-1][0] - run[-2][0] == p[0] - run[-1][0] != 0
        run = [*run, p] if same_step else [run[-1], p]
        if len(run) > len(best):
            best = run
    return (best if len(best) >= 3 else []), {}


def _cv(rule: Rule, prices: Priced, market: Market) -> Judged:
    values = [float(p) for p, _ in prices]
    mean = statistics.fmean(values)
    if not mean:
        return [], {}
    cv = statistics.pstdev(values) / mean
    return (prices if cv < (rule.max_cv or 0) else []), {"cv": round(cv, 6)}


def distance(values: list[float]) -> tuple[float, float]:
    """(relative distance, its chance under independent bids) of sorted prices, n ≥ 4."""
    n = len(values)
    gap, spread = values[1] - values[0], (values[-1] - values[1]) / (n - 2)
    if gap <= 0:
        return 0.0, 1.0
    d = gap / spread if spread > 0 else math.inf
    return d, 0.0 if math.isinf(d) else ((n - 2) / (n - 2 + d)) ** (n - 2)


def _distance(rule: Rule, prices: Priced, market: Market) -> Judged:
    d, chance = distance([float(p) for p, _ in prices])
    hit = prices if chance < (rule.max_p or 0) else []
    return hit, {"distance": round(d, 2), "chance": float(f"{chance:.3g}")}


def gap(values: list[float]) -> float | None:
    """How far the lowest of sorted prices is below the mean of the others, as a share."""
    rest = statistics.fmean(values[1:])
    return 1 - values[0] / rest if rest > 0 else None


def fence(market: list[float], k: float) -> tuple[float, float, float]:
    """(Q1, Q3, Q3 + k × IQR) of the market's gaps."""
    q1, _, q3 = statistics.quantiles(market, n=4, method="inclusive")
    return q1, q3, q3 + k * (q3 - q1)


def _outlier(rule: Rule, prices: Priced, market: Market) -> Judged:
    g = gap([float(p) for p, _ in prices])
    if g is None or not market:  # no market yet: too few sections to set a fence
        return [], {}
    hit = prices if g > market["fence"] and g > (rule.min_value or 0) else []
    return hit, {"gap": round(g, 4), **{k: round(v, 4) for k, v in market.items()}}


JUDGES = {"progression": _progression, "cv": _cv, "distance": _distance, "outlier": _outlier}


def _market(seen: Seen, rule: Rule) -> Market:
    """The fence over the gaps of every section of the store with at least min_count bids,
    or nothing when there are fewer than min_sections of them (outlier only)."""
    g = rule.among
    assert g is not None and g.field is not None and rule.min_count is not None
    by_code: dict[str, list[float]] = defaultdict(list)
    for _, codes, value in seen.columns(g.dataset, g.link, g.field):
        if (p := _price(value)) is not None and p.is_finite():
            for c in codes:
                by_code[c].append(float(p))
    gaps = []
    for values in by_code.values():
        if len(values) >= rule.min_count and (x := gap(sorted(values))) is not None:
            gaps.append(x)
    if len(gaps) < (rule.min_sections or 0) or len(gaps) < 2:
        return {}
    q1, q3, top = fence(gaps, rule.fence or 3.0)
    return {"q1": q1, "q3": q3, "fence": top, "sections": len(gaps)}


def _sections(seen: Seen, among: Group) -> list[tuple[str, Priced, Rec, Rec]]:
    """(code, sorted prices, newest bid, first bid by key) of each touched section: read and
    parsed once for the four screens over one field."""
    memo = ("screen", among)
    if memo not in seen.derived:
        out = []
        for code, members in sorted(seen.group(among, seen.touched_codes([among])).items()):
            prices = [p for p in _prices(among, members) if p[0].is_finite()]
            last = max(members, key=lambda r: str(r.content.get("DATA_TIMESTAMP")))
            out.append((code, prices, last, min(members, key=lambda r: r.key)))
        seen.derived[memo] = out
    return seen.derived[memo]  # type: ignore[no-any-return]


def screen(seen: Seen, pack: str, rule: Rule) -> list[Looked]:
    assert rule.among is not None and rule.min_count is not None and rule.screen is not None
    sections = _sections(seen, rule.among)
    market = _market(seen, rule) if rule.screen == "outlier" and sections else {}
    out = []
    for code, prices, last, anchor in sections:
        if len(prices) < rule.min_count or not stamped_in_force(rule, last):
            continue
        hit, facts = JUDGES[rule.screen](rule, prices, market)
        # one judgement per section, kept on its first bid by key (stable as bids arrive)
        looked = Looked(rule, pack, anchor, anchor, code, broken=bool(hit), complete=True)
        if hit:
            looked.evidence = {
                "link": code, "law": rule.law, "field": rule.among.field, **facts,
                "max_cv": rule.max_cv, "max_p": rule.max_p, "min_value": rule.min_value,
                "records": [{"dataset": r.dataset, "key": r.key, "value": str(p),
                             "source": r.source} for p, r in hit],
            }  # fmt: skip
            looked.message = Template(rule.message).safe_substitute(
                link=code, count=len(prices), prices=", ".join(str(p) for p, _ in hit),
                max_cv=f"{rule.max_cv or 0:.1%}", **_shown(facts),
            )  # fmt: skip
        out.append(looked)
    return out


def _shown(facts: dict[str, Any]) -> dict[str, str]:
    """The facts as a message shows them: shares as per cent, the chance in two digits."""
    out = {k: str(v) for k, v in facts.items()}
    for k in ("cv", "gap", "fence"):
        if k in facts:
            out[k] = f"{facts[k]:.3%}" if k == "cv" else f"{facts[k]:.1%}"
    if "chance" in facts:
        out["chance"] = f"{facts['chance']:.2g}"
    return out
