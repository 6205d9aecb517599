"""Coherent generated records for every data set of the dictionary.

One engineering transaction: PROJECT → TENDER_PROJECT → SECTION(s) → notice, tender file,
invitation, bidders, experts, evaluation, candidates, result, contract, performance ...,
all sharing the CEB code chain and one UNIFIED_DEAL_CODE per section.  Government
procurement, land, mining, state property and "other" deals get their own chains; entities
(法人, 自然人, 执业人员), experts, credit and supervision records point at the same companies,
people and sections.  Fields are filled from the dictionary (types, code sets, checks), so
a new data set is covered without code.  Same seed, same output.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from hub.dictionary import Dictionary, load_dictionary
from hub.dictionary.model import Check, DataSet, FieldDef, FieldKind
from hub.generate import bids
from hub.generate.timeline import EVENTS, PUBLISHED
from hub.generate.values import Values
from hub.validation import identifiers as ids

Record = dict[str, Any]  # {"dataset", "op", "key", "record"}

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


# a plausible value for open code sets whose values the reference does not give
OPEN_SAMPLES = {
    "INDUSTRY": "E48",
    "ENTITY_CATEGORY": "1",
    "ID_CARD_TYPE": "01",
    "OTHER_TRADE_CLASS": "1",
    "SECTION_CLASS": "A08",
}


@dataclass(frozen=True)
class PlantedDefect:
    record: int  # 1-based position in the batch
    dataset: str
    field: str
    rule: str
    kind: str
    value: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Generator:
    def __init__(
        self,
        seed: int = 1,
        dictionary: Dictionary | None = None,
        base: datetime = datetime(2024, 3, 1, 9, 0, 0),
    ) -> None:
        self.d = dictionary or load_dictionary()
        self.rng = random.Random(seed)
        regions = sorted(
            c.code
            for c in self.d.codesets["REGION"].values
            if c.valid_to is None and c.code.endswith("00") and not c.code.endswith("0000")
        )
        self.v = Values(self.rng, regions, base)
        # provincial overlay data sets of a transaction, by the parent they hang from
        self.overlay_children = {
            parent: [
                ds.name
                for ds in sorted(self.d.datasets.values(), key=lambda x: int(x.data_no))
                if ds.overlay and ds.parent and ds.parent.dataset == parent
            ]
            for parent in ("TENDER_PROJECT", "SECTION")
        }
        self.platform = self.v.uscc()
        self.service = self.v.uscc()
        self.serial = 0
        self.numbered = 0  # identifier-like fields without a rule of their own
        self.current = ""  # the data set of the record being made
        self.companies = [(self.v.company(), self.v.uscc()) for _ in range(12)]
        self.people = [(self.v.person(), self.v.citizen_id()) for _ in range(12)]
        self.last_section: dict[str, str] = {}

    # -- field values -------------------------------------------------------------------
    def _code(self, f: FieldDef) -> str:
        cs = self.d.codesets[f.codeset] if f.codeset else None
        if cs is None:
            return "1"
        if cs.values:
            codes = [v.code for v in cs.values if v.valid_to is None]
            if f.multi and len(codes) > 1 and self.rng.random() < 0.3:
                return ";".join(sorted(self.rng.sample(codes, 2)))
            return self.rng.choice(codes)
        if f.codeset in OPEN_SAMPLES:
            return OPEN_SAMPLES[f.codeset]
        n = f.fixed_length or min(f.max_length or 2, 2)
        return "1".zfill(n)

    def value(self, f: FieldDef, ctx: dict[str, str], days: int) -> str:
        if f.id in ctx:
            return ctx[f.id]
        days = EVENTS.get((self.current, f.id), days)  # the statutory timeline
        if f.kind is FieldKind.DATE:
            return self.v.moment(days).strftime("%Y%m%d")
        if f.kind is FieldKind.DATETIME:
            return self.v.moment(days).strftime("%Y%m%d%H%M%S")
        if f.kind is FieldKind.DATETIME_MIN:
            return self.v.moment(days).strftime("%Y%m%d%H%M")
        if f.codeset:
            return self._code(f)
        if f.kind is FieldKind.DECIMAL:
            return self.v.amount(f.int_digits or 14, f.frac_digits or 0)
        if f.kind is FieldKind.INTEGER:
            return str(self.rng.randrange(1, min(10 ** (f.int_digits or 3), 1000)))
        if f.check in (Check.PARTY_CODE, Check.PARTY_CODE_OR_PERSON) and (f.max_length or 18) < 18:
            return self.v.org_code()
        if f.check in (Check.USCC, Check.PARTY_CODE, Check.PARTY_CODE_OR_PERSON):
            return ctx.get("_org_code", self.rng.choice(self.companies)[1])
        if f.check is Check.CITIZEN_ID:
            return ctx.get("_person_id", self.rng.choice(self.people)[1])
        if f.check is Check.REGION:
            return ctx.get("_region", self.v.region())
        if f.check is Check.DEAL_CODE:
            return ctx.get("UNIFIED_DEAL_CODE") or self.deal_code("A01")
        if f.check is Check.PLATFORM_ID:
            return self.v.digits(11)
        if f.check is Check.GUID:
            return self.v.guid()
        if f.fixed_length:
            return self.v.digits(f.fixed_length)
        if f.id.endswith(("_NO", "_CODE", "_ID", "_NUMBER")):  # identifiers: distinct values
            self.numbered += 1
            code = f"{self.v.digits(4)}{self.numbered:08d}"
            return code[-f.max_length :] if f.max_length else code
        if f.id.endswith("URL"):
            return f"https://ggzy.example.gov.cn/jyxx/{self.v.digits(8)}.html"
        if f.id.endswith(("NAME", "_PERSON", "CONTACTOR", "ACTOR")):
            base = self.v.person() if "PERSON" in f.id or "CONTACT" in f.id else self.v.company()
            return base[: f.max_length] if f.max_length else base
        return self.v.text(f.max_length)

    def deal_code(self, trade_class: str) -> str:
        self.serial += 1
        return ids.make_deal_code(
            trade_class, self.platform, self.v.base.strftime("%Y%m%d"), self.serial
        )

    def record(self, name: str, ctx: dict[str, str], days: int = 0) -> Record:
        ds = self.d.datasets[name]
        self.current, days = name, max(days, PUBLISHED.get(name, days))
        ctx = {
            "PLATFORM_CODE": self.platform,
            "PUB_SERVICE_PLAT_CODE": self.service,
            "DATA_TIMESTAMP": self.v.moment(days).strftime("%Y%m%d%H%M%S"),
            **ctx,
        }
        must = {r for c in ds.conditionals for r in c.require}
        rec: dict[str, str] = {}
        for f in ds.fields:
            if (
                f.required == "Y"
                or f.id in ctx
                or f.id in must
                or f.id in ds.business_key  # every record has its identity
                or self.rng.random() < 0.6
            ):
                rec[f.id] = self.value(f, ctx, days)
        self._fix_conditionals(ds, rec, ctx, days)
        self.serial += 1
        key = f"{self.platform[8:12]}{ds.data_no}{self.v.base:%Y%m%d}{self.serial:07d}"
        return {"dataset": name, "op": "add", "key": key, "record": rec}

    def _fix_conditionals(
        self, ds: DataSet, rec: dict[str, str], ctx: dict[str, str], days: int
    ) -> None:
        for c in ds.conditionals:
            if (rec.get(c.when_field) or "") in c.when_values:
                for r in c.require:
                    f = ds.field(r)
                    if f is not None and not rec.get(r):
                        rec[r] = self.value(f, ctx, days)

    # -- chains -------------------------------------------------------------------------
    def engineering(self, out: list[Record], n_sections: int) -> None:
        region = self.v.region()
        self.serial += 1
        pcode = f"E{region}{self.v.base:%y%m%d}{self.serial % 10000:04d}"
        tcode = pcode + "001"
        owner, owner_code = self.rng.choice(self.companies)
        ctx = {
            "PROJECT_CODE": pcode,
            "TENDER_PROJECT_CODE": tcode,
            "_region": region,
            "REGION_CODE": region,
            "TRA_PLACE_CODE": region,
            "PROJECT_NAME": self.v.work(),
            "CLASS_VER_CODE": "2",
            "INDUSTRIES_TYPE": "E48",
            "TENDERER_CODE": owner_code,
            "TENDERER_NAME": owner,
            "ISUNION": "0",
            "TENDERER_ROLE": "01",
            "TENDER_AGENCY_ROLE": "02",
            "PRICE_FORM_CODE": "1",
        }
        out.append(self.record("PROJECT", ctx, 0))
        out.append(self.record("TENDER_PROJECT", ctx, 1))
        sections, deals, estimates = [], [], []
        for i in range(1, n_sections + 1):
            scode = f"{tcode}{i:03d}"
            deal = self.deal_code("A01")
            sections.append(scode)
            deals.append(deal)
            est = bids.estimate(self)
            estimates.append(est)
            sec = {"BID_SECTION_CODE": scode, "UNIFIED_DEAL_CODE": deal}
            sec |= {"CONTRACT_RECKON_PRICE": est, "PRICE_UNIT": "0"}
            out.append(self.record("SECTION", {**ctx, **sec}, 2))
        self.last_section = {
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
        }
        for day, name in enumerate(ENGINEERING_CHILDREN, start=3):
            out.append(self.record(name, multi, day))
        first = {**multi, "BID_SECTION_CODE": sections[0]}  # their BID_SECTION_CODE is one code
        for name in self.overlay_children["TENDER_PROJECT"]:
            out.append(self.record(name, first, 20))
        for scode, deal, est in zip(sections, deals, estimates, strict=True):
            sctx = {**ctx, "BID_SECTION_CODE": scode, "UNIFIED_DEAL_CODE": deal}
            sctx["BIDDER_ROLE"] = "03"
            sctx, offers = bids.tender(self, sctx, est)  # the winner's context, and every bid
            for day, name in enumerate(SECTION_CHILDREN, start=10):
                for one in offers if name == "TENDER_LIST" else [sctx]:
                    out.append(self.record(name, one, day))
            for name in self.overlay_children["SECTION"]:
                out.append(self.record(name, sctx, 15))

    def procurement(self, out: list[Record]) -> None:
        self.serial += 1
        region = self.v.region()
        code = f"ZC{region}-{self.v.base:%Y}-{self.serial:05d}"
        ctx = {
            "PURCHASE_PROJECT_CODE": code,
            "PURCHASE_SECTION_CODE": code + "-1",
            "UNIFIED_DEAL_CODE": self.deal_code("D01"),
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
            out.append(self.record(name, ctx, day))

    def land(self, out: list[Record]) -> None:
        guid = self.v.guid()
        ctx = {
            "ANNOUNCEMENT_GUID": guid,
            "DEAL_ANNOUNCEMENT_GUID": guid,
            "UNIFIED_DEAL_CODE": self.deal_code("B01"),
            "PRICE_UNIT": "1",
        }
        out.append(self.record("DEAL_BEHAVIOR_INFO", ctx, 0))
        out.append(self.record("DEAL_LAND_INFO", ctx, 20))

    def by_domain(self, out: list[Record], domain: str, trade_class: str) -> None:
        self.serial += 1
        ctx = {
            "UNIFIED_DEAL_CODE": self.deal_code(trade_class),
            "PROJECT_CODE": f"{trade_class}{self.v.base:%Y%m%d}{self.serial:06d}",
            "PRICE_FORM_CODE": "1",
        }
        for ds in sorted(self.d.datasets.values(), key=lambda x: int(x.data_no)):
            if ds.domain == domain and ds.name not in {"DEAL_BEHAVIOR_INFO", "DEAL_LAND_INFO"}:
                out.append(self.record(ds.name, ctx, 5))

    def entities(self, out: list[Record]) -> None:
        name, code = self.rng.choice(self.companies)
        person, pid = self.rng.choice(self.people)
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
        ctx.update(self.last_section)
        person_ctx = {**ctx, "LEGAL_CODE": pid}
        for ds in sorted(self.d.datasets.values(), key=lambda x: int(x.data_no)):
            if ds.library in ("entities", "experts"):
                use = person_ctx if ds.name.startswith("INDIVIDUAL_") else ctx
                out.append(self.record(ds.name, use, 0))

    def oversight(self, out: list[Record], section_ctx: dict[str, str]) -> None:
        name, code = self.rng.choice(self.companies)
        blk = self.v.guid()
        ctx = {
            **section_ctx,
            "BODY_CODE": code,
            "BODY_NAME": name,
            "_org_code": code,
            "BLACKLIST_CODE": blk,
            "VIOLATING_CODE": self.v.guid(),
            "BODY_ROLE": "03",
        }
        for ds in sorted(self.d.datasets.values(), key=lambda x: int(x.data_no)):
            if ds.library in ("credit", "supervision"):
                out.append(self.record(ds.name, ctx, 30))

    def batch(self, transactions: int = 10) -> list[Record]:
        out: list[Record] = []
        for t in range(max(transactions, 1)):
            self.engineering(out, n_sections=1 + t % 3)
            if t % 2 == 0:
                self.procurement(out)
                self.entities(out)
            if t % 4 == 0:
                self.land(out)
                self.by_domain(out, "矿业权", "C01")
                self.by_domain(out, "国有产权", "E01")
                self.by_domain(out, "其他", "Z01")
                self.oversight(out, self.last_section)
        return out

    def inject_defects(self, records: list[Record], rate: float) -> list[PlantedDefect]:
        """Give about ``rate`` of the records one realistic defect each; return what was planted."""
        from hub.generate.defects import inject  # noqa: PLC0415

        return inject(self, records, rate)
