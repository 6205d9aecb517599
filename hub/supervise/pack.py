"""Rule packs as data: loaded and checked like the dictionary, frozen once loaded.

A pack is a TOML file under schemas/supervision/ (docs/supervision.md).  Every field a rule
names is checked against the dictionary when the pack loads, so a typo fails at once with
the file, the rule and the field named, not silently at evaluation.
"""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from hub.dictionary.loader import Dictionary, load_dictionary
from hub.dictionary.paths import schemas_dir
from hub.errors import ConfigError
from hub.supervise.parts import (
    Amount,
    Frozen,
    Group,
    InForce,
    Listing,
    Member,
    Override,
    Party,
    Side,
)
from hub.tomlfile import read_toml

PLACEHOLDERS = {"days", "start", "end", "min_days", "max_days", "start_record", "end_record",
                "link", "count", "min_count", "value", "records", "unit", "ratio", "max_ratio",
                "amount", "base", "code", "party", "listed", "since", "cv", "max_cv",
                "prices", "expected", "chance", "distance", "gap", "fence", "sections",
                "winners"}  # fmt: skip
KIND = Literal["interval", "count", "same_value", "ratio", "listed", "shared", "screen",
               "rotation"]  # fmt: skip


class Rule(Frozen):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9-]{2,40}$")
    name_cn: str
    name_en: str
    law: str
    article: str
    kind: KIND
    # interval: days from start to end (one record, or two linked ones)
    start: Side | None = None
    end: Side | None = None
    min_days: int | None = Field(default=None, ge=0)
    max_days: int | None = Field(default=None, ge=0)
    working_days: bool = False  # China's official calendar, with its make-up working days
    # ratio: value <= max_ratio × base
    value: Amount | None = None
    base: Amount | None = None
    max_ratio: float | None = Field(default=None, gt=0)
    # listed: a party on a list on the date of the event
    party: Party | None = None
    listing: Listing | None = None
    # shared: a left and a right record of one link code share a value
    left: Member | None = None
    right: Member | None = None
    # screen: a statistical screen over the values of ``among`` (the bids of a section)
    screen: Literal["progression", "cv", "distance", "outlier"] | None = None
    max_cv: float | None = Field(default=None, gt=0)
    # outlier: a section's gap above Q3 + fence × IQR of the market's sections (at least
    # min_sections of them) and above min_value
    fence: float | None = Field(default=None, gt=0)
    min_value: float | None = Field(default=None, ge=0)
    min_sections: int | None = Field(default=None, ge=4)
    # rotation: ``members`` firms bidding together in min_count sections, winning by turns
    members: int | None = Field(default=None, ge=2, le=6)
    max_p: float | None = Field(default=None, gt=0, le=1)  # chance of such a ring at most
    by_turns: bool = True  # rotation: members win every common section; false: whoever wins
    # count: fewer than min_count records of ``count`` per link code where ``when`` exists
    count: Group | None = None
    when: Group | None = None
    min_count: int | None = Field(default=None, ge=1)
    # same_value: two records of ``among`` with one link code and the same value of its field
    among: Group | None = None
    in_force: InForce
    severity: Literal["info", "warning", "critical"]
    message: str
    province: dict[str, Override] = Field(default_factory=dict)  # by region code's 2 digits

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        need = {
            "interval": ("start", "end"),
            "count": ("count", "when", "min_count"),
            "same_value": ("among",),
            "ratio": ("value", "base", "max_ratio"),
            "listed": ("party", "listing"),
            "shared": ("left", "right"),
            "screen": ("among", "screen", "min_count"),
            "rotation": ("among", "when", "members", "min_count"),
        }[self.kind]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"a {self.kind} rule needs {', '.join(missing)}")
        if self.kind == "interval":
            if self.min_days is None and self.max_days is None:
                raise ValueError("an interval rule needs min_days or max_days")
            assert self.start and self.end
            if self.across and not (self.start.link and self.end.link):
                raise ValueError("a rule across two data sets names the link field of each side")
        if self.kind in ("same_value", "screen") and not (self.among and self.among.field):
            raise ValueError(f"a {self.kind} rule names the field compared: among.field")
        if self.kind == "rotation" and not (
            self.among and self.among.field and self.when and self.when.field
        ):
            raise ValueError("a rotation rule names the bidder field (among.field) and the "
                             "winner field (when.field)")  # fmt: skip
        if self.kind == "screen":
            wanted = {"cv": ("max_cv",), "distance": ("max_p",),
                      "outlier": ("fence", "min_sections")}.get(self.screen or "", ())  # fmt: skip
            if lacking := [n for n in wanted if getattr(self, n) is None]:
                raise ValueError(f"the {self.screen} screen needs {', '.join(lacking)}")
            if self.screen == "distance" and (self.min_count or 0) < 4:
                raise ValueError(
                    "the distance screen needs min_count >= 4 (two gaps between losers)"
                )
        v, b = self.value, self.base
        if self.kind == "ratio" and v and b and v.dataset != b.dataset and not (v.link and b.link):
            raise ValueError("a ratio across two data sets names the link field of each")
        unknown = {
            p[1] or p[2] for p in Template.pattern.findall(self.message) if p[1] or p[2]
        } - PLACEHOLDERS
        if unknown:
            raise ValueError(f"message uses unknown placeholders {sorted(unknown)}")
        return self

    def reads(self) -> list[tuple[str, str | None]]:
        """(data set, field) pairs this rule reads, for the check against the dictionary."""
        out: list[tuple[str, str | None]] = []
        for s in (self.start, self.end):
            if s is not None:
                out += [(s.dataset, s.field), (s.dataset, s.link)]
        for g in (self.count, self.when, self.among):
            if g is not None:
                out += [(g.dataset, g.link), (g.dataset, g.field)]
        for a in (self.value, self.base):
            if a is not None:
                out += [(a.dataset, a.field), (a.dataset, a.unit), (a.dataset, a.link)]
        if self.party is not None:
            out += [(self.party.dataset, self.party.field), (self.party.dataset, self.party.date)]
        if (li := self.listing) is not None:
            out += [(li.dataset, li.field), (li.dataset, li.from_), (li.dataset, li.until)]
            if li.lifted:
                out += [(li.lifted.dataset, li.lifted.date)]
        for m in (self.left, self.right):
            if m is not None:
                out += [(m.dataset, m.link), (m.dataset, m.field)]
                if m.via:
                    out += [(m.via.dataset, m.via.field)]
        return out

    @property
    def across(self) -> bool:
        return (
            self.start is not None
            and self.end is not None
            and (self.start.dataset != self.end.dataset)
        )

    def limits(self, region: str | None) -> tuple[int | None, int | None]:
        o = self.province.get((region or "")[:2])
        lo = o.min_days if o and o.min_days is not None else self.min_days
        hi = o.max_days if o and o.max_days is not None else self.max_days
        return lo, hi


