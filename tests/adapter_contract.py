"""The contract every adapter passes against its real peer, built-in or third-party.

Subclass ``Peer`` in a test module to say how to reach the adapter's peer, then run the
contract with ``class TestXContract(XPeer, PullContract)``; further tests of the adapter's own
behaviour subclass ``XPeer`` alone (so the contract runs once).  ``Peer`` needs:

- ``source_options(self, peer_dir) -> dict``: the adapter's options for a source that reads
  from the peer (a TOML-able dict), plus ``adapter`` (its short name) and ``mapping`` (a path
  or None) as class attributes;
- ``put(self, part) -> int``: place part 0 or part 1 of the test data at the peer and return
  how many records it holds.

The contract drives the adapter through ``hub.sync.sync_source`` into a real store, the way
the CLI and the scheduler do, and checks what a county centre relies on: every record is
taken exactly once across runs, nothing is acknowledged before its commit, options are
checked when the configuration loads, and the adapter is found by its short name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select

from hub import plugins
from hub.config import NodeConfig, load_config
from hub.errors import ConfigError
from hub.interfaces import Adapter, AdapterOptions
from hub.sources import adapter_class, open_adapter
from hub.store.engine import Store, open_store
from hub.store.models import RecordVersion
from hub.sync import sync_source


def _toml_value(v: Any) -> str:
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


def write_config(
    path: Path, adapter: str, options: dict[str, Any], mapping: Path | None, data_dir: Path
) -> Path:
    lines = [
        "[store]",
        f"data_dir = {_toml_value(data_dir)}",
        "[sources.peer]",
        f"adapter = {_toml_value(adapter)}",
    ]
    if mapping is not None:
        lines.append(f"mapping = {_toml_value(mapping)}")
    lines.append("[sources.peer.options]")
    lines += [f"{k} = {_toml_value(v)}" for k, v in options.items()]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


class Peer:
    """A source named ``peer`` reading from the adapter's real peer, and a store for it."""

    adapter: ClassVar[str]
    mapping: ClassVar[Path | None] = None

    # -- provided by the subclass -------------------------------------------------------
    def source_options(self, peer_dir: Path) -> dict[str, Any]:
        raise NotImplementedError

    def put(self, part: int) -> int:
        raise NotImplementedError

    # -- fixtures ------------------------------------------------------------------------
    @pytest.fixture
    def node(self, tmp_path: Path) -> NodeConfig:
        peer_dir = tmp_path / "peer"
        peer_dir.mkdir(exist_ok=True)
        self.peer_dir = peer_dir
        path = write_config(
            tmp_path / "node.toml",
            self.adapter,
            self.source_options(peer_dir),
            self.mapping,
            tmp_path / "data",
        )
        return load_config(path)

    @pytest.fixture
    def hub_store(self, node: NodeConfig) -> Any:
        store = open_store(node)
        yield store
        store.dispose()

    @staticmethod
    def versions(store: Store) -> int:
        with store.read() as conn:
            return int(conn.execute(select(func.count()).select_from(RecordVersion)).scalar_one())


class PullContract(Peer):
    """The contract tests; mix in after a ``Peer`` subclass."""

    # -- the contract ----------------------------------------------------------------------
    def test_the_adapter_is_found_by_its_short_name(self) -> None:
        cls = adapter_class(self.adapter)
        assert issubclass(cls, Adapter) and cls.name == self.adapter
        assert issubclass(cls.Options, AdapterOptions)
        assert self.adapter in plugins.available(plugins.ADAPTERS)

    def test_an_unknown_option_is_refused_when_the_configuration_loads(
        self, tmp_path: Path
    ) -> None:
        options = {**self.source_options(tmp_path), "no_such_option": 1}
        path = write_config(
            tmp_path / "bad.toml", self.adapter, options, self.mapping, tmp_path / "d"
        )
        with pytest.raises(ConfigError) as exc:
            load_config(path)
        assert any(
            "[sources.peer] options.no_such_option" in p and str(path) in p
            for p in exc.value.problems
        ), exc.value.problems

    def test_nothing_at_the_peer_means_nothing_pulled(
        self, node: NodeConfig, hub_store: Store
    ) -> None:
        report = sync_source(node, hub_store, "peer")
        assert report.ok and report.batches == [] and report.counts.records_in == 0

    def test_a_pull_that_is_not_acknowledged_offers_the_same_inputs_again(
        self, node: NodeConfig
    ) -> None:
        self.put(0)
        with open_adapter(node, "peer") as a:
            first = [(b.name, b.read()) for b in a.pull(None)]
        with open_adapter(node, "peer") as a:
            again = [(b.name, b.read()) for b in a.pull(None)]
        assert first and first == again

    def test_every_record_is_taken_exactly_once_across_runs(
        self, node: NodeConfig, hub_store: Store
    ) -> None:
        n0 = self.put(0)
        r = sync_source(node, hub_store, "peer")
        assert r.ok, r.as_dict()
        assert (r.counts.records_in, r.counts.accepted) == (n0, n0)
        assert r.cursor_after is not None
        again = sync_source(node, hub_store, "peer")
        assert again.ok and again.counts.records_in == 0, again.as_dict()
        n1 = self.put(1)
        r1 = sync_source(node, hub_store, "peer")
        assert r1.ok and r1.counts.records_in == n1 and r1.counts.duplicate == 0, r1.as_dict()
        assert self.versions(hub_store) == n0 + n1
