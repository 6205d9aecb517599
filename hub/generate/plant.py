"""Plant what the supervision rules look for into a clean generated batch, and say what was
planted: statutory deadlines missed by a day, bonds above the limit, blacklisted winners,
an agency that bids, an expert employed by a bidder, collusion patterns.  Each pattern uses
sections of its own, so one pattern never trips another rule: on a planted batch the
findings are exactly the planted list (tests/test_supervise.py measures recall and
precision; docs/supervision.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from hub.errors import UsageError
from hub.generate import plant_market as market
from hub.generate.plant_dates import _shift, _workdays
from hub.reconcile.keys import key_plans

if TYPE_CHECKING:
    from hub.generate.generator import Generator, Record


NOT_ENOUGH = (
    "not enough transactions to plant every pattern in sections of its own: "
    "--plant N needs about 50 × N transactions (-n)"
)


@dataclass(frozen=True)
class Planted:
    rule: str  # the rule that must report it
    dataset: str  # the record the finding names
    key: str
    what: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Planter:
    def __init__(self, g: Generator, records: list[Record]) -> None:
        self.g, self.records = g, records
        self.keys = key_plans(g.d)
        self.planted: list[Planted] = []
        self.used: set[str] = set()  # tender projects a pattern has taken
        self.marked: set[str] = set()  # firms and experts a pattern changed elsewhere

    # -- finding records ---------------------------------------------------------------
    def _of(self, dataset: str, **match: str) -> list[Record]:
        return [
            r for r in self.records
            if r["dataset"] == dataset and all(r["record"].get(k) == v for k, v in match.items())
        ]  # fmt: skip

    def _projects(self, min_bids: int = 3, min_sections: int = 1) -> Iterator[str]:
        """Tender projects no pattern has taken yet, whose sections all have min_bids."""
        for p in self._of("TENDER_PROJECT"):
            code = p["record"]["TENDER_PROJECT_CODE"]
            sections = self._of("SECTION", TENDER_PROJECT_CODE=code)
            bids = [self._bids(s["record"]["BID_SECTION_CODE"]) for s in sections]
            if (
                code not in self.used
                and len(sections) >= min_sections
                and all(len(b) >= min_bids for b in bids)
                and self._of("WIN_RESULT_ANNO", TENDER_PROJECT_CODE=code)
            ):
                self.used.add(code)
                yield code

    def _take(self, min_bids: int = 3, min_sections: int = 1) -> tuple[str, str]:
        for code in self._projects(min_bids, min_sections):
            return code, self._of("SECTION", TENDER_PROJECT_CODE=code)[0]["record"][
                "BID_SECTION_CODE"
            ]
        raise UsageError(NOT_ENOUGH)

    def _bids(self, section: str) -> list[Record]:
        bids = self._of("TENDER_LIST", BID_SECTION_CODE=section)
        return sorted(bids, key=lambda r: float(r["record"]["BID_PRICE"]))

    def _key(self, r: Record) -> str:
        return str(self.keys[r["dataset"]].key(r["record"]))

    def _say(self, rule: str, r: Record, what: str) -> None:
        self.planted.append(Planted(rule, r["dataset"], self._key(r), what))

    def _set_all(self, dataset: str, key: str, **fields: str) -> bool:
        hit = False
        for r in self.records:
            if r["dataset"] == dataset and self._key(r) == key:
                r["record"].update(fields)
                hit = True
        return hit

    # -- statutory timelines and bonds ---------------------------------------------------
    def timelines(self) -> None:
        tp, _ = self._take()
        ann = self._of("TENDER_ANN_QUA_INQUERY_ANN", TENDER_PROJECT_CODE=tp)[0]
        a = ann["record"]
        a["DOC_GET_END_TIME"] = _shift(a["DOC_GET_START_TIME"], 4)
        self._say("TL-DOC-SALE", ann, "documents on sale 4 days")
        tp, _ = self._take()
        ann = self._of("TENDER_ANN_QUA_INQUERY_ANN", TENDER_PROJECT_CODE=tp)[0]
        a = ann["record"]
        a["BID_DOC_REFER_END_TIME"] = _shift(a["DOC_GET_START_TIME"], 19)
        self._say("TL-BID-PERIOD", ann, "19 days from the documents to the deadline")
        tp, _ = self._take()
        pub = self._of("TENDER_CANDIDATE_ANNOUNCE", TENDER_PROJECT_CODE=tp)[0]
        p = pub["record"]
        p["PUBLICITY_END_TIME"] = _shift(p["PUBLICITY_START_TIME"], 2)
        self._say("TL-CANDIDATE-PUBLICITY", pub, "candidates publicised 2 days")
        tp, sec = self._take()
        award = self._of("WIN_RESULT_ANNO", BID_SECTION_CODE=sec)[0]["record"]
        for c in self._of("CONTRACT_PERFORMANCE", BID_SECTION_CODE=sec):
            c["record"]["CONTRACT_SIGN_TIME"] = _shift(award["NOTICE_SEND_TIME"], 31)
            c["record"]["DATA_TIMESTAMP"] = _shift(award["NOTICE_SEND_TIME"], 32)
            self._say("TL-CONTRACT", c, "contract signed 31 days after the award")
        _, sec = self._take()
        inv = self._of("TENDER_INVITATION", BID_SECTION_CODE=sec)[0]
        inv["record"]["DOC_GET_END_TIME"] = _shift(inv["record"]["DOC_GET_START_TIME"], 4)
        self._say("TL-DOC-SALE-INV", inv, "an invitation's documents on sale 4 days")
        _, sec = self._take()
        inv = self._of("TENDER_INVITATION", BID_SECTION_CODE=sec)[0]
        inv["record"]["BID_DOC_REFER_END_TIME"] = _shift(inv["record"]["DOC_GET_START_TIME"], 19)
        self._say("TL-BID-PERIOD-INV", inv, "19 days from an invitation to the deadline")
        tp, sec = self._take()
        pub = self._of("TENDER_CANDIDATE_ANNOUNCE", TENDER_PROJECT_CODE=tp)[0]
        for rep in self._of("EVALUATION_REPORT", BID_SECTION_CODE=sec):
            rep["record"]["END_TIME"] = _shift(pub["record"]["PUBLICITY_START_TIME"], -4)
        self._say("TL-CANDIDATE-PROMPT", pub, "candidates publicised 4 days after the report")
        tp, _ = self._take()
        for t in self._of("TENDER_FILE_CLARI_MODI", TENDER_PROJECT_CODE=tp):
            t["record"]["CLARIFY_TIME"] = _shift(t["record"]["BID_DOC_REFER_END_TIME"], -14)
            self._say("TL-CLARIFY", t, "documents amended 14 days before the deadline")

    def bonds(self) -> None:
        tp, _ = self._take(min_sections=1)
        secs = self._of("SECTION", TENDER_PROJECT_CODE=tp)
        low = min(float(s["record"]["CONTRACT_RECKON_PRICE"]) for s in secs)
        for t in self._of("TENDER_FILE_CLARI_MODI", TENDER_PROJECT_CODE=tp):
            t["record"].update(MARGIN_AMOUNT=f"{low * 0.0201:.2f}", MARGIN_AMOUNT_UNIT="0")
            self._say("BOND-BID-2PCT", t, "bid bond 2.01% of the smallest estimate")
        tp, sec = self._take()
        est = float(self._of("SECTION", BID_SECTION_CODE=sec)[0]["record"]["CONTRACT_RECKON_PRICE"])
        for lg in self._of("LETTER_OF_GUARANTEE", BID_SECTION_CODE=sec):
            lg["record"]["GUARANTEE_AMOUNT"] = f"{est * 0.025:.2f}"
            self._say("BOND-GUARANTEE-2PCT", lg, "guarantee 2.5% of the estimate")

    def procedures(self) -> None:
        complaints = [
            c
            for c in self._of("COMPLAINT_INFO")
            if c["record"].get("ACCEPT_DATE") and self._key(c) not in self.used
        ]
        purchases = [c for c in self._of("CORRECTION_ITEM") if self._key(c) not in self.used]
        self.used |= {self._key(c) for c in (*complaints[:2], *purchases[:1])}
        if len(complaints) < 2 or not purchases:
            raise UsageError(NOT_ENOUGH)
        c = complaints[0]["record"]
        c["ACCEPT_DATE"] = _workdays(c["COMPLAINT_DATE"], 4)
        c["HANDLE_DATE"] = _workdays(c["ACCEPT_DATE"], 10)
        self._say("TL-COMPLAINT-ACCEPT", complaints[0], "accepted on the 4th working day")
        c = complaints[1]["record"]
        c["HANDLE_DATE"] = _workdays(c["ACCEPT_DATE"], 31)
        c["DATA_TIMESTAMP"] = _shift(c["HANDLE_DATE"], 1)
        self._say("TL-COMPLAINT-DECIDE", complaints[1], "decided on the 31st working day")
        r = purchases[0]["record"]
        r["POST_BID_CLOSING_TIME"] = _shift(r["MODIFICATION_START_TIME"], 14)
        self._say("TL-PURCHASE-CLARIFY", purchases[0], "corrected 14 days before the deadline")
        for c in self._of("PURCHASE_CONTRACT"):
            sec, k = c["record"]["PURCHASE_SECTION_CODE"], self._key(c)
            deal = self._of("BID_DEAL_ANNOUNCE", PURCHASE_SECTION_CODE=sec)
            if k in self.used or not deal or not c["record"].get("SIGNING_TIME"):
                continue
            self.used.add(k)
            start = deal[0]["record"]["WIN_BID_BULLETIN_START_TIME"]
            c["record"]["SIGNING_TIME"] = _shift(start, 31)
            c["record"]["DATA_TIMESTAMP"] = _shift(start, 32)
            self._say("TL-PURCHASE-CONTRACT", c, "signed 31 days after the result")
            return
        raise UsageError(NOT_ENOUGH)

    # -- bidding behaviour ---------------------------------------------------------------


PATTERNS: list[Callable[[Planter], None]] = [
    Planter.timelines,
    Planter.bonds,
    Planter.procedures,
    market.collusion,
    market.prices,
    market.credit,
]


def plant(g: Generator, records: list[Record], times: int = 1) -> list[Planted]:
    """Plant every pattern ``times`` times into ``records`` (changed in place)."""
    p = Planter(g, records)
    for _ in range(times):  # rings first: they change who bids, which the others list
        market.ring(p)
        market.ring(p, sections=12, winners=1, rule="BID-CO-BIDDING")
    for _ in range(times):
        for pattern in PATTERNS:
            pattern(p)
    return p.planted
