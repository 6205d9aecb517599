"""Packages encrypted on the way up (CMS, sign then encrypt): OpenSSL opens what the hub seals
and the hub opens what OpenSSL seals; a relaying city cannot read a package sealed for the
province; wrong keys, altered envelopes and weak algorithms are refused with a reason code;
rotated keys keep old packages readable."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import cms

from hub.config import NodeConfig, SigningSection, StoreSection, TrustSection, load_config
from hub.errors import ConfigError, InputError
from hub.forward import forward
from hub.generate.batch import jsonl_bytes
from hub.generate.generator import Generator
from hub.ingest.pipeline import ingest_stream
from hub.interfaces import Batch
from hub.package import envelope, testpki
from hub.package.envelope import Recipient, Unsealer, open_envelope, seal
from hub.package.node import unsealer
from hub.package.receive import receive_package
from hub.package.recipients import EnvelopeError
from hub.sections import ForwardSection
from hub.store.engine import Store, open_store
from hub.sync import is_package
from tests.packkit import NOW, RECEIVER, SENDER, make_pki, node_id, package, records

FAMILIES = ("rsa", "ecdsa", "sm2")


@dataclass
class Keys:
    """Encryption identities: the province's (one per family, and a retired one) and the
    city's, each also written to files for OpenSSL."""

    dir: Path
    province: dict[str, Recipient]
    retired: Recipient
    city: Recipient

    def files(self, fam: str) -> tuple[Path, Path]:
        return self.dir / f"prov-{fam}.pem", self.dir / f"prov-{fam}.key"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    d = tmp_path_factory.mktemp("enc")
    ca = testpki.make_ca("ecdsa", NOW, "enc CA")
    ca_sm2 = testpki.make_ca("sm2", NOW, "enc CA (SM2)")

    def make(fam: str, platform: str, serial: int) -> Recipient:
        issued = testpki.make_node(
            ca_sm2 if fam == "sm2" else ca, fam, platform, NOW, serial, encrypt=True
        )
        return Recipient(issued.cert, issued.key)

    prov = {fam: make(fam, RECEIVER, 100 + i) for i, fam in enumerate(FAMILIES)}
    for fam, r in prov.items():
        (d / f"prov-{fam}.pem").write_bytes(r.cert.pem())
        (d / f"prov-{fam}.key").write_bytes(r.key.pem())
    return Keys(d, prov, make("ecdsa", RECEIVER, 90), make("ecdsa", "12350100MB0000000C", 200))


def _openssl(*args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=False)


@pytest.mark.parametrize("fam", ["rsa", "ecdsa"])
def test_openssl_opens_what_the_hub_seals(keys: Keys, fam: str, tmp_path: Path) -> None:
    content = b"PK\x03\x04" + bytes(range(256)) * 500
    sealed = seal(content, [keys.province[fam].cert])
    p = tmp_path / "p.p7m"
    p.write_bytes(sealed)
    cert, key = keys.files(fam)
    r = _openssl("cms", "-decrypt", "-binary", "-inform", "DER", "-in", str(p), "-inkey",
                 str(key), "-recip", str(cert))  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == content
    shown = _openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", str(p)).stdout.decode()
    assert "authEnvelopedData" in shown and "aes-256-gcm" in shown
    assert ("rsaesOaep" if fam == "rsa" else "dhSinglePass-stdDH-sha256kdf-scheme") in shown
    assert content not in sealed  # and the hub opens it too
    assert open_envelope(sealed, "p", [keys.province[fam]]).content == content


