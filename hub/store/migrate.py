"""Schema migrations with Alembic; the scripts ship inside the package (hub/store/migrations).

An empty database is brought to the newest revision when the store opens; a database at an
older revision is upgraded only when asked (``hub db upgrade``, or ``migrate=True``), so a
production node never changes its schema by surprise.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from hub.errors import ConfigError
from hub.store.engine import Store

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(store: Store) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = store.engine
    return cfg


def head_revision(store: Store) -> str | None:
    return ScriptDirectory.from_config(alembic_config(store)).get_current_head()


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(store: Store, revision: str = "head") -> None:
    command.upgrade(alembic_config(store), revision)


def ensure_schema(store: Store, *, migrate: bool) -> None:
    current, head = current_revision(store), head_revision(store)
    if current == head:
        return
    if current is None:
        with store.engine.connect() as conn:
            tables = inspect(conn).get_table_names()
        if tables and "alembic_version" not in tables:
            raise ConfigError(
                f"the store {store.url!r} holds tables ({', '.join(sorted(tables)[:5])}) but "
                "no hub schema version; expected an empty database or a hub store"
            )
        upgrade(store)
        return
    if not migrate:
        raise ConfigError(
            f"the store is at schema revision {current}, this hub expects {head}; "
            "run `hub db upgrade` first"
        )
    upgrade(store)
