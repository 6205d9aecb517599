"""Database engines: SQLite (WAL, busy timeout, writers take BEGIN IMMEDIATE) or PostgreSQL.

``Store.write()`` opens a writing transaction: on SQLite it starts with ``BEGIN IMMEDIATE``
so that two writers never deadlock on a lock upgrade; readers use ``Store.read()`` (a plain
deferred ``BEGIN``).  PostgreSQL URLs are driven by psycopg 3.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from hub.config import NodeConfig
from hub.errors import ConfigError, RetryableError
from hub.store.blobs import RawStore
from hub.store.checkpoint import BACKSTOP_PAGES, Checkpointer

SQLITE_BUSY_MS = 30_000
_WRITE = "hub_write"


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 here."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps order
        cur.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")  # see hub.store.checkpoint
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def utc(ts: datetime | None) -> datetime | None:
    """A time read back from the store, always aware: SQLite hands back naive datetimes,
    which are UTC here."""
    return ts.replace(tzinfo=UTC) if ts is not None and ts.tzinfo is None else ts


def make_engine(url: str, echo: bool = False) -> Engine:
    url = normalise_url(url)
    try:
        u = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"store URL {url!r} is not a database URL: {exc}") from exc
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo)
        _sqlite_events(engine)
        return engine
    if u.get_backend_name() == "postgresql":
        return create_engine(url, echo=echo, pool_pre_ping=True)
    raise ConfigError(
        f"store URL {url!r}: backend {u.get_backend_name()!r} is not supported; "
        "expected sqlite:///PATH or postgresql://USER@HOST/DB"
    )


@dataclass
class Store:
    engine: Engine
    raw: RawStore
    url: str
    checkpointer: Checkpointer | None = None  # SQLite files: WAL checkpoints in a thread

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One writing transaction; commits on success, rolls back on error."""
        if self.checkpointer is not None:
            self.checkpointer.ensure_running()
        try:
            with self.engine.connect().execution_options(**{_WRITE: True}) as conn, conn.begin():
                yield conn
        except OperationalError as exc:
            if "locked" in str(exc) or "could not serialize" in str(exc):
                raise RetryableError(f"the store is busy: {exc.orig}") from exc
            raise

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()


def open_store(cfg: NodeConfig, *, migrate: bool = True) -> Store:
    """Open the configured store, bringing its schema to the newest migration if asked."""
    from hub.package.node import at_rest  # noqa: PLC0415  (keys load with a store)
    from hub.store.migrate import ensure_schema  # noqa: PLC0415  (alembic loads lazily)

    engine = make_engine(cfg.database_url, cfg.store.echo)
    db = engine.url.database if engine.dialect.name == "sqlite" else None
    ckpt = Checkpointer(db) if db and db != ":memory:" else None
    store = Store(engine, RawStore(cfg.raw_dir, at_rest(cfg)), cfg.database_url, ckpt)
    ensure_schema(store, migrate=migrate)
    return store