def test_openssl_opens_an_sm2_envelope_in_two_steps(keys: Keys, tmp_path: Path) -> None:
    """Stock OpenSSL 3 has SM2 and SM4 but no SM2 in CMS: the content key with pkeyutl, the
    content with enc (docs/package-format.md); Tongsuo's cms -decrypt does it in one."""
    content = "福建省公共资源交易 ".encode() * 3000
    sealed = seal(content, [keys.province["sm2"].cert])
    p = tmp_path / "s.p7m"
    p.write_bytes(sealed)
    tree = _openssl("asn1parse", "-inform", "DER", "-in", str(p)).stdout.decode()
    assert ":pkcs7-envelopedData" in tree and ":sm4-cbc" in tree and "1.2.156.10197.1.301.3" in tree
    hexes = re.findall(r"OCTET STRING\s+\[HEX DUMP\]:([0-9A-F]+)", tree)
    wrapped, iv = bytes.fromhex(hexes[0]), bytes.fromhex(hexes[1])
    content_at = r"(\d+):d=\d+\s+hl=(\d+) l=\s*(\d+) prim: cont \[ 0 \]"
    off, hl, n = (int(x) for x in re.findall(content_at, tree)[0])
    (tmp_path / "key.der").write_bytes(wrapped)
    (tmp_path / "body.bin").write_bytes(sealed[off + hl : off + hl + n])
    _cert, key = keys.files("sm2")
    cek = _openssl("pkeyutl", "-decrypt", "-inkey", str(key), "-in", str(tmp_path / "key.der"))
    assert cek.returncode == 0 and len(cek.stdout) == 16, cek.stderr.decode()
    plain = _openssl("enc", "-d", "-sm4-cbc", "-K", cek.stdout.hex(), "-iv", iv.hex(), "-in",
                     str(tmp_path / "body.bin"))  # fmt: skip
    assert plain.returncode == 0, plain.stderr.decode()
    assert plain.stdout == content
    opened = open_envelope(sealed, "s.p7m", [keys.province["sm2"]])
    assert (opened.content, opened.cipher) == (content, "sm4-cbc")


def test_the_hub_opens_what_openssl_seals_and_refuses_weak_algorithms(
    keys: Keys, tmp_path: Path
) -> None:
    content = b"a package" * 100
    (tmp_path / "m").write_bytes(content)

    def sealed(fam: str, cipher: str, *keyopts: str) -> bytes:
        out = tmp_path / "o.p7m"
        cert, _ = keys.files(fam)
        r = _openssl("cms", "-encrypt", "-binary", "-in", str(tmp_path / "m"), "-outform",
                     "DER", "-out", str(out), cipher, "-recip", str(cert), *keyopts)  # fmt: skip
        assert r.returncode == 0, r.stderr.decode()
        return out.read_bytes()

    oaep = ("-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256",
            "-keyopt", "rsa_mgf1_md:sha256")  # fmt: skip
    good = {
        "rsa": sealed("rsa", "-aes-256-gcm", *oaep),
        "ecdsa": sealed("ecdsa", "-aes-128-gcm", "-keyopt", "ecdh_kdf_md:sha256"),
    }
    for fam, data in good.items():
        assert open_envelope(data, "o.p7m", [keys.province[fam]]).content == content
    weak = {
        "RSA PKCS #1 v1.5": sealed("rsa", "-aes-256-gcm"),
        "AES-CBC, not authenticated": sealed("rsa", "-aes-256-cbc", *oaep),
        "ECDH with a SHA-1 KDF": sealed("ecdsa", "-aes-256-gcm"),
    }
    for case, data in weak.items():
        fam = "ecdsa" if "ECDH" in case else "rsa"
        with pytest.raises(InputError) as exc:
            open_envelope(data, "o.p7m", [keys.province[fam]])
        assert exc.value.code == "envelope.algorithm", (case, exc.value.reason)


