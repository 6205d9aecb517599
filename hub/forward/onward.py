"""Onward receipts: what became of a received package's records on the next hop up.

A county's package P1 reaches the city, which answers with its receipt R1 (per record:
accepted as the city's version n, …).  Later the city forwards those records in its own
packages P2 to the province, whose receipts R2 come back.  The onward receipt is the city's
signed answer to "what became of P1's records?": per line of P1, the city's version, the
package and line it went on in, and the verdict the target gave — with the targets' own
signed receipts R2 inside, byte for byte.  So the county holds a chain it can check with
OpenSSL alone: R1 (signed by the city over P1), ``onward.json`` (signed by the city over P1
and the packages it sent on), and each R2 (signed by the province over the package it got).

The archive (the package reader's rules): ``onward.json``, ``signature.p7s`` (a detached CMS
signature over ``onward.json`` by this node) and ``upstream/PACKAGE_ID.receipt`` per
package sent on.  It is built when asked for (the verdicts above may still come in), by
``GET /v1/packages/{id}/onward`` for the holder of P1 (proof: the archive's SHA-256).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select

from hub.errors import InputError
from hub.forward.deliver import D
from hub.forward.outbox import ITEM
from hub.package import archive, cms, trust
from hub.package.build import SigningIdentity
from hub.package.cms import Signed, refusing
from hub.package.manifest import SIGNATURE, strict_json
from hub.package.receipt import RECEIPT, Receipt
from hub.package.receipt import parse as parse_receipt
from hub.package.receipt import verify as verify_receipt
from hub.store.engine import Store
from hub.store.keyfilter import key_in
from hub.store.models import Package, RecordVersion, table

ONWARD = "onward.json"
PKG, VER = table(Package), table(RecordVersion)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Hop(_Strict):
    """Where one record went from this node: to a target, in a package and line, and what
    the target said; ``sent`` false when a later version of the record went instead."""

    target: str
    receiver: str | None = None
    sent: bool = True
    version: int | None = None  # this node's version that went (when another than the line's)
    package_id: str
    line: int
    op: str
    outcome: str  # accepted, duplicate, held, rejected, quarantined, waiting
    upstream_version: int | None = None
    rule: str | None = None
    field: str | None = None
    value: str | None = None
    message: str | None = None


class OnwardRecord(_Strict):
    file: str
    line: int = Field(ge=1)
    dataset: str
    key: str | None = None
    outcome: str  # this node's verdict (as in its receipt)
    version: int | None = None
    hops: list[Hop] = Field(default_factory=list)


class Onward(_Strict):
    format: Literal["hub-onward/1"] = "hub-onward/1"
    issuer: str
    issued: AwareDatetime
    package_id: str
    package_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    receipt_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")  # this node's receipt for it
    records: list[OnwardRecord]
    upstream: dict[str, str] = Field(default_factory=dict)  # package id → its receipt's sha256

    def encode(self) -> bytes:
        return orjson.dumps(
            self.model_dump(mode="json", exclude_none=True), option=orjson.OPT_SORT_KEYS
        )


def build(
    store: Store, package_id: str, who: SigningIdentity, now: datetime, receivers: dict[str, str]
) -> bytes | None:
    """The signed onward receipt of received package ``package_id`` (None: no such package
    received here).  ``receivers``: each target's platform code, to name it."""
    with store.read() as conn:
        row = conn.execute(
            select(PKG.c.raw_sha256, PKG.c.receipt).where(PKG.c.package_id == package_id)
        ).first()
        if row is None or row.receipt is None:
            return None
        mine = parse_receipt(dict(archive.read(row.receipt, "receipt"))[RECEIPT], "receipt")
        keys = {(r.dataset, r.key) for r in mine.records if r.key and r.version}
        ids: dict[tuple[str, str, int], int] = {}
        sent: dict[tuple[str, str], list[Any]] = {}
        if keys:
            for v in conn.execute(
                select(VER.c.id, VER.c.dataset, VER.c.business_key, VER.c.version_no).where(
                    key_in(VER.c.dataset, VER.c.business_key, keys)
                )
            ):
                ids[(v.dataset, v.business_key, v.version_no)] = int(v.id)
            versions = {i: n for (_, _, n), i in ids.items()}
            for it in conn.execute(
                select(ITEM).where(key_in(ITEM.c.dataset, ITEM.c.business_key, keys))
            ):
                sent.setdefault((it.dataset, it.business_key), []).append(
                    (it, versions.get(int(it.version_id)))
                )
        records = []
        for r in mine.records:
            vid = ids.get((r.dataset, r.key or "", r.version or 0))
            hops = [
                Hop(
                    target=it.target,
                    receiver=receivers.get(it.target),
                    sent=int(it.version_id) == vid,
                    version=None if int(it.version_id) == vid else n,
                    package_id=it.package_id,
                    line=it.line,
                    op=it.op,
                    outcome=it.outcome or "waiting",
                    upstream_version=it.upstream_version,
                    rule=it.rule,
                    field=it.field,
                    value=it.value,
                    message=it.message,
                )
                for it, n in sent.get((r.dataset, r.key or ""), [])
            ]
            records.append(
                OnwardRecord(
                    file=r.file,
                    line=r.line,
                    dataset=r.dataset,
                    key=r.key,
                    outcome=r.outcome,
                    version=r.version,
                    hops=hops,
                )
            )
        onward_ids = sorted({h.package_id for rec in records for h in rec.hops})
        upstream = {
            d.package_id: bytes(d.receipt)
            for d in conn.execute(
                select(D.c.package_id, D.c.receipt).where(
                    D.c.package_id.in_(onward_ids), D.c.receipt.is_not(None)
                )
            )
        }
    doc = Onward(
        issuer=who.platform_code,
        issued=now,
        package_id=package_id,
        package_sha256=row.raw_sha256,
        receipt_sha256=hashlib.sha256(row.receipt).hexdigest(),
        records=records,
        upstream={p: hashlib.sha256(b).hexdigest() for p, b in sorted(upstream.items())},
    )
    body = doc.encode()
    sig = cms.sign_detached(body, who.key, who.cert, who.chain, now)
    return archive.write(
        [(ONWARD, body), (SIGNATURE, sig)]
        + [(f"upstream/{p}.receipt", b) for p, b in sorted(upstream.items())]
    )


