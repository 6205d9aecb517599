"""``hub db upgrade|status`` and ``hub audit verify``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from hub.cli.common import config_option, fail, load
from hub.cli.groups import SuggestingGroup
from hub.errors import HubError
from hub.store import audit
from hub.store.engine import make_engine, open_store
from hub.store.migrate import current_revision, head_revision


@click.group("db", cls=SuggestingGroup)
def db_group() -> None:
    """The store's schema (Alembic migrations)."""


@db_group.command("upgrade")
@config_option
def upgrade_cmd(config_path: Path | None) -> None:
    """Bring the store's schema to this hub's newest revision."""
    cfg = load(config_path)
    try:
        store = open_store(cfg, migrate=True)
    except HubError as exc:
        fail(exc)
    Console().print(f"{store.url}: schema at revision {current_revision(store)}")
    store.dispose()


@db_group.command("status")
@config_option
def status_cmd(config_path: Path | None) -> None:
    """Show the store URL and its schema revision against this hub's."""
    from hub.store.blobs import RawStore  # noqa: PLC0415
    from hub.store.engine import Store  # noqa: PLC0415

    cfg = load(config_path)
    store = Store(make_engine(cfg.database_url), RawStore(cfg.raw_dir), cfg.database_url)
    cur, head = current_revision(store), head_revision(store)
    Console().print(f"store {cfg.database_url}\nschema {cur or '(empty)'}; this hub {head}")
    store.dispose()
    sys.exit(0 if cur == head else 1)


@click.group("audit", cls=SuggestingGroup)
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@config_option
def verify_cmd(config_path: Path | None) -> None:
    """Recompute the audit chain; exit 1 at the first entry that does not hold."""
    cfg = load(config_path)
    store = open_store(cfg, migrate=False)
    with store.read() as conn:
        rep = audit.verify(conn)
    store.dispose()
    if rep.broken_at is None:
        Console().print(f"audit log intact: {rep.entries} entries")
        return
    Console(stderr=True).print(
        f"[red]audit log broken at entry {rep.broken_at}[/red]: {rep.reason}"
    )
    sys.exit(1)