class PackInfo(Frozen):
    name: str
    title: str
    version: str


class Pack(Frozen):
    pack: PackInfo
    rule: tuple[Rule, ...]

    @model_validator(mode="after")
    def _unique(self) -> Pack:
        ids = [r.id for r in self.rule]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"rule ids used twice: {sorted(dup)}")
        return self


def load_pack(path: Path, d: Dictionary | None = None) -> Pack:
    """A pack, checked against the dictionary; ConfigError names every problem."""
    raw = read_toml(path)
    try:
        pack = Pack.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{path}: {_where(raw, e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("\n".join(problems)) from exc
    d = d or load_dictionary()
    problems = []
    for r in pack.rule:
        for dataset, f in r.reads():
            ds = d.datasets.get(dataset)
            if ds is None:
                problems.append(f"{path}: rule {r.id}: no data set {dataset!r}")
            elif f and ds.field(f) is None:
                problems.append(f"{path}: rule {r.id}: {dataset} has no field {f!r}")
        for m in (r.left, r.right):
            ds = d.datasets.get(m.via.dataset) if m and m.via else None
            if ds is not None and len(ds.business_key) != 1:
                key = "+".join(ds.business_key)
                problems.append(f"{path}: rule {r.id}: via {ds.name}: its business key is "
                                f"{key}, so a value cannot name a record")  # fmt: skip
    if problems:
        raise ConfigError("\n".join(problems))
    return pack


def _where(raw: dict[str, object], loc: tuple[object, ...]) -> str:
    """A validation error's place, with the rule named by its id rather than its index."""
    rules = raw.get("rule")
    if len(loc) > 1 and loc[0] == "rule" and isinstance(loc[1], int) and isinstance(rules, list):
        rid = rules[loc[1]].get("id") if loc[1] < len(rules) else None
        rest = ".".join(str(x) for x in loc[2:])
        return f"rule {rid or '#' + str(loc[1] + 1)}" + (f": {rest}" if rest else "")
    return ".".join(str(x) for x in loc)


def load_packs(folder: Path | None = None) -> list[Pack]:
    """The packs in ``folder`` (default: the bundled schemas/supervision/)."""
    folder = folder or schemas_dir() / "supervision"
    return [load_pack(p) for p in sorted(folder.glob("*.toml"))]
