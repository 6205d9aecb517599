"""Merkle inclusion proofs: one record of a package, checkable without the rest of it.

A proof carries the record line, its position, the audit path, and the signed manifest with
its signature, so the root it reaches is one the sender signed.
"""

from __future__ import annotations

import base64
from typing import Any

from hub.errors import InputError, UsageError
from hub.package import cms, crypto, merkle
from hub.package.manifest import MANIFEST, SIGNATURE, parse


def make_proof(files: dict[str, bytes], record: int, origin: str) -> dict[str, Any]:
    m = parse(files[MANIFEST], origin)
    lines: list[tuple[str, bytes]] = []
    for f in m.files:
        if f.kind == "data":
            lines += [(f.dataset or "", ln) for ln in files[f.path].split(b"\n")[:-1]]
    if not 1 <= record <= len(lines):
        raise UsageError(f"{origin}: record {record} does not exist; the package has {len(lines)}")
    h = m.digest
    leaves = m.leaves()
    path = merkle.proof(leaves, record - 1, lambda b: crypto.digest(h, b))
    ds, line = lines[record - 1]
    return {
        "package_id": m.package_id,
        "record": record,
        "dataset": ds,
        "line": line.decode("utf-8"),
        "tree_size": len(leaves),
        "path": [p.hex() for p in path],
        "merkle_root": m.merkle_root,
        "manifest": base64.b64encode(files[MANIFEST]).decode(),
        "signature": base64.b64encode(files[SIGNATURE]).decode(),
    }


def check_proof(proof: dict[str, Any], origin: str = "proof") -> cms.Signed:
    """Raise InputError unless the record is in the signed manifest's tree; returns who
    signed (trust in that signer is the caller's question, as for a package)."""
    try:
        mbytes = base64.b64decode(proof["manifest"], validate=True)
        sig = base64.b64decode(proof["signature"], validate=True)
        line = str(proof["line"]).encode("utf-8")
        index, size = int(proof["record"]) - 1, int(proof["tree_size"])
        path = [bytes.fromhex(p) for p in proof["path"]]
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(origin, f"not a proof: {exc}", code="proof.invalid") from exc
    try:
        signed = cms.verify_detached(sig, mbytes)
    except cms.CmsError as exc:
        raise InputError(origin, str(exc), code=exc.code) from exc
    m = parse(mbytes, origin)
    h = m.digest
    leaf = crypto.digest(h, line)
    if not merkle.verify(
        leaf, index, size, path, bytes.fromhex(m.merkle_root), lambda b: crypto.digest(h, b)
    ):
        raise InputError(origin, "the record is not in the signed tree", code="proof.mismatch")
    return signed
