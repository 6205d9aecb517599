"""Building a signed package from JSONL record envelopes (what `hub generate` writes)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import orjson

from hub import SPEC_VERSION
from hub.errors import UsageError
from hub.package import archive, cms, crypto, merkle
from hub.package.crypto import PrivateKey
from hub.package.manifest import FORMAT, MANIFEST, SIGNATURE, FileEntry, Manifest
from hub.package.pki import Cert
from hub.validation.decode import jsonl_stream


@dataclass(frozen=True)
class SigningIdentity:
    key: PrivateKey
    cert: Cert
    chain: list[Cert]

    @property
    def platform_code(self) -> str:
        code = self.cert.platform_code
        if not code:
            raise UsageError(
                f"certificate {self.cert.name!r} names no platform code (subject serialNumber)"
            )
        return code


def data_lines(stream: BinaryIO, origin: str) -> dict[str, list[bytes]]:
    """Record envelopes (decoded as `hub ingest` decodes JSONL) grouped by data set, each
    re-encoded as one canonical JSON line."""
    out: dict[str, list[bytes]] = defaultdict(list)
    for raw in jsonl_stream(stream):
        if raw.problem or not raw.dataset:
            raise UsageError(
                f"{origin}, record {raw.index}: not a record envelope "
                f'{{"dataset": ..., "record": {{...}}}} ({raw.problem or "no dataset"})'
            )
        env: dict[str, object] = {"dataset": raw.dataset, "record": raw.fields}
        if raw.op:
            env["op"] = raw.op
        if raw.key:
            env["key"] = raw.key
        out[raw.dataset].append(orjson.dumps(env, option=orjson.OPT_SORT_KEYS))
    return dict(out)


def build(
    records: dict[str, list[bytes]],
    who: SigningIdentity,
    receiver: str,
    *,
    attachments: list[Path] | None = None,
    package_id: str | None = None,
    now: datetime | None = None,
    sender: str | None = None,
    sequence: int | None = None,
) -> tuple[Manifest, bytes]:
    """The manifest and the archive bytes of a new signed package.  ``sender`` defaults to
    the platform code in the signer's certificate (a verifier insists that they match)."""
    sender = sender or who.platform_code
    dg = who.key.digest
    created = (now or datetime.now().astimezone()).replace(microsecond=0)
    files: list[FileEntry] = []
    entries: list[tuple[str, bytes]] = []
    for ds in sorted(records):
        lines = records[ds]
        body = b"\n".join(lines) + b"\n"
        path = f"data/{ds}.jsonl"
        digests = [crypto.digest(dg, line).hex() for line in lines]
        files.append(
            FileEntry(
                path=path,
                kind="data",
                size=len(body),
                digest=crypto.digest(dg, body).hex(),
                dataset=ds,
                records=digests,
            )
        )
        entries.append((path, body))
    for p in attachments or []:
        body = p.read_bytes()
        path = f"attachments/{p.name}"
        files.append(
            FileEntry(
                path=path, kind="attachment", size=len(body), digest=crypto.digest(dg, body).hex()
            )
        )
        entries.append((path, body))
    leaves = [bytes.fromhex(h) for f in files for h in f.records]
    manifest = Manifest(
        format=FORMAT,
        package_id=package_id
        or f"{who.platform_code}-{created:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}",
        sender=sender,
        receiver=receiver,
        spec_version=SPEC_VERSION,
        created=created,
        digest=dg,
        files=files,
        merkle_root=merkle.root(leaves, lambda b: crypto.digest(dg, b)).hex(),
        counts={ds: len(v) for ds, v in sorted(records.items())},
        sequence=sequence,
    )
    mbytes = manifest.encode()
    sig = cms.sign_detached(mbytes, who.key, who.cert, who.chain, created)
    return manifest, archive.write([(MANIFEST, mbytes), *entries, (SIGNATURE, sig)])
