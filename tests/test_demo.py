"""`hub demo`: three nodes on loopback, end to end.  Every node accounts for every record,
the province holds exactly what the counties accepted, every county record has the
province's verdict, OpenSSL alone checks the receipt the province signed, and every package
went up sealed to the province's encryption certificate."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from hub.cli import cli
from hub.config import load_config
from hub.demo import run
from hub.forward.deliver import D
from hub.package import archive
from hub.store.engine import Store, open_store
from hub.store.models import AuditEntry, CurrentRecord, ForwardItem, RecordVersion, table
from tests.packkit import openssl_verifies

CUR, ITEM, VER = table(CurrentRecord), table(ForwardItem), table(RecordVersion)
AUDIT = table(AuditEntry)


def _open(folder: Path) -> Store:
    return open_store(load_config(folder / "node.toml"))


def _live(store: Store) -> dict[tuple[str, str], tuple[str, str]]:
    with store.read() as conn:
        return {
            (r.dataset, r.business_key): (r.content_hash, r.data_timestamp)
            for r in conn.execute(
                select(
                    CUR.c.dataset, CUR.c.business_key, CUR.c.content_hash, CUR.c.data_timestamp
                ).where(~CUR.c.deleted)
            )
        }


def test_three_nodes_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    said: list[str] = []
    demo = run(out, 42, said.append)
    assert len(said) >= 6  # it says what it does as it goes
    # every node accounts for every record: in = accepted + duplicate + held + rejected + quar.
    for name, f in demo.figures.items():
        assert f.conserved, (name, f.fates)
        assert f.fates["records_in"] > 0
    lj = demo.figures["county-lianjiang"].fates
    assert sum(demo.pushed.values()) == lj["records_in"]  # its system's receipt covers them all
    counties = [out / "county-minhou", out / "county-lianjiang"]
    stores = [_open(c) for c in counties]
    prov = _open(out / "province")
    try:
        # the province holds the union of what the counties hold, and nothing else; where
        # both sent a key, the newer DATA_TIMESTAMP is the province's
        union: dict[tuple[str, str], tuple[str, str]] = {}
        for s in stores:
            for k, v in _live(s).items():
                union[k] = max(union.get(k, v), v, key=lambda x: x[1])
        assert _live(prov) == union
        # every live county record has the province's verdict: accepted as version n there
        for s in stores:
            with s.read() as conn:
                rows = conn.execute(
                    select(
                        CUR.c.dataset,
                        CUR.c.business_key,
                        ITEM.c.outcome,
                        ITEM.c.upstream_version,
                        ITEM.c.content_hash,
                        CUR.c.content_hash.label("h"),
                    )
                    .outerjoin(
                        ITEM,
                        (ITEM.c.dataset == CUR.c.dataset)
                        & (ITEM.c.business_key == CUR.c.business_key),
                    )
                    .where(~CUR.c.deleted)
                ).all()
            assert rows and all(r.outcome == "accepted" and r.upstream_version for r in rows)
            assert all(r.content_hash == r.h for r in rows)  # what was sent is what it holds
        # OpenSSL alone checks the receipt the province signed for 闽侯's package
        with stores[0].read() as conn:
            receipt = conn.execute(select(D.c.receipt).where(D.c.status == "delivered")).scalar()
        assert receipt
        parts = dict(archive.read(receipt, "receipt"))
        ca = out / "province" / "keys" / "ca.pem"
        openssl_verifies(parts["receipt.json"], parts["signature.p7s"], ca, tmp_path)
        # the counties sealed their packages to the province (it takes nothing else)
        with prov.read() as conn:
            got = (
                conn.execute(select(AUDIT.c.detail).where(AUDIT.c.action == "package.received"))
                .scalars()
                .all()
            )
        assert len(got) >= 2 and all("aes-256-gcm" in str(d) for d in got)
    finally:
        for s in (*stores, prov):
            s.dispose()


def test_a_second_run_starts_clean_and_a_foreign_folder_is_left_alone(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "demo-out"
    first = runner.invoke(cli, ["demo", "--out", str(out)])
    assert first.exit_code == 0, first.output
    said = " ".join(first.output.split())
    assert "every record's fate, per node" in said and "where to look next" in said
    (out / "stray.txt").write_text("left by the first run")
    again = runner.invoke(cli, ["demo", "--out", str(out)])
    assert again.exit_code == 0 and not (out / "stray.txt").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("not the demo's")
    refused = runner.invoke(cli, ["demo", "--out", str(mine)])
    assert refused.exit_code == 2 and "not written by `hub demo`" in refused.output
    assert (mine / "thesis.tex").exists()


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_CONFIG", raising=False)
    monkeypatch.delenv("HUB_DATABASE_URL", raising=False)
