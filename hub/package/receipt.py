"""Signed receipts (design §2 step 9): the receiving node's per-record answer to a package.

A receipt is a canonical archive (the package reader's rules) of two entries:
``receipt.json`` and ``signature.p7s``, a detached CMS signature over the exact bytes of
``receipt.json`` by the receiving node, so ``openssl cms -verify`` checks it as it checks a
package's manifest.  A refused package gets a receipt too (status ``refused`` with the reason
code); a replayed package gets the original receipt's very bytes back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hub.errors import InputError
from hub.ingest.outcome import Verdict
from hub.package import archive, cms, trust
from hub.package.build import SigningIdentity
from hub.package.cms import Signed, refusing
from hub.package.manifest import SIGNATURE, strict_json

RECEIPT_FORMAT: Literal["hub-receipt/1"] = "hub-receipt/1"
RECEIPT = "receipt.json"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RecordVerdict(_Strict):
    """One record's fate: ``file`` and ``line`` say which record of the package it was."""

    file: str
    line: int = Field(ge=1)
    dataset: str
    outcome: Literal["accepted", "rejected", "quarantined", "held", "duplicate"]
    key: str | None = None
    version: int | None = None  # accepted as version n; duplicate of version n
    rule: str | None = None
    field: str | None = None
    value: str | None = None
    message: str | None = None

    @classmethod
    def of(cls, file: str, v: Verdict, first: int = 0) -> RecordVerdict:
        """``v`` as the verdict on its file's record: ``first`` records came before the file.
        Built without validation (``model_construct``): the values are this node's own
        verdict's, and validating them took about 3% of receiving a package (cProfile)."""
        return cls.model_construct(
            file=file,
            line=v.index - first,
            dataset=v.dataset,
            outcome=v.outcome.value,
            key=v.key,
            version=v.version,
            rule=v.rule,
            field=v.field,
            value=v.value,
            message=v.message or None,
        )


class Refusal(_Strict):
    code: str
    message: str


class Receipt(_Strict):
    format: Literal["hub-receipt/1"] = RECEIPT_FORMAT
    issuer: str  # the receiving node's platform code; the signer's certificate names it
    issued: AwareDatetime
    status: Literal["processed", "refused"]
    package_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    package_id: str | None = None  # unknown when the manifest could not be read
    sender: str | None = None
    manifest_hash: str | None = None  # "sha256:<hex>" or "sm3:<hex>" of manifest.json
    refusal: Refusal | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    records: list[RecordVerdict] = Field(default_factory=list)

    def encode(self) -> bytes:
        return orjson.dumps(
            self.model_dump(mode="json", exclude_none=True), option=orjson.OPT_SORT_KEYS
        )


def sign(receipt: Receipt, who: SigningIdentity) -> bytes:
    """The receipt archive: receipt.json and its detached signature by this node."""
    body = receipt.encode()
    sig = cms.sign_detached(body, who.key, who.cert, who.chain, receipt.issued)
    return archive.write([(RECEIPT, body), (SIGNATURE, sig)])


def parse(body: bytes, origin: str) -> Receipt:
    return strict_json(Receipt, body, origin, RECEIPT, "receipt.invalid")


def verify(
    data: bytes,
    origin: str,
    store: trust.TrustStore,
    *,
    now: datetime,
    issuer: str | None = None,
    package_id: str | None = None,
    manifest_hash: str | None = None,
) -> tuple[Receipt, Signed]:
    """A receipt whose signature, signer and (if given) issuer and package all check out."""
    files = dict(archive.read(data, origin))
    if set(files) != {RECEIPT, SIGNATURE}:
        raise InputError(
            origin,
            f"a receipt holds {RECEIPT} and {SIGNATURE}, not {sorted(files)}",
            code="receipt.invalid",
        )
    with refusing(origin):
        signed = cms.verify_detached(files[SIGNATURE], files[RECEIPT])
    r = parse(files[RECEIPT], origin)
    with refusing(origin):
        trust.check(signed, store, r.issuer, now, role="the receipt's issuer")
    if issuer is not None and r.issuer != issuer:
        raise InputError(
            origin, f"issued by {r.issuer!r}, expected {issuer!r}", code="receipt.issuer"
        )
    if package_id is not None and r.package_id != package_id:
        raise InputError(
            origin,
            f"the receipt is for package {r.package_id!r}, not {package_id!r}",
            code="receipt.package",
        )
    if manifest_hash is not None and r.manifest_hash != manifest_hash:
        raise InputError(
            origin,
            f"the receipt names manifest {r.manifest_hash}, the package's is {manifest_hash}",
            code="receipt.package",
        )
    return r, signed


def receipt_name(file: str, r: Receipt) -> str:
    """Where a drop's receipt is left: named by the package id (unique; a drop again gets the
    same bytes), so tonight's ``night.zip`` never overwrites yesterday's receipt.  A refusal
    is named by the file and its bytes' digest: the id of a package that failed its checks
    is only claimed, and a forged one must not replace the receipt of the real one."""
    if r.status == "processed" and r.package_id:
        return f"{r.package_id}.receipt"
    return f"{file}.{r.package_sha256[:12]}.receipt"


def drop_receipt_names(package_id: str, file: str, sha256: str) -> list[str]:
    """Where the node that took a dropped package left its receipt, as the sender looks for
    it (``receipt_name`` seen from the other side): processed, by the package id; refused,
    by the file's name and its bytes' digest."""
    return [f"{package_id}.receipt", f"{file}.{sha256[:12]}.receipt"]
