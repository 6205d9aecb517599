"""The screen kind: statistical screens over the bids of one section (条例 Art. 40 (四):
投标报价呈规律性差异), the kind competition authorities run before they look closer:

- ``progression``: three or more prices, in sorted order, with equal differences;
- ``cv``: the coefficient of variation (standard deviation / mean) of the prices below
  ``max_cv`` with at least ``min_count`` bids: prices too close to have been set apart.

A screen is a reason to look, not proof; the finding names the prices.
"""

from __future__ import annotations

import statistics
from decimal import Decimal, InvalidOperation
from string import Template

from hub.supervise.pack import Rule
from hub.supervise.reading import Looked, Rec, stamped_in_force
from hub.supervise.seen import Seen


def _prices(rule: Rule, members: list[Rec]) -> list[tuple[Decimal, Rec]]:
    assert rule.among is not None and rule.among.field is not None
    out = []
    for r in members:
        try:
            out.append((Decimal(str(r.content.get(rule.among.field))), r))
        except InvalidOperation:
            continue
    return sorted(out, key=lambda p: (p[0], p[1].key))


def _progression(prices: list[tuple[Decimal, Rec]]) -> list[tuple[Decimal, Rec]] | None:
    """The longest run (≥ 3) of consecutive sorted prices with one equal, non-zero step."""
    best: list[tuple[Decimal, Rec]] = []
    run = prices[:2]
    for p in prices[2:]:
        same_step = run[-1][0] - run[-2][0] == p[0] - run[-1][0] != 0
        run = [*run, p] if same_step else [run[-1], p]
        if len(run) > len(best):
            best = run
    return best if len(best) >= 3 else None


def screen(seen: Seen, pack: str, rule: Rule) -> list[Looked]:
    assert rule.among is not None and rule.min_count is not None
    out = []
    for code, members in sorted(seen.group(rule.among, seen.touched_codes([rule.among])).items()):
        prices = _prices(rule, members)
        if len(prices) < rule.min_count or not prices:
            continue
        last = max((r for _, r in prices), key=lambda r: str(r.content.get("DATA_TIMESTAMP")))
        if not stamped_in_force(rule, last):
            continue
        values = [float(p) for p, _ in prices]
        hit: list[tuple[Decimal, Rec]] | None = None
        cv = None
        if rule.screen == "progression":
            hit = _progression(prices)
        else:
            mean = statistics.fmean(values)
            cv = statistics.pstdev(values) / mean if mean else None
            hit = prices if cv is not None and rule.max_cv and cv < rule.max_cv else None
        # one judgement per section, kept on its first bid by key (stable as bids arrive)
        anchor = min(members, key=lambda r: r.key)
        looked = Looked(rule, pack, anchor, anchor, code, broken=hit is not None, complete=True)
        if hit:
            looked.evidence = {
                "link": code, "law": rule.law, "field": rule.among.field,
                "cv": None if cv is None else round(cv, 6), "max_cv": rule.max_cv,
                "records": [{"dataset": r.dataset, "key": r.key, "value": str(p),
                             "source": r.source} for p, r in hit],
            }  # fmt: skip
            looked.message = Template(rule.message).safe_substitute(
                link=code, count=len(prices), prices=", ".join(str(p) for p, _ in hit),
                cv=f"{cv:.3%}" if cv is not None else "", max_cv=f"{rule.max_cv or 0:.1%}",
            )  # fmt: skip
        out.append(looked)
    return out
