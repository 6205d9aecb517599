"""Planted patterns of the market: a ring of firms winning by turns, collusion in one
section, prices the screens read (an award above the ceiling, cover bids, a lowest bid far
below the others), and the credit and conflict-of-interest checks (a blacklisted or restricted
winner, an agency that bids, an expert employed by a bidder).  See plant.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.generate.plant_dates import _day, _shift

SECTION_LINKS = ("TENDER_PROJECT_CODE", "BID_SECTION_CODE", "UNIFIED_DEAL_CODE")

if TYPE_CHECKING:
    from hub.generate.plant import Planter


def ring(
    p: Planter,
    members: int = 4,
    sections: int = 8,
    winners: int | None = None,
    rule: str = "BID-ROTATION",
) -> None:
    """Four firms bid together in eight sections, the lowest bid going round them (round the
    first ``winners`` of them only, if given: with one, the same firm wins every time and
    the others cover for it, which BID-CO-BIDDING reports and BID-ROTATION does not)."""
    ring = p.g.rng.sample(p.g.companies, members)
    codes = {c for _, c in ring}
    outsiders = [f for f in p.g.companies if f[1] not in codes]
    taken: list[str] = []  # every section of a project taken, till there are enough
    while len(taken) < sections:
        tp, _ = p._take(min_bids=members)
        secs = sorted(
            s["record"]["BID_SECTION_CODE"] for s in p._of("SECTION", TENDER_PROJECT_CODE=tp)
        )
        taken += [c for c in secs if p._of("WIN_RESULT_ANNO", BID_SECTION_CODE=c)]
    taken = taken[:sections]
    for i, sec in enumerate(taken):
        bids = p._bids(sec)  # lowest first
        lead, k = ring[: winners or members], i % (winners or members)
        turn = lead[k:] + lead[:k] + ring[winners or members :]  # the lowest goes to firm k
        here = {b["record"]["BIDDER_ORG_CODE"] for b in bids}
        # the other bids from firms drawn at random: the same outsiders in every section
        # would bid with the ring as often as its members, a ring of their own
        pool = [f for f in outsiders if f[1] not in here]
        firms = turn + p.g.rng.sample(pool, len(bids) - members)
        # each bid and its bid file become the firm's (matched before any is renamed)
        docs = {d["record"]["BIDDER_ORG_CODE"]: d
                for d in p._of("BID_DOC_CHARACT_CODE", BID_SECTION_CODE=sec)}  # fmt: skip
        for b, (name, code) in zip(bids, firms, strict=True):
            for r in (b, docs.get(b["record"]["BIDDER_ORG_CODE"])):
                if r is not None:
                    r["record"].update(BIDDER_NAME=name, BIDDER_ORG_CODE=code)
        award = p._of("WIN_RESULT_ANNO", BID_SECTION_CODE=sec)[0]["record"]
        award.update(WIN_BIDDER_NAME=turn[0][0], WIN_BIDDER_CODE=turn[0][1])
    first = min(taken)
    award = p._of("WIN_RESULT_ANNO", BID_SECTION_CODE=first)[0]
    how = "by turns" if (winners or members) > 1 else "one of them every time"
    p._say(rule, award, f"{members} firms bid in {sections} sections, won {how}")


def collusion(p: Planter) -> None:
    _, sec = p._take(min_bids=4)
    bids = p._bids(sec)
    for b in bids[2:]:  # the two lowest left: the award stands on too few
        p.records.remove(b)
    award = p._of("WIN_RESULT_ANNO", BID_SECTION_CODE=sec)[0]
    p._say("BID-FEWER-THAN-3", award, "an award with 2 bids")
    for rule, dataset, field in (
        ("BID-SAME-PRICE", "TENDER_LIST", "BID_PRICE"),
        ("BID-SAME-MACHINE", "BID_DOC_CHARACT_CODE", "MAC_ADDRESS"),
        ("BID-SAME-FILE", "BID_DOC_CHARACT_CODE", "BID_DOCUMENT_MD5"),
        ("BID-SAME-MANAGER", "TENDER_LIST", "PM_CODE"),
    ):
        _, sec = p._take()
        a, b = sorted(p._of(dataset, BID_SECTION_CODE=sec), key=p._key)[-2:]
        b["record"][field] = a["record"][field]
        p._say(rule, b, f"two bidders with one {field}")
    n = len(p.planted)
    shared(
        p, "BID-SHARED-PHONE", "REPRESENT_PHONE", f"1390591{n:04d}", "one representative's phone"
    )
    shared(p, "BID-SHARED-CONTACT", "LEGAL_CONTACT_PHONE", f"1370591{n:04d}", "one contact's phone")
    shared(p, "BID-SHARED-ACCOUNT", "BASIC_ACCOUNT_NO", f"3505018800{n:08d}", "one basic account")
    _, sec = p._take()
    bids = p._bids(sec)
    low = float(bids[0]["record"]["BID_PRICE"])
    step = round(low * 0.01)  # 1% apart: regular, yet not too close (BID-LOW-VARIANCE)
    for i, r in enumerate(bids):
        r["record"]["BID_PRICE"] = f"{low + step * i:.2f}"
    p._say("BID-PROGRESSION", min(bids, key=p._key), f"prices {step} apart")
    _, sec = p._take(min_bids=5)
    bids = p._bids(sec)
    low = float(bids[0]["record"]["BID_PRICE"])
    for r, step in zip(bids, (0, 130, 410, 520, 790, 960), strict=False):
        r["record"]["BID_PRICE"] = f"{low + step:.2f}"
    p._say("BID-LOW-VARIANCE", min(bids, key=p._key), "five prices within 0.1%")


def prices(p: Planter) -> None:
    """Prices the screens read: an award above the ceiling price, cover bids bunched far
    above the lowest, and a lowest bid far below the others."""
    tp, _ = p._take()
    awards = p._of("WIN_RESULT_ANNO", TENDER_PROJECT_CODE=tp)
    ceiling = max(float(a["record"]["BID_AMOUNT"]) for a in awards) * 0.99
    for t in p._of("TENDER_FILE_CLARI_MODI", TENDER_PROJECT_CODE=tp):
        t["record"].update(CONTROL_PRICE=f"{ceiling:.2f}", CONTROL_PRICE_UNIT="0")
    for a in awards:
        if float(a["record"]["BID_AMOUNT"]) > ceiling:
            p._say("BID-OVER-CEILING", a, "an award 1% above the ceiling price")
    _, sec = p._take(min_bids=5)
    bids = p._bids(sec)
    second = float(bids[0]["record"]["BID_PRICE"]) * 1.06
    for r, step in zip(bids[1:], (0, 37, 85, 121, 170), strict=False):
        r["record"]["BID_PRICE"] = f"{second + step:.2f}"
    p._say("BID-COVER-BIDS", min(bids, key=p._key), "losers within 170 元, 6% above the lowest")
    _, sec = p._take()
    bids = p._bids(sec)
    others = float(bids[0]["record"]["BID_PRICE"]) / 0.65
    for r, share in zip(bids[1:], (0, 0.013, 0.031, 0.04, 0.056), strict=False):
        r["record"]["BID_PRICE"] = f"{round(others * (1 + share)):.2f}"
    p._say("BID-ABNORMALLY-LOW", min(bids, key=p._key), "the lowest 35% below the others")


def shared(p: Planter, rule: str, field: str, value: str, what: str) -> None:
    """Two firms no earlier pattern changed give one value of their 法人基本信息 (LEGAL_PERSON_
    BASE): every section where both bid shows it."""
    while True:
        _, sec = p._take()
        a, b = p._bids(sec)[-2:]
        pair = {a["record"]["BIDDER_ORG_CODE"], b["record"]["BIDDER_ORG_CODE"]}
        if not pair & p.marked:
            p.marked |= pair
            break
    for r in (a, b):
        code, name = r["record"]["BIDDER_ORG_CODE"], r["record"]["BIDDER_NAME"]
        if not p._set_all("LEGAL_PERSON_BASE", code, **{field: value}):
            p.records.append(p.g.record("LEGAL_PERSON_BASE", {
                "LEGAL_CODE": code, "LEGAL_NAME": name, "_org_code": code,
                "LEGAL_ROLE": "03", field: value}))  # fmt: skip
    for s in p._of("SECTION"):
        bids = p._of("TENDER_LIST", BID_SECTION_CODE=s["record"]["BID_SECTION_CODE"])
        both = [r for r in bids if r["record"]["BIDDER_ORG_CODE"] in pair]
        if len(both) == 2:
            p._say(rule, max(both, key=p._key), f"{what}, two bidders")


def _listed(p: Planter, rule: str, dataset: str, field: str, date: str, code: str,
            since: str, what: str) -> None:  # fmt: skip
    """Every record where the listed company takes part on or after the listing: the
    company bids and wins elsewhere in the batch too."""
    for r in p._of(dataset):
        rec = r["record"]
        if rec.get(field) == code and rec.get(date) and _day(rec[date]) >= _day(since):
            p._say(rule, r, what)


# -- credit and conflicts of interest -----------------------------------------------
def _list_a_winner(p: Planter, dataset: str, **fields: str) -> tuple[dict[str, str], Any]:
    """The award of a fresh section, and a record of ``dataset`` listing its winner."""
    _, sec = p._take()
    a = p._of("WIN_RESULT_ANNO", BID_SECTION_CODE=sec)[0]["record"]
    entry = p.g.record(dataset, {"BODY_CODE": a["WIN_BIDDER_CODE"], "BODY_ROLE": "03",
                                 "BODY_NAME": a["WIN_BIDDER_NAME"], **fields})  # fmt: skip
    p.records.append(entry)
    return a, entry


def credit(p: Planter) -> None:
    a, blk = _list_a_winner(p, "BLACK_LIST", BLACKLIST_CODE=p.g.v.guid(), REVOCATION_STATUS="0")
    since = blk["record"]["RECORD_DATE"] = _shift(a["NOTICE_SEND_TIME"], -20)
    code = a["WIN_BIDDER_CODE"]
    _listed(p, "CR-BLACKLISTED-WINNER", "WIN_RESULT_ANNO", "WIN_BIDDER_CODE",
                 "NOTICE_SEND_TIME", code, since, "a blacklisted winner")  # fmt: skip
    _listed(p, "CR-BLACKLISTED-BIDDER", "TENDER_LIST", "BIDDER_ORG_CODE",
                 "DATA_TIMESTAMP", code, since, "a blacklisted bidder")  # fmt: skip
    a, vio = _list_a_winner(p, "VIOLATING_LAWS_RULES_INFO", VIOLATING_CODE=p.g.v.guid())
    for f in SECTION_LINKS:  # a violation names the section it was found in
        vio["record"][f] = a[f]
    since = vio["record"]["CONFINED_START"] = _shift(a["NOTICE_SEND_TIME"], -30)
    vio["record"]["CONFINED_END"] = _shift(a["NOTICE_SEND_TIME"], 335)
    code = a["WIN_BIDDER_CODE"]
    _listed(p, "CR-RESTRICTED-WINNER", "WIN_RESULT_ANNO", "WIN_BIDDER_CODE",
                 "NOTICE_SEND_TIME", code, since, "a restricted winner")  # fmt: skip
    tp, sec = p._take()
    bid = p._bids(sec)[-1]
    code = bid["record"]["BIDDER_ORG_CODE"]
    for project in p._of("TENDER_PROJECT", TENDER_PROJECT_CODE=tp):
        project["record"]["TENDER_AGENCY_CODE"] = code
    for b in p._of("TENDER_LIST", TENDER_PROJECT_CODE=tp, BIDDER_ORG_CODE=code):
        p._say("CR-AGENT-BIDS", b, "the agency also bids")
    while True:  # an expert no earlier pattern moved
        _, sec = p._take()
        bid = p._bids(sec)[-1]
        expert = p._of("BID_EVALUATION_EXPERT", BID_SECTION_CODE=sec)[0]["record"]
        if expert["ID_CARD"] not in p.marked:
            p.marked.add(expert["ID_CARD"])
            break
    employer = bid["record"]["BIDDER_NAME"]
    if not p._set_all("EXPERT_EVALUATION", expert["ID_CARD"], COMPANY=employer):
        p.records.append(p.g.record("EXPERT_EVALUATION", {
            "ID_CARD": expert["ID_CARD"], "_person_id": expert["ID_CARD"],
            "EXPERT_NAME": expert["EXPERT_NAME"], "COMPANY": employer}))  # fmt: skip
    for e in p._of("BID_EVALUATION_EXPERT", ID_CARD=expert["ID_CARD"]):
        s = e["record"]["BID_SECTION_CODE"]  # every section this expert evaluates
        for b in p._of("TENDER_LIST", BID_SECTION_CODE=s, BIDDER_NAME=employer):
            p._say("CR-EXPERT-EMPLOYER", b, "an expert employed by a bidder")
