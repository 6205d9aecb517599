"""The package cases of the hostile corpus (tests/hostile/manifest.toml, ``[[package]]``):
each through ``hub package receive`` on a fresh store, ending in its exit code and the reason
code of a signed receipt, with nothing stored for a refusal; and a byte-flip sweep over every
region of an archive, none accepted."""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.config import NodeConfig, StoreSection
from hub.errors import InputError
from hub.store.engine import open_store
from hub.store.models import AuditEntry, Package, RawBatch, RecordVersion
from tests.packhostile import REGIONS, every_attack, flip, regions
from tests.packkit import RECEIVER, Pki, make_pki, package, receiving_node, verify

HERE = Path(__file__).parent / "hostile"
CASES = tomllib.loads((HERE / "manifest.toml").read_text("utf-8"))["package"]
PER_REGION = 150  # flips per region in the normal run; bench/reliability.py sweeps every byte


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def made(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return {k: make() for k, make in every_attack(pki, tmp_path_factory.mktemp("a")).items()}


def _node_toml(pki: Pki, tmp: Path) -> Path:
    node = receiving_node(NodeConfig(), pki)
    assert node.signing is not None
    cfg = tmp / "node.toml"
    cfg.write_text(
        f'[node]\nplatform_code = "{RECEIVER}"\n[store]\ndata_dir = "{tmp / "data"}"\n'
        f'[trust]\nanchors = ["{pki.dir / "ca.pem"}"]\ncrls = ["{pki.dir / "ca.crl"}"]\n'
        f'[signing]\nkey = "{node.signing.key}"\ncert = "{node.signing.cert}"\n',
        "utf-8",
    )
    return cfg


def test_every_listed_attack_is_made_and_every_made_attack_listed(made: dict[str, bytes]) -> None:
    assert {c["attack"] for c in CASES} == set(made)
    assert all(c["why"] and "exit" in c for c in CASES)


def _counts(database_url: str, tmp: Path) -> dict[str, int]:
    store = open_store(NodeConfig(store=StoreSection(url=database_url, data_dir=tmp)))
    try:
        with store.read() as conn:
            got = {
                m.__tablename__: conn.scalar(select(func.count()).select_from(m)) or 0
                for m in (Package, RecordVersion, RawBatch)
            }
            got["refused"] = (
                conn.scalar(select(func.count()).where(AuditEntry.action == "package.refused")) or 0
            )
    finally:
        store.dispose()
    return got


@pytest.mark.parametrize(
    "case",
    CASES,
    ids=[c["attack"] + (f" after {c['after']}" if "after" in c else "") for c in CASES],
)
def test_every_package_case_ends_in_its_outcome(
    case: dict[str, Any],
    run: Any,
    pki: Pki,
    made: dict[str, bytes],
    tmp_path: Path,
    database_url: str,
) -> None:
    cfg = _node_toml(pki, tmp_path)
    first = None
    if "after" in case:
        (tmp_path / "first.zip").write_bytes(made[case["after"]])
        res = run("package", "receive", "first.zip", "--config", str(cfg), "--format", "json")
        assert res.exit_code == 0, res.output
        first = (tmp_path / "first.zip.receipt").read_bytes()
    before = _counts(database_url, tmp_path)
    path = tmp_path / "p.zip"
    path.write_bytes(made[case["attack"]])
    res = run("package", "receive", str(path), "--config", str(cfg), "--format", "json")
    assert res.exit_code == case["exit"], res.output
    assert "Traceback" not in res.output
    out = json.loads(res.stdout)
    receipt = tmp_path / "p.zip.receipt"
    shown = run("package", "receipt", str(receipt), "--config", str(cfg), "--format", "json")
    assert shown.exit_code == 0, shown.output  # every answer is a receipt that verifies
    signed = json.loads(shown.stdout)["receipt"]
    after = _counts(database_url, tmp_path)
    if "code" in case:  # refused: the reason in the signed receipt, nothing stored
        assert out["status"] == "refused" and out["reason"] == case["code"], out
        assert signed["refusal"]["code"] == case["code"] and signed["records"] == []
        assert after == {**before, "refused": before["refused"] + 1}
        return
    assert out["status"] == case["status"], out
    assert after["refused"] == before["refused"] == 0
    if case["status"] == "duplicate":  # the original receipt, byte for byte; nothing new
        assert receipt.read_bytes() == first and after == before
    else:
        assert after["package"] == 1 and after["record_version"] > 0


def test_a_byte_flipped_anywhere_in_an_archive_is_refused(pki: Pki) -> None:
    """PER_REGION flips spread over each region of a package (the regions cover every byte
    once): every one is refused with a reason code, none raises anything else, none is
    accepted."""
    good = package(pki.good)
    verify(good, pki)  # the control: unflipped, it verifies
    where = regions(good)
    assert sorted(at for offsets in where.values() for at in offsets) == list(range(len(good)))
    codes: dict[str, Counter[str]] = {}
    for region, offsets in where.items():
        step = max(1, len(offsets) // PER_REGION)
        got: Counter[str] = Counter()
        for at in offsets[::step]:
            with pytest.raises(InputError) as exc:
                verify(flip(good, at), pki)
            got[exc.value.code] += 1
        codes[region] = got
    assert set(codes) == set(REGIONS)
    assert all(sum(c.values()) >= min(PER_REGION, 22) for c in codes.values()), codes
    # a flipped body byte is caught by the entry's CRC-32 before any digest is looked at
    assert set(codes["data body"]) == {"archive.unreadable"}
