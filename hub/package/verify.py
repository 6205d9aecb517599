"""Verifying a received package, failing closed; every refusal has its own reason code.

Order: the archive (limits, names, canonical layout), the signature over manifest.json, the
manifest itself, trust in the signer (path, validity, usage, revocation, platform binding),
the receiver, the file set and every digest, each record digest and the Merkle root, and
last replay: a package id already received with the same bytes is a DUPLICATE, with other
bytes a refusal.  Nothing is stored here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hub.errors import InputError
from hub.package import archive, cms, crypto, merkle, trust
from hub.package.cms import Signed, refusing
from hub.package.manifest import MANIFEST, SIGNATURE, Manifest, parse
from hub.package.pki import Cert


@dataclass(frozen=True)
class Verified:
    manifest: Manifest
    manifest_bytes: bytes
    signed: Signed
    path: list[Cert]
    files: dict[str, bytes]
    sha256: str  # of the whole archive
    duplicate: bool = False  # received before with these very bytes


def verify_package(
    data: bytes,
    origin: str,
    store: trust.TrustStore,
    *,
    now: datetime,
    receiver: str | None = None,
    seen: Callable[[str], str | None] | None = None,
    limits: archive.Limits | None = None,
) -> Verified:
    """``seen(package_id)`` gives the SHA-256 of a package already received under that id."""
    entries = archive.read(data, origin, limits)
    files = dict(entries)
    if MANIFEST not in files:
        raise InputError(origin, "the package has no manifest.json", code="manifest.missing")
    if SIGNATURE not in files:
        raise InputError(origin, "the package has no signature.p7s", code="signature.missing")
    mbytes = files[MANIFEST]
    with refusing(origin):
        signed = cms.verify_detached(files[SIGNATURE], mbytes)
    m = parse(mbytes, origin)
    with refusing(origin):
        path = trust.check(signed, store, m.sender, now)
    try:  # the signer is authenticated from here on: a refusal names the sender
        if signed.digest != m.digest:
            raise InputError(
                origin,
                f"manifest digest {m.digest} but signed with {signed.digest}",
                code="signature.algorithm",
            )
        if receiver is not None and m.receiver != receiver:
            raise InputError(
                origin,
                f"the package is for {m.receiver!r}, this node is {receiver!r}",
                code="package.receiver",
            )
        _check_files(m, files, origin)
        sha = hashlib.sha256(data).hexdigest()
        prior = seen(m.package_id) if seen else None
        if prior is not None and prior != sha:
            raise InputError(
                origin,
                f"package id {m.package_id!r} was received before with other contents",
                code="package.replay",
            )
    except InputError as exc:
        exc.sender = m.sender
        raise
    return Verified(m, mbytes, signed, path, files, sha, duplicate=prior is not None)


def _check_files(m: Manifest, files: dict[str, bytes], origin: str) -> None:
    listed = [f.path for f in m.files]
    if len(set(listed)) != len(listed) or {MANIFEST, SIGNATURE} & set(listed):
        raise InputError(origin, "the manifest lists a file twice", code="manifest.invalid")
    present = set(files) - {MANIFEST, SIGNATURE}
    missing, extra = sorted(set(listed) - present), sorted(present - set(listed))
    if missing:
        raise InputError(
            origin, f"listed but not in the archive: {missing}", code="archive.missing"
        )
    if extra:
        raise InputError(origin, f"in the archive but not listed: {extra}", code="archive.extra")
    h = m.digest
    counts: dict[str, int] = {}
    for f in m.files:
        body = files[f.path]
        if len(body) != f.size or crypto.digest(h, body).hex() != f.digest:
            raise InputError(
                origin, f"{f.path}: size or digest differs from the manifest", code="file.digest"
            )
        if f.kind != "data":
            continue
        lines = body.split(b"\n")
        if lines[-1] != b"":
            raise InputError(
                origin, f"{f.path}: the last line has no newline", code="record.digest"
            )
        lines.pop()
        blank = next((i for i, ln in enumerate(lines, 1) if not ln.strip()), None)
        if blank is not None:
            raise InputError(
                origin,
                f"{f.path}: line {blank} is empty; every line of a data file is a record that "
                "gets a verdict, so a package holds no empty lines",
                code="record.empty",
            )
        if len(lines) != len(f.records) or any(
            crypto.digest(h, ln).hex() != d for ln, d in zip(lines, f.records, strict=True)
        ):
            raise InputError(
                origin, f"{f.path}: record digests differ from the manifest", code="record.digest"
            )
        if f.dataset:
            counts[f.dataset] = counts.get(f.dataset, 0) + len(lines)
    if counts != m.counts:
        raise InputError(
            origin, f"counts {m.counts} but the files hold {counts}", code="manifest.invalid"
        )
    root = merkle.root(m.leaves(), lambda b: crypto.digest(h, b)).hex()
    if root != m.merkle_root:
        raise InputError(
            origin, "the Merkle root differs from the record digests", code="record.digest"
        )