def test_a_relaying_city_cannot_read_it_and_bad_envelopes_are_refused_by_code(
    keys: Keys,
) -> None:
    content = b"".join(line for lines in records(3).values() for line in lines)
    prov = keys.province["ecdsa"]
    sealed = seal(content, [prov.cert])
    assert b"TENDER_PROJECT" not in sealed and content[:40] not in sealed

    def code(data: bytes, mine: list[Recipient]) -> str:
        with pytest.raises(InputError) as exc:
            open_envelope(data, "p.p7m", mine)
        assert exc.value.reason and "p.p7m" in str(exc.value)
        return exc.value.code

    # the city holds its own keys only: not for it
    assert code(sealed, [keys.city]) == "envelope.not_for_us"
    assert code(sealed, []) == "envelope.not_for_us"
    # the province's certificate with another key: the key does not open it
    assert code(sealed, [Recipient(prov.cert, keys.city.key)]) == "envelope.key"
    # any byte of the ciphertext or of the tag altered: refused, nothing released
    info = cms.ContentInfo.load(sealed)
    body = bytes(info["content"]["auth_encrypted_content_info"]["encrypted_content"].native)
    i = sealed.index(body)
    for at in (i, i + len(body) // 2, len(sealed) - 1):
        flipped = sealed[:at] + bytes([sealed[at] ^ 1]) + sealed[at + 1 :]
        assert code(flipped, [prov]) == "envelope.corrupt"
    assert code(sealed[:-30], [prov]) == "envelope.malformed"
    assert code(b"\x30\x03\x02\x01\x00", [prov]) == "envelope.malformed"
    sm2 = seal(content, [keys.province["sm2"].cert])
    assert code(sm2[:-1] + bytes([sm2[-1] ^ 1]), [keys.province["sm2"]]) == "envelope.corrupt"


def test_rotated_keys_still_open_old_packages(keys: Keys) -> None:
    new, old = keys.province["ecdsa"], keys.retired
    node = Unsealer((new, old))
    for sealed_to in ([old.cert], [new.cert], [old.cert, new.cert]):
        data, how = node.open(seal(b"x" * 1000, sealed_to), "p.p7m")
        assert data == b"x" * 1000 and how and "aes-256-gcm" in how
    # once the old key is dropped, what was sealed to it alone is not for this node
    with pytest.raises(InputError) as exc:
        Unsealer((new,)).open(seal(b"x", [old.cert]), "p.p7m")
    assert exc.value.code == "envelope.not_for_us"
    # a receiver that requires encryption refuses a plain archive
    with pytest.raises(InputError) as exc:
        Unsealer((new,), required=True).open(b"PK\x03\x04...", "p.zip")
    assert exc.value.code == "envelope.required"


def test_only_encryption_certificates_of_one_family_are_sealed_to(keys: Keys) -> None:
    pki_ca = testpki.make_ca("ecdsa", NOW, "sign CA")
    signing_only = testpki.make_node(pki_ca, "ecdsa", RECEIVER, NOW, 5).cert
    with pytest.raises(EnvelopeError, match="key agreement"):
        seal(b"x", [signing_only])
    with pytest.raises(EnvelopeError, match="one family"):
        seal(b"x", [keys.province["sm2"].cert, keys.province["rsa"].cert])
    both = seal(b"x", [keys.province["rsa"].cert, keys.province["ecdsa"].cert])
    for fam in ("rsa", "ecdsa"):
        assert open_envelope(both, "p", [keys.province[fam]]).content == b"x"
    assert envelope.is_envelope(both) and not envelope.is_envelope(b"PK\x03\x04")


def test_a_sealed_package_is_received_by_the_province_only(
    store: Store, keys: Keys, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path)
    me = node_id(testpki.make_node(pki.ca, "ecdsa", RECEIVER, NOW, 40))
    archive = package(pki.good, records(3), "PKG-SEALED-01")
    sealed = seal(archive, [keys.province["rsa"].cert])
    later = NOW.replace(microsecond=0)

    def receive(data: bytes, mine: Unsealer) -> tuple[str, str]:
        got = receive_package(store, data, "in/p.p7m", pki.trust, me, now=later, unsealer=mine)
        why = got.receipt.refusal.code if got.receipt.refusal else ""
        return got.status, why

    # the city relays it but holds no key for it: refused, nothing stored
    assert receive(sealed, Unsealer((keys.city,))) == ("refused", "envelope.not_for_us")
    assert not store.raw.root.exists() or not any(store.raw.root.rglob("*"))
    # the province opens, verifies and ingests it; its receipt names the signed archive
    got = receive_package(
        store, sealed, "in/p.p7m", pki.trust, me, now=later,
        unsealer=Unsealer((keys.province["rsa"],), required=True),
    )  # fmt: skip
    assert got.status == "processed" and got.counts.accepted > 0
    assert got.receipt.package_sha256 == hashlib.sha256(archive).hexdigest()
    assert got.receipt.sender == SENDER
    # the same archive unsealed is refused where encryption is required
    plain = package(pki.good, records(2), "PKG-PLAIN-01")
    assert receive(plain, Unsealer((keys.province["rsa"],), required=True)) == (
        "refused",
        "envelope.required",
    )


def test_the_encryption_section_loads_current_and_retired_keys(keys: Keys, tmp_path: Path) -> None:
    cert, key = keys.files("ecdsa")
    (tmp_path / "old.pem").write_bytes(keys.retired.cert.pem())
    (tmp_path / "old.key").write_bytes(keys.retired.key.pem())
    conf = tmp_path / "node.toml"
    conf.write_text(
        f'[encryption]\ncert = "{cert}"\nkey = "{key}"\nrequire = true\n'
        '[[encryption.retired]]\ncert = "old.pem"\nkey = "old.key"\n',
        "utf-8",
    )
    node = unsealer(load_config(conf))
    assert node.required and [r.cert.serial for r in node.keys] == [
        keys.province["ecdsa"].cert.serial,
        keys.retired.cert.serial,
    ]
    conf.write_text(f'[encryption]\ncert = "{cert}"\n', "utf-8")
    with pytest.raises(ConfigError, match="cert and key go together"):
        load_config(conf)
    other_key = keys.files("rsa")[1]
    conf.write_text(f'[encryption]\ncert = "{cert}"\nkey = "{other_key}"\n', "utf-8")
    with pytest.raises(ConfigError, match="does not belong"):
        unsealer(load_config(conf))
    assert unsealer(NodeConfig()).keys == ()


def test_a_target_with_encrypt_to_gets_sealed_packages_in_its_outbox(
    keys: Keys, tmp_path: Path
) -> None:
    """A city forwards to a files target with encrypt_to: what lands in the outbox is sealed
    to the province; the province's inbox takes the .p7m as a package, opens and ingests it."""
    pki = make_pki(tmp_path)
    prov_cert, _ = keys.files("ecdsa")
    outbox = tmp_path / "to-province"
    cfg = NodeConfig(
        store=StoreSection(data_dir=tmp_path / "city"),
        trust=TrustSection(anchors=[pki.dir / "ca.pem"], crls=[pki.dir / "ca.crl"]),
        signing=SigningSection(key=pki.dir / "node.key", cert=pki.dir / "node.pem"),
        forward={
            "province": ForwardSection(
                receiver=RECEIVER,
                adapter="files",
                options={"outbox": str(outbox)},
                encrypt_to=(prov_cert,),
            )
        },
    )
    city = open_store(cfg)
    prov = open_store(NodeConfig(store=StoreSection(data_dir=tmp_path / "province")))
    try:
        night = jsonl_bytes(Generator(seed=8).batch(2))
        run = ingest_stream(city, io.BytesIO(night), "county-a", "night.jsonl")
        sent = forward(cfg, city, "province")
        assert sent.status == "done" and sent.packages
        [p] = sorted(outbox.iterdir())
        assert p.name == f"{sent.packages[0].package_id}.p7m" and envelope.is_envelope(
            p.read_bytes()
        )
        assert is_package(Batch(name=p.name, origin=str(p), path=p))
        me = node_id(testpki.make_node(pki.ca, "ecdsa", RECEIVER, NOW, 40))
        got = receive_package(
            prov,
            p.read_bytes(),
            str(p),
            pki.trust,
            me,
            unsealer=Unsealer((keys.province["ecdsa"],)),
        )
        assert got.status == "processed"
        assert got.counts.accepted == run.counts.accepted
        with city.raw.open(got.receipt.package_sha256) as fh:  # the city kept the signed archive
            assert fh.read()[:2] == b"PK"
        refused = receive_package(
            prov, p.read_bytes(), str(p), pki.trust, me, unsealer=Unsealer((keys.city,))
        )
        assert refused.receipt.refusal and refused.receipt.refusal.code == "envelope.not_for_us"
    finally:
        city.dispose()
        prov.dispose()
