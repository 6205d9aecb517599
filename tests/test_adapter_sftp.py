"""The sftp adapter against OpenSSH's sshd on a loopback port (started by the tests)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.sftp import SftpAdapter
from hub.config import NodeConfig, SourceSection
from hub.errors import FatalError
from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from hub.sources import open_adapter
from hub.store.engine import Store
from hub.store.models import Package, RawBatch, RecordVersion
from hub.sync import sync_source
from tests.adapter_contract import Peer, PullContract
from tests.legacy import SAMPLES
from tests.packkit import make_pki, package, receiving_node, records
from tests.sshd import Sshd, make_sshd

ROOT = Path(__file__).resolve().parent.parent
PARTS = [["XM_20240301.csv", "ZBXM_20240301.csv"], ["BD_20240301.csv"]]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    server = make_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


def _aged(path: Path, seconds: float = 600) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def _options(server: Sshd, remote: Path, **extra: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "username": server.user,
        "key": str(server.client_key),
        "known_hosts": str(server.known_hosts),
        "remote_dir": str(remote),
        "pattern": ["*.csv"],
        "min_age_seconds": 30,
        "connect_timeout": 5,
        **extra,
    }


class SftpPeer(Peer):
    adapter = "sftp"
    mapping = ROOT / "mappings" / "qingshan-csv.toml"

    @pytest.fixture(autouse=True)
    def _server(self, sshd: Sshd) -> None:
        self.server = sshd

    def source_options(self, peer_dir: Path) -> dict[str, Any]:
        return _options(self.server, peer_dir)

    def put(self, part: int) -> int:
        n = 0
        for name in PARTS[part]:
            data = (SAMPLES / name).read_bytes()
            (self.peer_dir / name).write_bytes(data)
            _aged(self.peer_dir / name)
            n += data.count(b"\r\n") - 1
        return n


class TestSftpContract(SftpPeer, PullContract):
    """The adapter contract against the real peer."""


def _cfg(node: NodeConfig, **opts: Any) -> NodeConfig:
    src = node.sources["peer"]
    merged = {**src.options, **opts}
    return node.model_copy(
        update={
            "sources": {"peer": SourceSection(adapter="sftp", mapping=src.mapping, options=merged)}
        }
    )


class TestSftpBehaviour(SftpPeer):
    def test_files_move_to_done_only_after_the_commit(
        self, node: NodeConfig, hub_store: Store
    ) -> None:
        self.put(0)
        seen_remote: list[list[str]] = []

        def during(batch: Any) -> None:  # before the commit the file is still in place
            seen_remote.append(sorted(p.name for p in self.peer_dir.iterdir() if p.is_file()))

        report = sync_source(node, hub_store, "peer", on_batch=during)
        assert report.ok and [b.status for b in report.batches] == ["done", "done"]
        assert seen_remote[0] == PARTS[0]
        assert sorted(p.name for p in (self.peer_dir / "done").iterdir()) == PARTS[0]
        assert not any(p.is_file() for p in self.peer_dir.iterdir())

    def test_a_file_still_being_written_is_not_taken_until_complete(self, node: NodeConfig) -> None:
        data = (SAMPLES / "XM_20240301.csv").read_bytes()
        growing = self.peer_dir / "XM_20240305.csv"
        growing.write_bytes(data[: len(data) // 2])  # the county's job is still writing
        with open_adapter(node, "peer") as a:
            assert list(a.pull(None)) == []
        growing.write_bytes(data)
        _aged(growing)
        with open_adapter(node, "peer") as a:
            (b,) = list(a.pull(None))
            assert b.read() == data
        # with a done-marker, age does not matter: the marker does
        marked = _cfg(node, done_marker=".done", min_age_seconds=0)
        fresh = self.peer_dir / "XM_20240306.csv"
        fresh.write_bytes(data)
        with open_adapter(marked, "peer") as a:
            assert list(a.pull(None)) == []
        (self.peer_dir / "XM_20240306.csv.done").write_bytes(b"")
        with open_adapter(marked, "peer") as a:
            assert (
                sorted(b.name for b in a.pull(None)) == ["XM_20240305.csv", "XM_20240306.csv"][1:]
            )

    def test_a_cut_connection_resumes_and_never_ingests_a_partial_file(
        self, node: NodeConfig, hub_store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        big = self.peer_dir / "batch-20240301.jsonl"
        records = Generator(seed=21).batch(120)
        write_batch(records, big, "jsonl")
        _aged(big)
        data = big.read_bytes()
        (self.peer_dir / "batch-20240301.jsonl.sha256").write_text(
            hashlib.sha256(data).hexdigest() + "  batch-20240301.jsonl\n"
        )
        cfg = _cfg(node, pattern=["*.jsonl"])
        cfg = cfg.model_copy(
            update={"sources": {"peer": cfg.sources["peer"].model_copy(update={"mapping": None})}}
        )
        assert len(data) > 3 << 20
        cut: list[int] = []

        def cut_once(name: str, have: int) -> None:
            if not cut and have >= 1 << 20:
                cut.append(have)
                assert self.server.kill_sessions() >= 1

        monkeypatch.setattr(SftpAdapter, "on_transfer", staticmethod(cut_once))
        first = sync_source(cfg, hub_store, "peer")
        assert cut and first.error is not None and first.batches == []
        with hub_store.read() as conn:  # nothing of the partial file reached the store
            assert conn.execute(select(func.count()).select_from(RawBatch)).scalar_one() == 0
        part = cfg.store.data_dir / "adapters" / "peer" / "batch-20240301.jsonl.part"
        kept = part.stat().st_size
        assert 0 < kept < len(data)

        resumed_from: list[int] = []
        monkeypatch.setattr(
            SftpAdapter, "on_transfer", staticmethod(lambda n, have: resumed_from.append(have))
        )
        second = sync_source(cfg, hub_store, "peer")
        assert second.ok, second.as_dict()
        assert resumed_from[0] > kept and resumed_from[0] - kept <= 1 << 20  # went on, not over
        assert second.counts.records_in == second.counts.accepted + second.counts.held
        with hub_store.read() as conn:
            (raw,) = conn.execute(select(RawBatch.sha256)).all()
            n = conn.execute(select(func.count()).select_from(RecordVersion)).scalar_one()
        assert raw[0] == hashlib.sha256(data).hexdigest() and n == second.counts.accepted
        assert not part.exists()

    def test_a_wrong_digest_refuses_the_file(self, node: NodeConfig, hub_store: Store) -> None:
        self.put(1)
        (self.peer_dir / "BD_20240301.csv.sha256").write_text("0" * 64 + "\n")
        report = sync_source(node, hub_store, "peer")
        (b,) = report.batches
        assert b.status == "failed" and b.code == "input.digest"
        assert (self.peer_dir / "failed" / "BD_20240301.csv").exists()
        assert (
            "differs from" in (self.peer_dir / "failed" / "BD_20240301.csv.error.txt").read_text()
        )

    def test_push_uploads_under_a_temporary_name_and_renames(self, node: NodeConfig) -> None:
        cfg = _cfg(node, upload_dir=str(self.peer_dir))
        with open_adapter(cfg, "peer") as a:
            r = a.push("pkg-20240301.zip", b"PK" + os.urandom(100_000))
        assert r.delivered
        assert [p.name for p in self.peer_dir.iterdir()] == ["pkg-20240301.zip"]

    def test_a_dropped_package_is_answered_with_its_receipt_on_the_server(
        self, node: NodeConfig, hub_store: Store, tmp_path: Path
    ) -> None:
        pki = make_pki(tmp_path)
        cfg = receiving_node(_cfg(node, pattern=["*.zip"], done_marker=".ok"), pki)
        data = package(pki.good, records(2), "PKG-0000000201")
        (self.peer_dir / "PKG-0000000201.zip").write_bytes(data)
        (self.peer_dir / "PKG-0000000201.zip.ok").touch()
        report = sync_source(cfg, hub_store, "peer")
        assert report.ok and report.batches[0].package == "PKG-0000000201", report.as_dict()
        with hub_store.read() as conn:
            kept = conn.execute(select(Package.receipt)).scalar_one()
        left = self.peer_dir / "receipts" / "PKG-0000000201.receipt"
        assert left.read_bytes() == kept  # the very bytes the store keeps
        assert (
            report.batches[0].receipt
            == f"sftp://{self.server.user}@127.0.0.1:{self.server.port}{left}"
        )
        assert (self.peer_dir / "done" / "PKG-0000000201.zip").read_bytes() == data
        assert not any(p.is_file() for p in self.peer_dir.iterdir())  # marker gone too
        assert not any(p.name.startswith(".") for p in left.parent.iterdir())  # no .part left


def test_a_changed_host_key_is_refused_with_both_fingerprints(
    tmp_path: Path, hub_store_factory: Any = None
) -> None:
    server = make_sshd(tmp_path / "sshd")
    try:
        from hub.config import load_config
        from tests.adapter_contract import write_config

        remote = tmp_path / "remote"
        remote.mkdir()
        cfg = load_config(
            write_config(
                tmp_path / "n.toml", "sftp", _options(server, remote), None, tmp_path / "d"
            )
        )
        with open_adapter(cfg, "peer") as a:
            assert list(a.pull(None)) == []  # the known key: fine
        server.new_host_key()
        with open_adapter(cfg, "peer") as a, pytest.raises(FatalError) as exc:
            list(a.pull(None))
        msg = str(exc.value)
        assert "host key changed" in msg and msg.count("SHA256:") == 2
        # and an unknown host (empty known_hosts) is refused too, never added
        server.known_hosts.write_text("")
        with open_adapter(cfg, "peer") as a, pytest.raises(FatalError, match="not in"):
            list(a.pull(None))
        assert server.known_hosts.read_text() == ""
    finally:
        server.stop()
