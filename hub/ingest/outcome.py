"""Where each record ends (design §2): exactly one outcome per record that enters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    QUARANTINED = "quarantined"
    HELD = "held"
    DUPLICATE = "duplicate"


# rules that say "the hub could not take this record as it is" rather than "the record's data
# is wrong": the raw record is quarantined and can be replayed after a dictionary or mapping
# fix; every other error rejects the record with its rule id
QUARANTINE_RULES = frozenset(
    {
        "record.malformed",
        "dataset.unknown",
        "unknown-field",
        "schema.document",
        "hold.expired",
        "mapping.value",  # a source value the mapping's steps could not transform
        "mapping.row",  # a source row that does not have the shape of its input
    }
)


@dataclass
class Counts:
    records_in: int = 0
    accepted: int = 0
    rejected: int = 0
    quarantined: int = 0
    held: int = 0
    duplicate: int = 0
    released: int = 0  # earlier holds released by this run's parents (not in records_in)

    def add(self, outcome: Outcome) -> None:
        name = str.__str__(outcome)  # a StrEnum member is its value; .value costs a descriptor
        setattr(self, name, getattr(self, name) + 1)

    def merge(self, other: Counts) -> None:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)

    @classmethod
    def total(cls, parts: Iterable[Counts]) -> Counts:
        c = cls()
        for p in parts:
            c.merge(p)
        return c

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def conserved(self) -> bool:
        return self.records_in == (
            self.accepted + self.rejected + self.quarantined + self.held + self.duplicate
        )


@dataclass(frozen=True)
class Verdict:
    """The per-record answer a sender gets (the receipt's line)."""

    index: int
    outcome: Outcome
    dataset: str
    key: str | None = None
    version: int | None = None  # accepted as version n; duplicate of version n
    rule: str | None = None
    field: str | None = None
    value: str | None = None
    message: str = ""

    def as_row(self) -> dict[str, object]:
        """The verdict as a county system is given it (a receipt table row, a JSON object):
        its record number in the batch, data set, business key, outcome and the why."""
        return {
            "record": self.index,
            "dataset": self.dataset,
            "key": self.key,
            "outcome": str(self.outcome),
            "version": self.version,
            "rule": self.rule,
            "field": self.field,
            "value": self.value,
            "message": self.message or None,
        }
