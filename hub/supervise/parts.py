"""The parts a rule of a pack names: the records and fields it reads (a date, an amount, a
group of bids, a party, a list and what lifts an entry), when it is in force and its
per-province overrides.  Frozen once loaded, like the pack (pack.py)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Side(Frozen):
    """One end of an interval: a data set's date field, and for a rule across two records
    the field that links them (a list of codes joined by ';' is taken apart)."""

    dataset: str
    field: str
    link: str | None = None


class Group(Frozen):
    """Records of one data set that share a link code (the bids of one section)."""

    dataset: str
    link: str
    field: str | None = None  # for same_value: the field compared


class Amount(Frozen):
    """An amount field, with the field giving its unit (AMOUNT_UNIT: 0 元, 1 万元; none: 元),
    and for the base of a ratio across two records the field that links them."""

    dataset: str
    field: str
    unit: str | None = None
    link: str | None = None


class Party(Frozen):
    """Who takes part (a code field) and the date of the event judged."""

    dataset: str
    field: str
    date: str


class Lifted(Frozen):
    """The record that lifts a listing: same business key as the listing, and its date."""

    dataset: str
    date: str


class Listing(Frozen):
    """A list of parties (a blacklist, restrictions): the code field, the date the entry
    takes effect, when it ends (a field of the entry) or what lifts it."""

    dataset: str
    field: str
    from_: str = Field(alias="from")
    until: str | None = None
    lifted: Lifted | None = None


class Via(Frozen):
    """Look a value up: the record of ``dataset`` whose business key is the value, its field."""

    dataset: str
    field: str


class Member(Frozen):
    """One side of a ``shared`` rule: records linked by a code, the party field, and where
    the compared value is looked up."""

    dataset: str
    link: str
    field: str
    via: Via | None = None


class InForce(Frozen):
    from_: dt.date = Field(alias="from")
    until: dt.date | None = None  # the first day it no longer applies

    def covers(self, day: dt.date) -> bool:
        return self.from_ <= day and (self.until is None or day < self.until)


class Override(Frozen):
    min_days: int | None = Field(default=None, ge=0)
    max_days: int | None = Field(default=None, ge=0)
