"""The shapes one chunk of reconcile works with: an item in, a key's current row, a
candidate version, the rows a chunk writes (in the column order of the *_COLS: a held
record's row and the entity claims of new versions are built here), the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from hub.ingest.outcome import Counts, Verdict
from hub.reconcile.decide import State
from hub.reconcile.keys import KeyPlan
from hub.reconcile.prepare import Prepared
from hub.validation.decode import RawRecord
from hub.validation.issues import Issue


@dataclass
class Item:
    index: int
    raw: RawRecord
    issues: list[Issue]
    fmt: str
    source: str
    raw_sha256: str | None
    hold_id: int | None = None
    prep: Prepared | None = None  # derived already (in the validating process)


@dataclass
class Cur:
    """A key's current row as loaded or as built in this chunk."""

    state: State
    version_id: int | None  # None until the pending version is inserted
    version_no: int
    source: str
    existed: bool  # the row is in the database already
    changed: bool = False  # the current version changed in this chunk
    pending: int | None = None  # index into pending versions of the current version
    links: list[tuple[str, str]] | None = None  # the new current version's links


@dataclass
class Cand:
    item: Item
    plan: KeyPlan
    p: Prepared

    @property
    def key(self) -> str:
        return self.p.key

    @property
    def hash(self) -> str:
        return self.p.hash


@dataclass
class Out:
    """What one chunk writes, as rows in the column order of the *_COLS below."""

    versions: list[list[Any]] = field(default_factory=list)
    preps: list[Prepared] = field(default_factory=list)  # each new version's derivations
    touched: dict[tuple[str, str], Cur] = field(default_factory=dict)  # current rows to write
    holds: list[tuple[Any, ...]] = field(default_factory=list)
    conflicts: list[tuple[Any, ...]] = field(default_factory=list)
    sightings: list[tuple[Any, ...]] = field(default_factory=list)


VERSION_COLS = (
    "id",
    "dataset",
    "business_key",
    "version_no",
    "op",
    "content",
    "content_hash",
    "data_timestamp",
    "source",
    "sender_key",
    "package_id",
    "signer",
    "run_id",
    "raw_sha256",
    "record_index",
    "received_at",
)
CURRENT_COLS = (
    "dataset",
    "business_key",
    "library",
    "version_id",
    "data_timestamp",
    "content_hash",
    "deleted",
    "conflict",
    "versions",
    "source",
    "updated_at",
)
HOLD_COLS = (
    "run_id",
    "source",
    "raw_sha256",
    "record_index",
    "dataset",
    "business_key",
    "parent_dataset",
    "parent_key",
    "content_hash",
    "envelope",
    "status",
    "received_at",
    "deadline",
)
REF_COLS = ("dataset", "business_key", "field", "value")
CLAIM_COLS = ("code", "role", "source", "dataset", "name", "version_id", "data_timestamp")
CONFLICT_COLS = ("dataset", "business_key", "data_timestamp", "status", "detected_at")
SIGHTING_COLS = ("version_id", "source", "run_id", "seen_at")


@dataclass
class ChunkResult:
    verdicts: list[Verdict]
    counts: Counts
    released: list[Verdict] = field(default_factory=list)


def hold_row(c: Cand, parent_key: str, run_id: int) -> tuple[Any, ...]:
    """The hold row (HOLD_COLS, less its times) of candidate ``c`` waiting for its parent."""
    raw = c.item.raw
    # the canonical content, not raw.fields: a record prepared in the validating process
    # comes without its fields, and the envelope must not depend on where it was prepared
    fields = orjson.loads(c.p.content)
    envelope = {"dataset": raw.dataset, "op": raw.op, "key": raw.key, "record": fields}
    return (
        run_id,
        c.item.source,
        c.item.raw_sha256,
        c.item.index,
        c.plan.dataset,
        c.key,
        c.plan.parent,
        parent_key,
        c.hash,
        orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS).decode(),
        "held",
    )


def claims_of(out: Out, ids: list[int]) -> list[tuple[Any, ...]]:
    """Entity claims (credit code, role, source, data set) of the new versions."""
    claims: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for row, vid, p in zip(out.versions, ids, out.preps, strict=True):
        for code, role, name in p.claims:
            k = (code, role, row[8], row[1])
            old = claims.get(k)
            if old is None or old[6] <= row[7]:  # one row per key: the newest wins
                claims[k] = (*k, name, vid, row[7])
    return list(claims.values())
