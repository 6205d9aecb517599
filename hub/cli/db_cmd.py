"""``hub db upgrade|status|check`` and ``hub audit verify|list``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from hub.cli.common import config_option, fail, format_option, load
from hub.cli.groups import SuggestingGroup
from hub.cli.pages import list_page, window_options
from hub.errors import HubError
from hub.query import fates
from hub.store import audit
from hub.store.engine import make_engine, open_store
from hub.store.migrate import current_revision, head_revision


@click.group("db", cls=SuggestingGroup)
def db_group() -> None:
    """The store's schema (Alembic migrations) and its soundness (check)."""


@db_group.command("upgrade")
@config_option
def upgrade_cmd(config_path: Path | None) -> None:
    """Bring the store's schema to this hub's newest revision."""
    cfg = load(config_path)
    try:
        store = open_store(cfg, migrate=True)
    except HubError as exc:
        fail(exc)
    Console().print(f"{store.url}: schema at revision {current_revision(store)}", markup=False)
    store.dispose()


@db_group.command("status")
@config_option
def status_cmd(config_path: Path | None) -> None:
    """Show the store URL and its schema revision against this hub's."""
    from hub.package.node import at_rest  # noqa: PLC0415
    from hub.store.blobs import RawStore  # noqa: PLC0415
    from hub.store.engine import Store  # noqa: PLC0415

    cfg = load(config_path)
    store = Store(
        make_engine(cfg.database_url), RawStore(cfg.raw_dir, at_rest(cfg)), cfg.database_url
    )
    cur, head = current_revision(store), head_revision(store)
    Console().print(
        f"store {cfg.database_url}\nschema {cur or '(empty)'}; this hub {head}", markup=False
    )
    store.dispose()
    sys.exit(0 if cur == head else 1)


@db_group.command("check")
@click.option("--deep", is_flag=True, help="Also read every raw object and check its hash.")
@config_option
@format_option
def check_cmd(deep: bool, config_path: Path | None, out_format: str) -> None:
    """Is the store sound (after a crash, a restore, a full disk)?  The database's
    integrity, current records on their versions, the audit chain, the raw store.

    Exit status: 0 sound, 1 something failed (each failure says what to do)."""
    from hub.cli.common import print_json  # noqa: PLC0415
    from hub.cli.tables import Table  # noqa: PLC0415
    from hub.store.check import check_store  # noqa: PLC0415

    cfg = load(config_path)
    try:
        store = open_store(cfg, migrate=False)
        checks = check_store(store, deep=deep)
    except HubError as exc:
        fail(exc)
    store.dispose()
    sound = all(c.ok for c in checks)
    if out_format == "json":
        print_json({"sound": sound, "checks": [c.__dict__ for c in checks]})
    else:
        t = Table("check", "", "what was found", "what to do", title=f"store {cfg.database_url}")
        for c in checks:
            t.add_row(c.name, "ok" if c.ok else "FAILED", c.detail, c.hint)
        Console().print(t)
    sys.exit(0 if sound else 1)


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
        f"[red]audit log broken at entry {rep.broken_at}[/red]: {escape(str(rep.reason))}"
    )
    sys.exit(1)


@audit_group.command("list")
@click.option("--action", default=None, help="Only this action (e.g. conflict.resolve).")
@window_options
@config_option
@format_option
def list_cmd(action: str | None, config_path: Path | None, out_format: str, **kw: Any) -> None:
    """Audit entries, newest first: when, who, what, on what, and the details."""
    list_page(
        config_path,
        out_format,
        kw,
        lambda conn, w: fates.audit_entries(conn, w, action),
        "audit log",
        [
            ("id", "id"),
            ("at", "at"),
            ("actor", "actor"),
            ("action", "action"),
            ("subject", "subject"),
            ("detail", lambda r: r["detail"][:200]),
        ],
        "hub audit list",
    )
