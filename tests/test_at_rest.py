"""Raw batches and packages sealed at rest with the node's key: what lands on disk is CMS that
OpenSSL opens with that key and nothing else reads; ingest (serial and with the second
validating process) reads it back; retired keys still open old objects after a rotation;
an altered object is refused when read."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from hub.config import IngestSection, NodeConfig
from hub.errors import FatalError
from hub.generate.batch import jsonl_bytes
from hub.generate.generator import Generator
from hub.ingest.pipeline import ingest_stream
from hub.package import testpki
from hub.sections import EncryptionSection, KeyPair
from hub.store.engine import Store, open_store
from tests.packkit import NOW, RECEIVER


def _pair(d: Path, name: str, family: str) -> tuple[Path, Path]:
    ca = testpki.make_ca("sm2" if family == "sm2" else "ecdsa", NOW, f"{name} CA")
    n = testpki.make_node(ca, family, RECEIVER, NOW, 7, encrypt=True)
    cert, key = d / f"{name}.pem", d / f"{name}.TEST-ONLY.key"
    cert.write_bytes(n.cert.pem())
    key.write_bytes(n.key.pem())
    return cert, key


def _sealed(cfg: NodeConfig, **enc: object) -> Store:
    return open_store(cfg.model_copy(update={"encryption": EncryptionSection(**enc)}))


def _objects(store: Store) -> list[Path]:
    return sorted(p for p in store.raw.root.glob("??/*") if p.is_file())


@pytest.mark.parametrize("parallel", [False, True])
def test_ingest_keeps_raw_batches_sealed_and_openssl_opens_them(
    node_config: NodeConfig, tmp_path: Path, parallel: bool
) -> None:
    cert, key = _pair(tmp_path, "node-enc", "ecdsa")
    store = _sealed(node_config, cert=cert, key=key, at_rest=True)
    batch = jsonl_bytes(Generator(seed=11).batch(60))
    settings = IngestSection(parallel_validation=parallel, parallel_from_mb=0)
    try:
        run = ingest_stream(store, io.BytesIO(batch), "county", "b.jsonl", settings=settings)
        assert run.counts.accepted > 0 and run.counts.conserved
        [obj] = _objects(store)
        assert obj.name.endswith(".p7m") and obj.name[:-4] == run.raw_sha256[2:]
        on_disk = obj.read_bytes()
        assert batch[:200] not in on_disk and b"TENDER_PROJECT" not in on_disk
        with store.raw.open(run.raw_sha256) as fh:
            assert fh.read() == batch
        r = subprocess.run(
            ["openssl", "cms", "-decrypt", "-binary", "-inform", "DER", "-in", str(obj),
             "-inkey", str(key)],
            capture_output=True, check=False,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr.decode()
        assert r.stdout == batch
        # the same batch again: one object, and the run sees it as the same input
        again = ingest_stream(store, io.BytesIO(batch), "county", "b.jsonl", settings=settings)
        assert again.raw_sha256 == run.raw_sha256 and len(_objects(store)) == 1
    finally:
        store.dispose()


def test_rotation_keeps_old_objects_readable_and_new_ones_go_to_the_new_key(
    node_config: NodeConfig, tmp_path: Path
) -> None:
    old_cert, old_key = _pair(tmp_path, "old", "ecdsa")
    new_cert, new_key = _pair(tmp_path, "new", "rsa")
    first = _sealed(node_config, cert=old_cert, key=old_key, at_rest=True)
    sha_old, _ = first.raw.put_stream(io.BytesIO(b"sealed before the rotation\n" * 100))
    first.dispose()
    rotated = _sealed(
        node_config,
        cert=new_cert,
        key=new_key,
        at_rest=True,
        retired=(KeyPair(cert=old_cert, key=old_key),),
    )
    try:
        sha_new, _ = rotated.raw.put_stream(io.BytesIO(b"sealed after it\n" * 100))
        with rotated.raw.open(sha_old) as fh:
            assert fh.read() == b"sealed before the rotation\n" * 100
        with rotated.raw.open(sha_new) as fh:
            assert fh.read() == b"sealed after it\n" * 100
    finally:
        rotated.dispose()
    # the retired key dropped: the old object is not this node's to read any more
    forgot = _sealed(node_config, cert=new_cert, key=new_key)
    try:
        with pytest.raises(Exception) as exc:
            forgot.raw.open(sha_old).read()
        assert getattr(exc.value, "code", "") == "envelope.not_for_us"
        # at_rest off: new objects are written plain, sealed ones still open
        sha_plain, _ = forgot.raw.put_stream(io.BytesIO(b"plain\n"))
        assert forgot.raw.path(sha_plain).is_file()
        with forgot.raw.open(sha_new) as fh:
            assert fh.read() == b"sealed after it\n" * 100
    finally:
        forgot.dispose()
    # and with no key at all, a sealed object says what is missing
    bare = open_store(node_config)
    try:
        with pytest.raises(FatalError, match=r"\[encryption\] key"):
            bare.raw.open(sha_new)
    finally:
        bare.dispose()


def test_an_altered_sealed_object_is_refused_when_read(
    node_config: NodeConfig, tmp_path: Path
) -> None:
    """SM4-CBC is not authenticated: the address (the plaintext's SHA-256) catches it."""
    cert, key = _pair(tmp_path, "sm2-enc", "sm2")
    store = _sealed(node_config, cert=cert, key=key, at_rest=True)
    try:
        body = b"0123456789abcdef" * 5000
        sha, _ = store.raw.put_stream(io.BytesIO(body))
        [obj] = _objects(store)
        data = bytearray(obj.read_bytes())
        data[len(data) // 2] ^= 0x01
        obj.write_bytes(bytes(data))
        with pytest.raises(FatalError, match="does not match its address"):
            store.raw.open(sha).read()
    finally:
        store.dispose()
