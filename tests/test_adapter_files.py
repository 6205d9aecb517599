"""The files adapter: a local inbox folder (its peer is the file system itself)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

from hub.config import NodeConfig
from hub.errors import ConfigError
from hub.package.receipt import verify
from hub.sources import open_adapter
from hub.store.engine import Store
from hub.sync import sync_source
from tests.adapter_contract import Peer, PullContract
from tests.legacy import SAMPLES
from tests.packkit import (
    RECEIVER,
    Pki,
    entries,
    flip_in,
    make_pki,
    package,
    receiving_node,
    records,
    wall_clock,
)

ROOT = Path(__file__).resolve().parent.parent
PARTS = [["XM_20240301.csv", "ZBXM_20240301.csv"], ["BD_20240301.csv"]]


def _aged(path: Path, seconds: float = 60) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


class FilesPeer(Peer):
    adapter = "files"
    mapping = ROOT / "mappings" / "qingshan-csv.toml"

    def source_options(self, peer_dir: Path) -> dict[str, Any]:
        return {"inbox": str(peer_dir), "pattern": ["*.csv"], "min_age_seconds": 1}

    def put(self, part: int) -> int:
        n = 0
        for name in PARTS[part]:
            data = (SAMPLES / name).read_bytes()
            target = self.peer_dir / name
            target.write_bytes(data)
            _aged(target)
            n += data.count(b"\r\n") - 1
        return n


class TestFilesContract(FilesPeer, PullContract):
    """The adapter contract against the real peer."""


class TestFilesBehaviour(FilesPeer):
    """What only a folder inbox does: moving files, markers, half-written files."""

    def test_files_move_to_processed_or_failed_after_the_commit(
        self, node: NodeConfig, hub_store: Store
    ) -> None:
        self.put(0)
        broken = self.peer_dir / "XM_20240302.csv"
        broken_bytes = "项目编号,名称\r\n".encode("gbk") + b"\xff\xfe\r\n"  # not GBK, wrong header
        broken.write_bytes(broken_bytes)
        _aged(broken)
        report = sync_source(node, hub_store, "peer")
        statuses = {b.name: b.status for b in report.batches}
        assert statuses == {
            "XM_20240301.csv": "done",
            "XM_20240302.csv": "failed",
            "ZBXM_20240301.csv": "done",
        }
        assert sorted(p.name for p in (self.peer_dir / "processed").iterdir()) == PARTS[0]
        failed = self.peer_dir / "failed"
        assert (failed / "XM_20240302.csv").read_bytes() == broken_bytes
        reason = (failed / "XM_20240302.csv.error.txt").read_text("utf-8")
        assert "columns" in reason or "gbk" in reason
        assert not any(p.is_file() for p in self.peer_dir.iterdir())

    def test_a_file_that_grows_while_it_is_read_stays_to_be_taken_whole(
        self, node: NodeConfig, hub_store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import hub.sync

        self.put(0)
        [first, *_] = sorted(p for p in self.peer_dir.iterdir() if p.is_file())
        whole = first.read_bytes()
        head, tail = whole[: whole.index(b"\r\n", len(whole) // 2) + 2], whole
        first.write_bytes(head)  # the exporter has written half of it
        _aged(first)
        real = hub.sync.ingest_stream

        def ingest_then_grow(*a: Any, **kw: Any) -> Any:
            got = real(*a, **kw)
            if first.exists() and first.read_bytes() == head:
                first.write_bytes(tail)  # ... and writes the rest while the hub reads
            return got

        monkeypatch.setattr(hub.sync, "ingest_stream", ingest_then_grow)
        report = sync_source(node, hub_store, "peer")
        assert report.error and "changed while it was read" in report.error, report.error
        assert first.exists() and first.read_bytes() == tail  # not moved: nothing is lost
        monkeypatch.setattr(hub.sync, "ingest_stream", real)
        _aged(first)  # the exporter is done with it
        again = sync_source(node, hub_store, "peer")
        assert again.error is None and first.name in {b.name for b in again.batches}
        assert (self.peer_dir / "processed" / first.name).read_bytes() == tail
        assert again.counts.accepted > 0 and again.counts.duplicate > 0  # the rest, then

    def test_links_special_files_and_non_utf8_names_are_set_aside_and_block_nothing(
        self, node: NodeConfig, hub_store: Store, tmp_path: Path
    ) -> None:
        self.put(0)
        secret = tmp_path / "outside" / "XM_secret.csv"
        secret.parent.mkdir()
        secret.write_bytes((SAMPLES / "BD_20240301.csv").read_bytes())
        (self.peer_dir / "XM_link.csv").symlink_to(secret)
        os.mkfifo(self.peer_dir / "XM_fifo.csv")
        odd = os.fsdecode(b"XM_\xff\xfe.csv")
        (self.peer_dir / odd).write_bytes((SAMPLES / "BD_20240301.csv").read_bytes())
        _aged(self.peer_dir / odd)
        first = sync_source(node, hub_store, "peer")
        got = {b.name: (b.status, b.code) for b in first.batches}
        assert got == {
            "XM_\\xff\\xfe.csv": ("failed", "input.name"),
            "XM_fifo.csv": ("failed", "input.not-regular"),
            "XM_link.csv": ("failed", "input.not-regular"),
            "XM_20240301.csv": ("done", None),
            "ZBXM_20240301.csv": ("done", None),
        }
        report = sync_source(node, hub_store, "peer")  # nothing was left to block it
        failed = sorted(os.listdir(self.peer_dir / "failed"))
        assert "XM_link.csv" in failed and "XM_fifo.csv" in failed and odd in failed
        assert (self.peer_dir / "failed" / "XM_link.csv").is_symlink()  # moved, never read
        why = (self.peer_dir / "failed" / "XM_link.csv.error.txt").read_text("utf-8")
        assert "symbolic link" in why
        assert "not UTF-8" in (self.peer_dir / "failed" / (odd + ".error.txt")).read_text("utf-8")
        assert sorted(os.listdir(self.peer_dir / "processed")) == PARTS[0]
        assert report.batches == []  # the second run: nothing new, no error
        with hub_store.read() as conn:
            from sqlalchemy import text

            origins = [r[0] for r in conn.execute(text("SELECT origin FROM sync_run"))]
            refused = (
                conn.execute(text("SELECT subject FROM audit_log WHERE action = 'batch.refused'"))
                .scalars()
                .all()
            )
        assert sorted(Path(o).name for o in origins) == PARTS[0]  # the link was never read
        assert any("XM_\\xff\\xfe.csv" in r for r in refused)  # recorded, as text

    def test_a_file_still_being_written_is_not_taken(self, node: NodeConfig) -> None:
        fresh = self.peer_dir / "XM_20240303.csv"
        fresh.write_bytes((SAMPLES / "XM_20240301.csv").read_bytes()[:100])
        with open_adapter(node, "peer") as a:
            assert [b.name for b in a.pull(None)] == []  # younger than min_age_seconds
        _aged(fresh)
        with open_adapter(node, "peer") as a:
            assert [b.name for b in a.pull(None)] == ["XM_20240303.csv"]

    def test_with_a_done_marker_only_marked_files_are_taken(
        self, node: NodeConfig, tmp_path: Path
    ) -> None:
        from hub.config import SourceSection

        src = node.sources["peer"]
        opts = {**src.options, "done_marker": ".ok", "min_age_seconds": 3600}
        marked = node.model_copy(
            update={"sources": {"peer": SourceSection(adapter="files", options=opts)}}
        )
        self.put(0)
        with open_adapter(marked, "peer") as a:
            assert [b.name for b in a.pull(None)] == []
        (self.peer_dir / "ZBXM_20240301.csv.ok").write_bytes(b"")
        with open_adapter(marked, "peer") as a:
            batches = list(a.pull(None))
            assert [b.name for b in batches] == ["ZBXM_20240301.csv"]
            a.ack(batches[0])
        assert not (self.peer_dir / "ZBXM_20240301.csv.ok").exists()

    def test_push_renames_into_the_outbox_atomically(
        self, node: NodeConfig, tmp_path: Path
    ) -> None:
        from hub.config import SourceSection

        out = tmp_path / "outbox"
        cfg = node.model_copy(
            update={
                "sources": {"peer": SourceSection(adapter="files", options={"outbox": str(out)})}
            }
        )
        with open_adapter(cfg, "peer") as a:
            r = a.push("pkg-1.zip", b"PK\x03\x04 package bytes")
        assert r.delivered and (out / "pkg-1.zip").read_bytes() == b"PK\x03\x04 package bytes"
        assert [p.name for p in out.iterdir()] == ["pkg-1.zip"]  # no temporary left behind


class TestFilesPackages(FilesPeer):
    """Signed packages dropped in an inbox: received, answered with a signed receipt."""

    def source_options(self, peer_dir: Path) -> dict[str, Any]:
        return {"inbox": str(peer_dir), "min_age_seconds": 1}  # default patterns take *.zip

    def drop(self, name: str, data: bytes) -> Path:
        target = self.peer_dir / name
        target.write_bytes(data)
        _aged(target)
        return target

    def test_a_dropped_package_is_received_and_answered_with_a_signed_receipt(
        self, node: NodeConfig, hub_store: Store, pki: Pki
    ) -> None:
        cfg = receiving_node(node, pki)
        recs = records(3)
        n = sum(len(v) for v in recs.values())
        good = package(pki.good, recs, "PKG-0000000101")
        tampered = flip_in(package(pki.good, recs, "PKG-0000000102"), _data_file(good))
        self.drop("PKG-0000000101.zip", good)
        self.drop("PKG-0000000102.zip", tampered)
        report = sync_source(cfg, hub_store, "peer")

        ok, bad = report.batches
        assert (ok.status, ok.package, ok.counts and ok.counts.accepted) == (
            "done",
            "PKG-0000000101",
            n,
        )
        assert (bad.status, bad.code) == ("failed", "file.digest"), bad
        assert self.versions(hub_store) == n
        receipts = self.peer_dir / "receipts"
        r, _ = verify(
            (receipts / "PKG-0000000101.receipt").read_bytes(),
            "receipt",
            pki.trust,
            now=wall_clock(),
            package_id="PKG-0000000101",
        )
        assert r.issuer == RECEIVER and r.status == "processed"
        assert r.counts == {"accepted": n} and len(r.records) == n
        assert ok.receipt == str(receipts / "PKG-0000000101.receipt")
        digest = hashlib.sha256(tampered).hexdigest()[:12]  # a refusal: by file and bytes
        assert bad.receipt == str(receipts / f"PKG-0000000102.zip.{digest}.receipt")
        refusal, _ = verify(
            Path(bad.receipt).read_bytes(),
            "receipt",
            pki.trust,
            now=wall_clock(),
        )
        assert refusal.refusal is not None and refusal.refusal.code == "file.digest"
        assert (self.peer_dir / "processed" / "PKG-0000000101.zip").read_bytes() == good
        assert (self.peer_dir / "failed" / "PKG-0000000102.zip").read_bytes() == tampered
        assert _data_file(good) in (bad.error or ""), bad.error  # the message names the file
        why = (self.peer_dir / "failed" / "PKG-0000000102.zip.error.txt").read_text("utf-8")
        assert why.strip() == bad.error

    def test_the_same_package_dropped_again_gets_the_original_receipt(
        self, node: NodeConfig, hub_store: Store, pki: Pki
    ) -> None:
        cfg = receiving_node(node, pki)
        data = package(pki.good, records(2), "PKG-0000000103")
        self.drop("PKG-0000000103.zip", data)
        sync_source(cfg, hub_store, "peer")
        first = (self.peer_dir / "receipts" / "PKG-0000000103.receipt").read_bytes()
        before = self.versions(hub_store)
        # the hub committed, then died before the drop moved: the county's file is still there
        self.drop("PKG-0000000103.zip", data)
        report = sync_source(cfg, hub_store, "peer")
        assert [b.status for b in report.batches] == ["done"] and report.counts.accepted == 0
        again = (self.peer_dir / "receipts" / "PKG-0000000103.receipt").read_bytes()
        assert again == first and self.versions(hub_store) == before

    def test_tonights_drop_of_the_same_name_keeps_yesterdays_receipt(
        self, node: NodeConfig, hub_store: Store, pki: Pki
    ) -> None:
        cfg = receiving_node(node, pki)
        for pid, seed in (("PKG-0000000105", 2), ("PKG-0000000106", 3)):  # two nights
            self.drop("night.zip", package(pki.good, records(seed), pid))
            (b,) = sync_source(cfg, hub_store, "peer").batches
            assert b.status == "done" and b.receipt == str(
                self.peer_dir / "receipts" / f"{pid}.receipt"
            )
            (self.peer_dir / "processed" / "night.zip").unlink()  # the county tidies its drops
        left = sorted(p.name for p in (self.peer_dir / "receipts").iterdir())
        assert left == ["PKG-0000000105.receipt", "PKG-0000000106.receipt"]

    def test_a_node_without_keys_stops_before_moving_the_drop(
        self, node: NodeConfig, hub_store: Store, pki: Pki
    ) -> None:
        self.drop("PKG-0000000104.zip", package(pki.good, records(1), "PKG-0000000104"))
        with pytest.raises(ConfigError, match=r"\[trust\]|\[signing\]"):
            sync_source(node, hub_store, "peer")  # no [trust]: the node's fault, not the file's
        assert (self.peer_dir / "PKG-0000000104.zip").exists()
        assert self.versions(hub_store) == 0


def _data_file(data: bytes) -> str:
    return next(n for n, _ in entries(data) if n.startswith("data/"))
