"""sql: read a county system's own database incrementally, through SQLAlchemy.

Each configured table is read in pages ordered by (update time, primary key), after the
position in the cursor: ``updated > t OR (updated = t AND key > k)``.  Rows that share an
update time are therefore never skipped or read twice, however the pages fall.  A page is
one batch: its rows as JSONL (the raw evidence, mapped by the source's mapping) and the
cursor after its last row, committed with its data.  A connection lost mid-read is retried
on a fresh connection from the same position, a bounded number of times.

Values become JSON: date-times as ``YYYY-MM-DD HH:MM:SS``, dates as ``YYYY-MM-DD``, decimals
as exact text, bytes decoded with ``bytes_encoding`` (GBK-era columns declared as binary).
A row whose update time is set *earlier* than the cursor after it was passed (a long
transaction committing late, a clock set back, a clerk back-dating a correction) is seen
when ``lookback_seconds`` reaches back to it: each run starts that far before its cursor, so
the rows of that window are read again (the hub answers those it has as duplicates: no
new version).  ``settle_seconds`` leaves the newest rows for the next run instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from pydantic import Field, field_validator
from sqlalchemy import MetaData, Table, and_, create_engine, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import DBAPIError, NoSuchTableError, OperationalError, SQLAlchemyError

from hub.config import resolve_secret
from hub.errors import ConfigError, FatalError, RetryableError
from hub.ingest.outcome import Verdict
from hub.interfaces import Adapter, AdapterContext, AdapterOptions, Batch


class TableSpec(AdapterOptions):
    table: str  # the table (or view) in the county's database
    name: str = ""  # the batch name mappings match on (default: the table's name)
    updated: str  # its update-time column
    key: str  # its primary key (the tie-break among equal update times)


class SqlOptions(AdapterOptions):
    url: str  # SQLAlchemy URL without the password, e.g. mysql+pymysql://hub@10.1.2.3/xm
    password: str = ""  # a $env:NAME or $file:PATH reference
    tables: list[TableSpec] = Field(min_length=1)
    page_rows: int = Field(default=1000, ge=1, le=100_000)
    retries: int = Field(default=3, ge=0, le=20)
    retry_wait_seconds: float = Field(default=1.0, ge=0)
    connect_timeout: int = Field(default=10, ge=1)
    read_timeout: int = Field(default=120, ge=1)
    settle_seconds: float = Field(default=0, ge=0)  # leave rows newer than this for next run
    # each run re-reads this far before its cursor: back-dated rows are seen (re-read rows
    # are duplicates at the hub); needs a date-time update column
    lookback_seconds: float = Field(default=0, ge=0)
    # a table in the county's database where the hub writes each record's verdict (the
    # account needs INSERT on it; docs/adapters.md has its columns); empty: none
    receipt_table: str = ""
    bytes_encoding: str = "gbk"

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        try:
            u = make_url(v)
        except Exception as exc:
            raise ValueError(f"not a database URL: {exc}") from None
        if u.password:
            raise ValueError("put the password in `password` as a $env:/$file: reference")
        return v


RECEIPT_COLUMNS = (
    "batch",
    "record",
    "dataset",
    "business_key",
    "outcome",
    "version",
    "rule",
    "field",
    "value",
    "message",
    "received_at",
)


def json_value(v: Any, enc: str) -> Any:
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v).decode(enc, "replace")
    return v


def _position(v: Any) -> Any:
    return v.isoformat(sep=" ") if isinstance(v, datetime) else json_value(v, "utf-8")


class SqlAdapter(Adapter):
    name = "sql"
    Options = SqlOptions
    ordered = True
    options: SqlOptions

    def __init__(self, options: AdapterOptions, context: AdapterContext) -> None:
        super().__init__(options, context)
        self._engine: Engine | None = None
        self._tables: dict[str, Table] = {}

    # -- connections ---------------------------------------------------------------------
    def engine(self) -> Engine:
        if self._engine is None:
            url = make_url(self.options.url)
            if self.options.password:
                where = f"[sources.{self.context.source}] options.password"
                url = url.set(password=resolve_secret(self.options.password, where))
            args: dict[str, Any] = {}
            if url.get_backend_name() in ("mysql", "mariadb"):
                args = {
                    "connect_timeout": self.options.connect_timeout,
                    "read_timeout": self.options.read_timeout,
                    "charset": "utf8mb4",
                }
            elif url.get_backend_name() == "postgresql":
                args = {"connect_timeout": self.options.connect_timeout}
            self._engine = create_engine(url, connect_args=args, pool_pre_ping=False)
        return self._engine

    def _table(self, conn: Connection, spec: TableSpec) -> Table:
        if spec.table not in self._tables:
            try:
                t = Table(spec.table, MetaData(), autoload_with=conn)
            except NoSuchTableError:
                raise ConfigError(
                    f"[sources.{self.context.source}] table {spec.table!r} is not in the database"
                ) from None
            for col in (spec.updated, spec.key):
                if col not in t.c:
                    raise ConfigError(
                        f"[sources.{self.context.source}] table {spec.table!r} has no column "
                        f"{col!r} (it has {', '.join(t.c.keys())})"
                    )
            self._tables[spec.table] = t
        return self._tables[spec.table]

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- pulling -------------------------------------------------------------------------
    def pull(self, cursor: str | None) -> Iterator[Batch]:
        pos: dict[str, list[Any]] = orjson.loads(cursor) if cursor else {}
        conn: Connection | None = None
        try:
            for spec in self.options.tables:
                name = spec.name or spec.table
                after = self._looking_back(pos.get(spec.table))
                while True:
                    rows, conn = self._page(conn, spec, after)
                    if not rows:
                        break
                    last = rows[-1]
                    pos[spec.table] = after = [
                        _position(last[spec.updated]),
                        _position(last[spec.key]),
                    ]
                    enc = self.options.bytes_encoding
                    data = b"".join(
                        orjson.dumps({k: json_value(v, enc) for k, v in r.items()}) + b"\n"
                        for r in rows
                    )
                    first_key = _position(rows[0][spec.key])
                    yield Batch(
                        name=name,
                        origin=f"{self._where()}/{spec.table}?from={first_key}&rows={len(rows)}",
                        data=data,
                        fmt="jsonl",
                        cursor=orjson.dumps(pos, option=orjson.OPT_SORT_KEYS).decode(),
                        size=len(data),
                    )
                    if len(rows) < self.options.page_rows:
                        break
        finally:
            if conn is not None:
                conn.close()

    def _looking_back(self, after: list[Any] | None) -> list[Any] | None:
        """Where this run starts: the cursor, or ``lookback_seconds`` before it (from the
        start of that second, every key: the tie-break then lets nothing through twice)."""
        back = self.options.lookback_seconds
        if after is None or not back:
            return after
        try:
            t = datetime.fromisoformat(str(after[0]))
        except ValueError:
            raise ConfigError(
                f"[sources.{self.context.source}] lookback_seconds needs a date-time update "
                f"column; the cursor holds {after[0]!r}"
            ) from None
        return [_position(t - timedelta(seconds=back)), None]

    def verdicts(self, batch: Batch, verdicts: list[Verdict]) -> str | None:
        """Each record's verdict as a row of ``receipt_table``, so the county system sees
        what became of its rows (accepted as version n, or rejected with rule, field and
        value) in its own database.  The batch is committed already: a failure here is
        reported in the sync's output and leaves the verdicts in the hub's store."""
        name = self.options.receipt_table
        if not name or not verdicts:
            return None
        now = datetime.now()
        rows = []
        for v in verdicts:
            row = v.as_row()
            row["business_key"] = row.pop("key")
            rows.append({"batch": batch.origin[:500], **row, "received_at": now})
        try:
            with self.engine().begin() as conn:
                t = self._receipts(conn, name)
                conn.execute(t.insert(), rows)
        except (SQLAlchemyError, ConfigError) as exc:
            return f"not written to {name}: {_short(exc)}"
        return f"{self._where()}/{name} ({len(rows)} rows)"

    def _receipts(self, conn: Connection, name: str) -> Table:
        if name not in self._tables:
            try:
                t = Table(name, MetaData(), autoload_with=conn)
            except NoSuchTableError:
                raise ConfigError(f"receipt_table {name!r} is not in the database") from None
            missing = [c for c in RECEIPT_COLUMNS if c not in t.c]
            if missing:
                raise ConfigError(f"receipt_table {name!r} lacks {', '.join(missing)}")
            self._tables[name] = t
        return self._tables[name]

    def _where(self) -> str:
        u = make_url(self.options.url)
        return f"{u.get_backend_name()}://{u.host or 'localhost'}/{u.database or ''}"

    def _page(
        self, conn: Connection | None, spec: TableSpec, after: list[Any] | None
    ) -> tuple[list[dict[str, Any]], Connection]:
        """One page after ``after``; on a lost connection, a fresh one from the same place."""
        attempt = 0
        while True:
            try:
                if conn is None:
                    conn = self.engine().connect()
                t = self._table(conn, spec)
                upd, key = t.c[spec.updated], t.c[spec.key]
                q = select(t).order_by(upd, key).limit(self.options.page_rows)
                if after is not None and after[1] is None:  # looking back: from that time on
                    q = q.where(upd >= after[0])
                elif after is not None:
                    q = q.where(or_(upd > after[0], and_(upd == after[0], key > after[1])))
                if self.options.settle_seconds:
                    q = q.where(
                        upd <= datetime.now() - timedelta(seconds=self.options.settle_seconds)
                    )
                rows = [{str(k): v for k, v in r._asdict().items()} for r in conn.execute(q)]
                conn.rollback()  # end the read transaction: the next page sees new commits
                return rows, conn
            except DBAPIError as exc:
                if conn is not None:
                    conn.invalidate()
                    conn.close()
                    conn = None
                if not _transient(exc):
                    raise FatalError(f"{self._where()}: {_short(exc)}") from exc
                attempt += 1
                if attempt > self.options.retries:
                    raise RetryableError(
                        f"{self._where()}: reading {spec.table!r} failed {attempt} times; "
                        f"last: {_short(exc)}"
                    ) from exc
                time.sleep(self.options.retry_wait_seconds * 2 ** (attempt - 1))
            except SQLAlchemyError as exc:
                raise FatalError(f"{self._where()}: {_short(exc)}") from exc


def _transient(exc: DBAPIError) -> bool:
    """Lost or refused connections are worth a retry; SQL and permission errors are not."""
    return bool(exc.connection_invalidated) or isinstance(exc, OperationalError)


def _short(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).splitlines()[0][:300]
