"""The package commands end to end, as two nodes use them: a county builds and signs, the
city verifies, receives and answers with a receipt that the county verifies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result
from cryptography import x509

from hub.cli import cli
from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from hub.package import archive

COUNTY, CITY = "12350100MB0000000X", "12350000MB0000000P"


@pytest.fixture
def nodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two key directories, a county config (signs) and a city config (trusts the county,
    signs receipts), each trusting the other's test CA."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HUB_DATABASE_URL", raising=False)
    monkeypatch.delenv("HUB_CONFIG", raising=False)
    assert _run("keys", "init", "county-keys", "--platform", COUNTY).exit_code == 0
    assert _run("keys", "init", "city-keys", "--platform", CITY).exit_code == 0

    def trust(d: str) -> str:
        return (
            f'[trust]\nanchors = ["{d}/ca.pem", "{d}/ca-sm2.pem"]\n'
            f'crls = ["{d}/ca.crl", "{d}/ca-sm2.crl"]\n'
        )

    (tmp_path / "county.toml").write_text(
        f'[node]\nplatform_code = "{COUNTY}"\n[store]\ndata_dir = "county-data"\n'
        + trust("city-keys")
        + '[signing]\nkey = "$file:county-keys/node-rsa.TEST-ONLY.key"\n'
        'cert = "$env:HUB_TEST_COUNTY_CERT"\n'  # as a secret store would place them
    )
    monkeypatch.setenv("HUB_TEST_COUNTY_CERT", str(tmp_path / "county-keys/node-rsa.pem"))
    (tmp_path / "city.toml").write_text(
        f'[node]\nplatform_code = "{CITY}"\n[store]\ndata_dir = "city-data"\n'
        + trust("county-keys")
        + '[signing]\nkey = "city-keys/node-ecdsa.TEST-ONLY.key"\n'
        'cert = "city-keys/node-ecdsa.pem"\n'
    )
    gen = Generator(seed=31)
    records = gen.batch(2)
    gen.inject_defects(records, 0.1)
    write_batch(records, tmp_path / "batch.jsonl", "jsonl")
    return tmp_path


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _json(res: Result) -> Any:
    return orjson.loads(res.stdout)


def test_build_verify_receive_and_the_receipt_round_trip(nodes: Path) -> None:
    built = _run(
        "package", "build", "batch.jsonl", "--to", CITY, "--out", "p.zip",
        "--id", "PKG-CLI-000001", "--config", "county.toml",
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    ok = _run("package", "verify", "p.zip", "--config", "city.toml", "--format", "json")
    assert ok.exit_code == 0 and _json(ok)["package_id"] == "PKG-CLI-000001"

    got = _run("package", "receive", "p.zip", "--config", "city.toml", "--format", "json")
    assert got.exit_code == 0, got.output
    summary = _json(got)
    assert summary["status"] == "processed" and summary["receipt"] == "p.zip.receipt"
    lines = (nodes / "batch.jsonl").read_bytes().count(b"\n")
    assert sum(summary["counts"].values()) == lines and summary["counts"]["rejected"] > 0
    receipt = (nodes / "p.zip.receipt").read_bytes()

    again = _run("package", "receive", "p.zip", "--config", "city.toml", "--format", "json")
    assert again.exit_code == 0 and _json(again)["status"] == "duplicate"
    assert (nodes / "p.zip.receipt").read_bytes() == receipt  # the original receipt's bytes
    replay = _run("package", "verify", "p.zip", "--config", "city.toml", "--replay")
    assert replay.exit_code == 0 and "already received" in replay.output

    # the county checks the city's receipt (it trusts the city's CA)
    checked = _run(
        "package", "receipt", "p.zip.receipt", "--config", "county.toml",
        "--package-id", "PKG-CLI-000001", "--format", "json",
    )  # fmt: skip
    assert checked.exit_code == 0, checked.output
    body = _json(checked)["receipt"]
    assert body["issuer"] == CITY and len(body["records"]) == lines
    table = _run("package", "receipt", "p.zip.receipt", "--config", "county.toml", "--records")
    assert table.exit_code == 0 and "rejected" in table.output
    wrong = _run(
        "package", "receipt", "p.zip.receipt", "--config", "county.toml",
        "--package-id", "PKG-CLI-999999",
    )  # fmt: skip
    assert wrong.exit_code == 1 and "receipt.package" in wrong.output


def test_a_tampered_package_is_refused_by_receive_and_verify(nodes: Path) -> None:
    built = _run(
        "package", "build", "batch.jsonl", "--to", CITY, "--out", "p.zip",
        "--config", "county.toml",
    )  # fmt: skip
    assert built.exit_code == 0
    ents = archive.read((nodes / "p.zip").read_bytes(), "p.zip")
    bad = [(n, b.replace(b"2024", b"2025", 1) if n.startswith("data/") else b) for n, b in ents]
    (nodes / "bad.zip").write_bytes(archive.write(bad))
    res = _run("package", "verify", "bad.zip", "--config", "city.toml", "--format", "json")
    assert res.exit_code == 1 and _json(res)["reason"] == "file.digest"
    got = _run("package", "receive", "bad.zip", "--config", "city.toml")
    assert got.exit_code == 1 and "REFUSED file.digest" in got.output
    assert "nothing was stored" in got.output
    checked = _run("package", "receipt", "bad.zip.receipt", "--config", "county.toml")
    assert checked.exit_code == 0 and "refused: file.digest" in checked.output
    (nodes / "junk.zip").write_bytes(b"not a zip at all")
    assert _run("package", "verify", "junk.zip", "--config", "city.toml").exit_code == 2
    stats = _run("stats", "--config", "city.toml", "--format", "json")
    assert stats.exit_code == 0, stats.output
    assert _json(stats)["libraries"] == []  # the refused package stored no record


def test_a_trust_folder_holds_several_nodes_test_pkis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two counties made by `hub init` push to one city whose trust/ holds both their CAs:
    each test PKI has its own CA subject and serials, so both packages verify."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HUB_DATABASE_URL", raising=False)
    monkeypatch.delenv("HUB_CONFIG", raising=False)
    a, b = "12350121MB0000000A", "12350122MB0000000B"
    for name, code in (("city", CITY), ("a", a), ("b", b)):
        res = _run("init", name, "--platform", code, "--no-examples")
        assert res.exit_code == 0, res.output
        assert "wrote" in res.output and (tmp_path / name / "node.toml").is_file()
    assert _run("init", "a", "--platform", a).exit_code == 2  # never overwrites a node
    for county in ("a", "b"):
        for f in (tmp_path / county / "keys").glob("ca*"):
            if f.suffix in (".pem", ".crl"):
                (tmp_path / "city" / "trust" / f"{county}-{f.name}").write_bytes(f.read_bytes())
    batch = tmp_path / "batch.jsonl"
    write_batch(Generator(seed=5).batch(1), batch, "jsonl")
    for county in ("a", "b"):
        out = f"{county}.zip"
        cfg = f"{county}/node.toml"
        built = _run("package", "build", str(batch), "--to", CITY, "--out", out, "--config", cfg)
        assert built.exit_code == 0, built.output
        res = _run("package", "verify", out, "--config", "city/node.toml")
        assert res.exit_code == 0, res.output
    cas = [
        x509.load_pem_x509_certificate((tmp_path / c / "keys" / "ca.pem").read_bytes())
        for c in ("a", "b", "city")
    ]
    assert len({c.subject for c in cas}) == 3 and len({c.serial_number for c in cas}) == 3


def test_the_node_has_one_platform_code_checked_when_the_configuration_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HUB_CONFIG", raising=False)
    assert _run("init", "city", "--platform", CITY, "--no-examples").exit_code == 0
    cfg = tmp_path / "city" / "node.toml"
    text = cfg.read_text("utf-8")
    cfg.write_text(text.replace(f'platform_code = "{CITY}"', f'platform_code = "{COUNTY}"'))
    (tmp_path / "x.zip").write_bytes(b"PK")
    for args in (("package", "verify", "x.zip"), ("package", "receive", "x.zip"), ("stats",)):
        res = _run(*args, "--config", str(cfg))
        assert res.exit_code == 2, res.output
        assert "[signing].cert is for" in res.output and COUNTY in res.output
    cfg.write_text(text.replace(f'platform_code = "{CITY}"', 'platform_code = ""'))
    from hub.config import load_config

    assert load_config(cfg).node.platform_code == CITY  # taken from the certificate
