"""The chains of generated records: one tendering transaction (PROJECT → TENDER_PROJECT →
SECTION(s) → notice, tender file, invitation, bids, experts, evaluation, candidates, result,
contract, performance …) sharing the CEB code chain and one UNIFIED_DEAL_CODE per section;
government procurement, land, mining, state property and "other" deals; the market's
entities and experts; credit and supervision records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.generate import bids

if TYPE_CHECKING:
    from hub.generate.generator import Generator, Record

ENGINEERING_CHILDREN = [
    "TENDER_ANN_QUA_INQUERY_ANN",
    "QUALI_INQUERY_CLARI",
    "QUALI_INQUERY_APP_FILE",
    "TENDER_FILE_CLARI_MODI",
    "BID_OPENING_RECORD",
    "TENDER_CANDIDATE_ANNOUNCE",
    "T_ASKANSWER",
]
SECTION_CHILDREN = [
    "TENDER_INVITATION",
    "QUALI_INQUERY_RESULT",
    "TENDER_LIST",
    "LETTER_OF_GUARANTEE",
    "BID_DOC_CHARACT_CODE",
    "BID_EVALUATION_EXPERT",
    "EVALUATION_REPORT",
    "TENDER_EVALUATION",
    "TENDER_CANDIDATE",
    "WIN_RESULT_ANNO",
    "CONTRACT_PERFORMANCE",
    "PERFORMANCE",
    "TENDER_ABNORMITY_REPORT",
]


def engineering(g: Generator, out: list[Record], n_sections: int) -> None:
    region = g.v.region()
    g.serial += 1
    # CEB: E + division + yyMMdd + a 4-digit serial of the division's projects that day
    # (a serial over the whole batch wrapped at 10,000 and two projects shared a code)
    n = g.projects_in[region] = g.projects_in.get(region, 0) + 1
    pcode = f"E{region}{g.v.base:%y%m%d}{n:04d}"
    tcode = pcode + "001"
    owner, owner_code = g.rng.choice(g.owners)
    agency, agency_code = g.rng.choice(g.agents)
    ctx = {
        "PROJECT_CODE": pcode,
        "TENDER_PROJECT_CODE": tcode,
        "_region": region,
        "REGION_CODE": region,
        "TRA_PLACE_CODE": region,
        "PROJECT_NAME": g.v.work(),
        "CLASS_VER_CODE": "2",
        "INDUSTRIES_TYPE": "E48",
        "TENDERER_CODE": owner_code,
        "TENDERER_NAME": owner,
        "ISUNION": "0",
        "TENDERER_ROLE": "01",
        "OWNER_NAME": owner,
        "TENDER_AGENCY_NAME": agency,
        "TENDER_AGENCY_CODE": agency_code,
        "TENDER_AGENCY_ROLE": "02",
        "PRICE_FORM_CODE": "1",
    }
    out.append(g.record("PROJECT", ctx, 0))
    out.append(g.record("TENDER_PROJECT", ctx, 1))
    sections, deals, estimates = [], [], []
    for i in range(1, n_sections + 1):
        scode = f"{tcode}{i:03d}"
        deal = g.deal_code("A01")
        sections.append(scode)
        deals.append(deal)
        est = bids.estimate(g)
        estimates.append(est)
        sec = {"BID_SECTION_CODE": scode, "UNIFIED_DEAL_CODE": deal}
        sec |= {"CONTRACT_RECKON_PRICE": est, "PRICE_UNIT": "0"}
        out.append(g.record("SECTION", {**ctx, **sec}, 2))
    g.last_section = {
        "TENDER_PROJECT_CODE": tcode,
        "BID_SECTION_CODE": sections[0],
        "UNIFIED_DEAL_CODE": deals[0],
        "PROJECT_CODE": pcode,
    }
    multi = {
        **ctx,
        "BID_SECTION_CODE": ";".join(sections),
        "BID_SECTION_CODES": ";".join(sections),
        "UNIFIED_DEAL_CODES": ";".join(deals),
        "UNIFIED_DEAL_CODE": deals[0],
        "NOTICE_BID_NUM": str(n_sections),
        **bids.margin(estimates),  # the bid bond and the ceiling price of the documents
    }
    for day, name in enumerate(ENGINEERING_CHILDREN, start=3):
        out.append(g.record(name, multi, day))
    first = {**multi, "BID_SECTION_CODE": sections[0]}  # their BID_SECTION_CODE is one code
    for name in g.overlay_children["TENDER_PROJECT"]:
        out.append(g.record(name, first, 20))
    for scode, deal, est in zip(sections, deals, estimates, strict=True):
        sctx = {**ctx, "BID_SECTION_CODE": scode, "UNIFIED_DEAL_CODE": deal}
        sctx["BIDDER_ROLE"] = "03"
        sctx, offers = bids.tender(g, sctx, est)  # the winner's context, and every bid
        sctx["GUARANTEE_AMOUNT"] = multi["MARGIN_AMOUNT"]
        expert, expert_id, _ = g.rng.choice(g.experts)
        g.sections_made += 1
        for day, name in enumerate(SECTION_CHILDREN, start=10):
            if name == "TENDER_ABNORMITY_REPORT" and g.sections_made % 8 != 1:
                continue  # an irregularity is reported for one section in eight, not all
            per_bid = name in ("TENDER_LIST", "BID_DOC_CHARACT_CODE")
            for one in offers if per_bid else [sctx]:
                if name == "BID_EVALUATION_EXPERT":
                    one = {**one, "EXPERT_NAME": expert, "ID_CARD": expert_id}  # noqa: PLW2901
                out.append(g.record(name, one, day))
        for name in g.overlay_children["SECTION"]:
            out.append(g.record(name, sctx, 15))


def procurement(g: Generator, out: list[Record]) -> None:
    g.serial += 1
    region = g.v.region()
    code = f"ZC{region}-{g.v.base:%Y}-{g.serial:05d}"
    ctx = {
        "PURCHASE_PROJECT_CODE": code,
        "PURCHASE_SECTION_CODE": code + "-1",
        "UNIFIED_DEAL_CODE": g.deal_code("D01"),
        "_region": region,
        "REGION_CODE": region,
        "TRA_PLACE_CODE": region,
        "PRICE_FORM_CODE": "1",
        "PURCHASER_ROLE": "04",
        "PURCHASER_AGENCY_ROLE": "05",
        "BIDDER_ROLE": "06",
    }
    for day, name in enumerate(
        [
            "PURCHASE_PROJECT",
            "PURCHASE_QUALI_INQUERY_ANN",
            "CORRECTION_ITEM",
            "PURCHASE_BIDDING_RECORD",
            "PURCHASE_TENDER_LIST",
            "BID_DEAL_ANNOUNCE",
            "PURCHASE_CONTRACT",
        ]
    ):
        out.append(g.record(name, ctx, day))


def land(g: Generator, out: list[Record]) -> None:
    guid = g.v.guid()
    ctx = {
        "ANNOUNCEMENT_GUID": guid,
        "DEAL_ANNOUNCEMENT_GUID": guid,
        "UNIFIED_DEAL_CODE": g.deal_code("B01"),
        "PRICE_UNIT": "1",
    }
    out.append(g.record("DEAL_BEHAVIOR_INFO", ctx, 0))
    out.append(g.record("DEAL_LAND_INFO", ctx, 20))


def by_domain(g: Generator, out: list[Record], domain: str, trade_class: str) -> None:
    g.serial += 1
    ctx = {
        "UNIFIED_DEAL_CODE": g.deal_code(trade_class),
        "PROJECT_CODE": f"{trade_class}{g.v.base:%Y%m%d}{g.serial:06d}",
        "PRICE_FORM_CODE": "1",
    }
    for ds in sorted(g.d.datasets.values(), key=lambda x: int(x.data_no)):
        if ds.domain == domain and ds.name not in {"DEAL_BEHAVIOR_INFO", "DEAL_LAND_INFO"}:
            out.append(g.record(ds.name, ctx, 5))


def entities(g: Generator, out: list[Record]) -> None:
    # the market's companies, people and experts in turn: a batch sends each once until
    # it has sent them all (then a later record of one is an update)
    i, g.entity_turn = g.entity_turn, g.entity_turn + 1
    name, code = g.companies[i % len(g.companies)]
    person, pid = g.people[i % len(g.people)]
    ctx = {
        "LEGAL_CODE": code,
        "LEGAL_NAME": name,
        "_org_code": code,
        "LEGAL_ROLE": "03",
        "BIDDER_CODE_TYPE": "1",
        "ID_CARD": pid,
        "ID_CARD_NO": pid,
        "ID_CARD_TYPE": "01",
        "_person_id": pid,
        "PERSON_NAME": person,
        "EXPERT_NAME": person,
        "BIDDER_NO": code,
    }
    ctx.update(g.last_section)
    person_ctx = {**ctx, "LEGAL_CODE": pid}
    expert, expert_id, employer = g.experts[i % len(g.experts)]
    expert_ctx = {**ctx, "ID_CARD": expert_id, "_person_id": expert_id,
                  "EXPERT_NAME": expert, "COMPANY": employer}  # fmt: skip
    for ds in sorted(g.d.datasets.values(), key=lambda x: int(x.data_no)):
        if ds.library in ("entities", "experts"):
            use = person_ctx if ds.name.startswith("INDIVIDUAL_") else ctx
            # sent again a round later (an update), never the same content twice: a later
            # DATA_TIMESTAMP, the rest as first sent (a company keeps its telephone and its
            # address from one night to the next)
            again = i // len(g.people)
            rec = g.record(ds.name, expert_ctx if ds.library == "experts" else use, again)
            ident = (ds.name, *(str(rec["record"].get(f)) for f in ds.business_key))
            first = g.entities_sent.setdefault(ident, rec["record"])
            stamp = rec["record"].get("DATA_TIMESTAMP")
            if first is not rec["record"] and stamp:  # (without one: sent as made anew)
                rec["record"] = {**first, "DATA_TIMESTAMP": stamp}
            out.append(rec)


def oversight(g: Generator, out: list[Record], section_ctx: dict[str, str]) -> None:
    # credit and supervision records name companies of the market that do not bid in
    # this batch: a clean batch awards nothing to a blacklisted company
    name, code = g.rng.choice(g.outsiders)
    blk = g.v.guid()
    ctx = {
        **section_ctx,
        "BODY_CODE": code,
        "BODY_NAME": name,
        "_org_code": code,
        "BLACKLIST_CODE": blk,
        "VIOLATING_CODE": g.v.guid(),
        "BODY_ROLE": "03",
    }
    for ds in sorted(g.d.datasets.values(), key=lambda x: int(x.data_no)):
        if ds.library in ("credit", "supervision"):
            out.append(g.record(ds.name, ctx, 30))
