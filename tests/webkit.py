"""The hub's app on a real uvicorn server on a free loopback port, for tests over HTTP."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

from hub.config import NodeConfig
from hub.service.app import create_app
from hub.service.server import server as server_for
from hub.store.engine import Store, open_store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(node: NodeConfig, store: Store | None = None) -> Iterator[tuple[str, Store]]:
    """(base URL, store) while the node's app serves; the store is disposed after if made here."""
    db = store or open_store(node)
    port = free_port()
    srv = server_for(create_app(node, db), "127.0.0.1", port, 2.0, log_level="warning")
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", db
    finally:
        srv.should_exit = True
        t.join(10)
        if store is None:
            db.dispose()
