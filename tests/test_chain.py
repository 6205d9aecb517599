"""The chain of receipts over two hops: county → city → province on loopback.  The county
asks the city what became of its package and gets the city's signed onward receipt with the
province's receipts inside; the county's checks and OpenSSL alone agree on every signature."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import cli
from hub.config import NodeConfig, SigningSection, StoreSection, TrustSection
from hub.forward import forward
from hub.forward.chain import ask
from hub.generate.batch import jsonl_bytes
from hub.generate.generator import Generator
from hub.ingest.pipeline import ingest_stream
from hub.package import archive, testpki
from hub.sections import ForwardSection
from hub.service.app import create_app
from hub.store.engine import open_store
from tests.httpserver import serve
from tests.packkit import NOW, RECEIVER, Pki, make_pki, openssl_verifies

PROVINCE = "12350000MB0100001C"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _node(tmp: Path, name: str, pki: Pki, key: Path, cert: Path, **kw: object) -> NodeConfig:
    return NodeConfig(
        store=StoreSection(data_dir=tmp / name),
        trust=TrustSection(anchors=[pki.dir / "ca.pem"], crls=[pki.dir / "ca.crl"]),
        signing=SigningSection(key=key, cert=cert),
        **kw,  # type: ignore[arg-type]
    )


def _identity(pki: Pki, code: str, serial: int, name: str) -> tuple[Path, Path]:
    me = testpki.make_node(pki.ca, "ecdsa", code, NOW, serial)
    key, cert = pki.dir / f"{name}.TEST-ONLY.key", pki.dir / f"{name}.pem"
    key.write_bytes(me.key.pem())
    cert.write_bytes(me.cert.pem())
    return key, cert


def test_county_city_province_chain(tmp_path: Path, pki: Pki) -> None:
    prov_cfg = _node(tmp_path, "province", pki, *_identity(pki, PROVINCE, 71, "province"))
    city_key, city_cert = _identity(pki, RECEIVER, 72, "city")
    province = open_store(prov_cfg)
    with serve(create_app(prov_cfg, province)) as prov_url:
        city_cfg = _node(
            tmp_path,
            "city",
            pki,
            city_key,
            city_cert,
            forward={"province": ForwardSection(receiver=PROVINCE, options={"url": prov_url})},
        )
        city = open_store(city_cfg)
        with serve(create_app(city_cfg, city)) as city_url:
            county_cfg = _node(
                tmp_path,
                "county",
                pki,
                pki.dir / "node.key",
                pki.dir / "node.pem",
                forward={"city": ForwardSection(receiver=RECEIVER, options={"url": city_url})},
            )
            county = open_store(county_cfg)
            night = Generator(seed=12).batch(2)
            ingest_stream(county, io.BytesIO(jsonl_bytes(night)), "county-system", "n.jsonl")
            up = forward(county_cfg, county, "city")
            (p1,) = [s.package_id for s in up.packages]
            on = forward(city_cfg, city, "province")
            assert on.status == "done" and on.packages
            doc, inner, raw = ask(county_cfg, county, "city", p1)
            # every record the city accepted went on to the province, which accepted it
            assert doc.issuer == RECEIVER and doc.package_id == p1
            accepted = [r for r in doc.records if r.outcome == "accepted"]
            assert accepted and len(accepted) == len(doc.records)
            for r in accepted:
                (hop,) = r.hops
                assert hop.receiver == PROVINCE and hop.sent and hop.outcome == "accepted"
                assert hop.upstream_version == 1 and hop.package_id in inner
            assert inner and all(not isinstance(v, Exception) for v in inner.values())
            # OpenSSL alone: the city's onward receipt and the province's receipts inside
            parts = dict(archive.read(raw, "onward"))
            openssl_verifies(
                parts["onward.json"], parts["signature.p7s"], pki.dir / "ca.pem", tmp_path
            )
            for pid in doc.upstream:
                r2 = dict(archive.read(parts[f"upstream/{pid}.receipt"], pid))
                openssl_verifies(
                    r2["receipt.json"], r2["signature.p7s"], pki.dir / "ca.pem", tmp_path
                )
            county.dispose()
        city.dispose()
    province.dispose()


def test_the_onward_receipt_is_only_for_who_holds_the_package(tmp_path: Path, pki: Pki) -> None:
    key, cert = _identity(pki, RECEIVER, 73, "city2")
    city_cfg = _node(tmp_path, "city", pki, key, cert)
    city = open_store(city_cfg)
    try:
        with serve(create_app(city_cfg, city)) as url:
            import httpx

            r = httpx.get(
                f"{url}/v1/packages/PKG-NOPE-0001/onward", headers={"Hub-Package-Sha256": "0" * 64}
            )
            assert r.status_code == 404 and "PKG-NOPE-0001" in r.text
    finally:
        city.dispose()


def test_chain_command_names_a_target(tmp_path: Path, pki: Pki) -> None:
    toml = tmp_path / "n.toml"
    toml.write_text(f'[store]\ndata_dir = "{tmp_path / "d"}"\n', "utf-8")
    r = CliRunner().invoke(cli, ["forward", "chain", "PKG-X-00000001", "--config", str(toml)])
    assert r.exit_code == 2 and "--target" in r.output
