"""The files adapter: a local inbox folder (its peer is the file system itself)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from hub.config import NodeConfig
from hub.sources import open_adapter
from hub.store.engine import Store
from hub.sync import sync_source
from tests.adapter_contract import PullContract
from tests.legacy import GOLDEN

ROOT = Path(__file__).resolve().parent.parent
PARTS = [["XM_20240301.csv", "ZBXM_20240301.csv"], ["BD_20240301.csv"]]


def _aged(path: Path, seconds: float = 60) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


class TestFilesContract(PullContract):
    adapter = "files"
    mapping = ROOT / "mappings" / "qingshan-csv.toml"

    def source_options(self, peer_dir: Path) -> dict[str, Any]:
        return {"inbox": str(peer_dir), "pattern": ["*.csv"], "min_age_seconds": 1}

    def put(self, part: int) -> int:
        n = 0
        for name in PARTS[part]:
            data = (GOLDEN / "qingshan" / name).read_bytes()
            target = self.peer_dir / name
            target.write_bytes(data)
            _aged(target)
            n += data.count(b"\r\n") - 1
        return n


class TestFilesBehaviour(TestFilesContract):
    """What only a folder inbox does: moving files, markers, half-written files."""

    def test_files_move_to_processed_or_failed_after_the_commit(
        self, node: NodeConfig, hub_store: Store
    ) -> None:
        self.put(0)
        broken = self.peer_dir / "XM_20240302.csv"
        broken.write_bytes(
            "项目编号,名称\r\n".encode("gbk") + b"\xff\xfe\r\n"
        )  # not GBK, wrong header
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
        assert (
            (failed / "XM_20240302.csv").read_bytes() == broken.read_bytes()
            if broken.exists()
            else True
        )
        reason = (failed / "XM_20240302.csv.error.txt").read_text("utf-8")
        assert "columns" in reason or "gbk" in reason
        assert not any(p.is_file() for p in self.peer_dir.iterdir())

    def test_a_file_still_being_written_is_not_taken(self, node: NodeConfig) -> None:
        fresh = self.peer_dir / "XM_20240303.csv"
        fresh.write_bytes((GOLDEN / "qingshan" / "XM_20240301.csv").read_bytes()[:100])
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
