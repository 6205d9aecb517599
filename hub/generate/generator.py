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
from hub.generate import chains, text
from hub.generate.timeline import EVENTS, PUBLISHED
from hub.generate.values import Values
from hub.validation import identifiers as ids

Record = dict[str, Any]  # {"dataset", "op", "key", "record"}


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


def _person_facts(rec: dict[str, str], year: int) -> None:
    """A person's birthday, sex and years of work agree with their identity number (GB
    11643: birth date at 7–14, sex by the parity of the 17th digit)."""
    pid = rec.get("ID_CARD") or rec.get("ID_CARD_NO") or ""
    if len(pid) != 18 or not pid[:17].isdigit():
        return
    for f in ("BIRTHDAY", "BIRTHDATE"):
        if f in rec:
            rec[f] = pid[6:14]
    for f in ("SEX", "GENDER"):
        if f in rec:
            rec[f] = "1" if int(pid[16]) % 2 else "2"
    if "WORK_YEAR" in rec:
        rec["WORK_YEAR"] = str(max(1, min(int(rec["WORK_YEAR"]), year - int(pid[6:10]) - 22)))


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
        # the market: bidders, owners, agencies and companies that never bid here (the ones
        # on blacklists), each a distinct name; experts work for institutes, not bidders
        names = self.v.companies(60)
        self.companies = [(n, self.v.uscc()) for n in names[:40]]
        self.outsiders = [(n, self.v.uscc()) for n in names[40:]]
        self.owners = [(n, self.v.uscc()) for n in self.v.owners()]
        self.agents = [(n, self.v.uscc()) for n in self.v.agencies()]
        self.people = [(self.v.person(), self.v.citizen_id()) for _ in range(12)]
        self.experts = [
            (self.v.person(), self.v.citizen_id(), self.rng.choice(text.INSTITUTES))
            for _ in range(30)
        ]
        self.last_section: dict[str, str] = {}
        self.entity_turn = 0
        self.entities_sent: dict[tuple[str, ...], dict[str, str]] = {}  # as first sent
        self.sections_made = 0
        self.projects_in: dict[str, int] = {}  # projects per division: their codes' serial

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
        if f.fixed_length == 9 and "township" in f.domain:  # a county, then a town (1xx)
            d = self.v.digits(9)  # the draw a 9-digit field always took: the rest stays as it was
            regions = self.v.regions
            return (ctx.get("_region") or regions[int(d[:6]) % len(regions)]) + f"1{d[-2:]}"
        if f.fixed_length:
            return self.v.digits(f.fixed_length)
        if "电话" in f.name_cn or "PHONE" in f.id:
            return text.phone(self.rng)[: f.max_length]
        if f.id.endswith(("_NO", "_CODE", "_ID", "_NUMBER")):  # identifiers: distinct values
            self.numbered += 1
            code = f"{self.v.digits(4)}{self.numbered:08d}"
            return code[-f.max_length :] if f.max_length else code
        if f.id.endswith("URL"):
            return f"https://ggzy.example.gov.cn/jyxx/{self.v.digits(8)}.html"
        if f.id.endswith(("NAME", "_PERSON", "CONTACTOR", "ACTOR")):
            person = "PERSON" in f.id or "CONTACT" in f.id or "姓名" in f.name_cn
            if person:
                base = self.v.person()
            elif "项目" in f.name_cn or "标段" in f.name_cn or "文件" in f.name_cn:
                base = self.v.work() + ("招标文件" if "文件" in f.name_cn else "")
            else:
                base = self.v.company()
            return base[: f.max_length] if f.max_length else base
        return text.text(self.rng, f.id, f.name_cn, f.max_length, self.v.person())

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
        _person_facts(rec, self.v.base.year)
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

    def batch(self, transactions: int = 10) -> list[Record]:
        out: list[Record] = []
        for t in range(max(transactions, 1)):
            chains.engineering(self, out, n_sections=1 + t % 3)
            if t % 2 == 0:
                chains.procurement(self, out)
                chains.entities(self, out)
            if t % 4 == 0:
                chains.land(self, out)
                chains.by_domain(self, out, "矿业权", "C01")
                chains.by_domain(self, out, "国有产权", "E01")
                chains.by_domain(self, out, "其他", "Z01")
                chains.oversight(self, out, self.last_section)
        return out

    def inject_defects(self, records: list[Record], rate: float) -> list[PlantedDefect]:
        """Give about ``rate`` of the records one realistic defect each; return what was planted."""
        from hub.generate.defects import inject  # noqa: PLC0415

        return inject(self, records, rate)
