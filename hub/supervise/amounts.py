"""The ratio kind: an amount at most ``max_ratio`` of another (a bid bond at most 2% of the
estimate), within one record or across two linked by a code, both read in 元."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from string import Template

from hub.supervise.pack import Rule
from hub.supervise.pairs import each_pair
from hub.supervise.parts import Amount
from hub.supervise.reading import Looked, Rec, day_of
from hub.supervise.seen import Seen

UNITS = {"0": Decimal(1), "1": Decimal(10_000)}  # AMOUNT_UNIT: 元, 万元


def yuan(rec: Rec, a: Amount) -> Decimal | None:
    """The amount in 元, or None when it is missing, not a number or in an unknown unit."""
    raw = rec.content.get(a.field)
    unit = rec.content.get(a.unit) if a.unit else "0"
    if not isinstance(raw, str) or not raw or unit not in UNITS:
        return None
    try:
        return Decimal(raw) * UNITS[str(unit)]
    except InvalidOperation:
        return None


def judge(rule: Rule, pack: str, vrec: Rec, brec: Rec, link: str | None) -> Looked | None:
    assert rule.value and rule.base and rule.max_ratio
    v, b = yuan(vrec, rule.value), yuan(brec, rule.base)
    day = day_of(vrec.content.get("DATA_TIMESTAMP"))
    if v is None or b is None or b <= 0 or day is None or not rule.in_force.covers(day):
        return None
    ratio = v / b
    broken = ratio > Decimal(str(rule.max_ratio))
    looked = Looked(rule, pack, brec, vrec, link, broken, event_day=day)
    if broken:
        looked.evidence = {
            "amount": {"dataset": vrec.dataset, "key": vrec.key, "field": rule.value.field,
                       "value": vrec.content.get(rule.value.field), "yuan": str(v)},
            "base": {"dataset": brec.dataset, "key": brec.key, "field": rule.base.field,
                     "value": brec.content.get(rule.base.field), "yuan": str(b)},
            "ratio": f"{ratio:.4%}", "max_ratio": f"{rule.max_ratio:.2%}", "link": link,
            "law": rule.law,
        }  # fmt: skip
        looked.message = Template(rule.message).safe_substitute(
            amount=f"{v:,.2f}", base=f"{b:,.2f}", ratio=f"{ratio:.2%}",
            max_ratio=f"{rule.max_ratio:.0%}", link=link or "",
            start_record=f"{brec.dataset} {brec.key}", end_record=f"{vrec.dataset} {vrec.key}",
        )  # fmt: skip
    return looked


def ratio(seen: Seen, pack: str, rule: Rule) -> list[Looked]:
    assert rule.value is not None and rule.base is not None
    return each_pair(seen, rule.base, rule.value, lambda b, v, c: judge(rule, pack, v, b, c))