def verify(
    data: bytes,
    origin: str,
    store: trust.TrustStore,
    *,
    now: datetime,
    issuer: str,
    package_id: str,
) -> tuple[Onward, dict[str, Receipt | InputError]]:
    """An onward receipt whose signature and issuer check out, and each receipt inside it:
    verified (its signer trusted here and its bytes the ones the onward receipt names), or
    the reason it is not (a province's CA this node does not trust, …)."""
    files = dict(archive.read(data, origin))
    if ONWARD not in files or SIGNATURE not in files:
        raise InputError(
            origin, f"an onward receipt holds {ONWARD} and {SIGNATURE}", code="receipt.invalid"
        )
    with refusing(origin):
        signed: Signed = cms.verify_detached(files[SIGNATURE], files[ONWARD])
    doc = strict_json(Onward, files[ONWARD], origin, ONWARD, "receipt.invalid")
    with refusing(origin):
        trust.check(signed, store, doc.issuer, now, role="the onward receipt's issuer")
    if doc.issuer != issuer or doc.package_id != package_id:
        raise InputError(
            origin,
            f"issued by {doc.issuer!r} for package {doc.package_id!r}; expected {issuer!r} "
            f"for {package_id!r}",
            code="receipt.issuer",
        )
    inner: dict[str, Receipt | InputError] = {}
    for pid, digest in doc.upstream.items():
        body = files.get(f"upstream/{pid}.receipt", b"")
        where = f"{origin}#upstream/{pid}.receipt"
        if hashlib.sha256(body).hexdigest() != digest:
            inner[pid] = InputError(
                where, "is not the receipt the onward receipt names", code="file.digest"
            )
            continue
        try:
            inner[pid] = verify_receipt(body, where, store, now=now, package_id=pid)[0]
        except InputError as exc:
            inner[pid] = exc
    return doc, inner
