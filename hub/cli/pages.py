"""Lists as pages: the options every list command shares, and the table that says what it
left out and how to see the rest."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.text import Text
from sqlalchemy import Connection

from hub.cli.common import print_json, store_for
from hub.cli.tables import Table
from hub.query.fates import Page, Window

F = TypeVar("F", bound=Callable[..., Any])
_RELATIVE = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_when(value: str | None) -> datetime | None:
    """``2026-12-01``, ``2026-12-01T08:30`` (local time unless it names a zone), or a time
    ago: ``90m``, ``24h``, ``7d``."""
    if not value:
        return None
    m = _RELATIVE.match(value.strip())
    if m:
        return datetime.now(UTC) - timedelta(**{_UNITS[m[2]]: int(m[1])})
    try:
        ts = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not a time; expected 2026-12-01, 2026-12-01T08:30, 90m, 24h or 7d"
        ) from exc
    return ts if ts.tzinfo else ts.astimezone()


def window_options(fn: F) -> F:
    """--source, --since, --until, --limit, --before: become ``window: Window``."""
    opts = [
        click.option("--source", default=None, help="Only this source."),
        click.option("--since", default=None, help="Arrived at or after (2026-12-01, 24h, 7d)."),
        click.option("--until", default=None, help="Arrived before (same forms as --since)."),
        click.option(
            "--limit",
            type=click.IntRange(1, 10_000),
            default=50,
            show_default=True,
            help="Rows per page.",
        ),
        click.option("--before", type=int, default=None, help="The next page: ids below this."),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


def window(kw: dict[str, Any]) -> Window:
    """Pop the window options out of a command's keyword arguments."""
    return Window(
        source=kw.pop("source"),
        since=parse_when(kw.pop("since")),
        until=parse_when(kw.pop("until")),
        limit=kw.pop("limit"),
        before=kw.pop("before"),
    )


def cell(v: Any, width: int | None = None) -> Text:
    """A table cell from data: never read as markup; long values cut with a visible mark."""
    if v is None:
        return Text("")
    if isinstance(v, datetime):
        return Text(v.astimezone().strftime("%Y-%m-%d %H:%M:%S"))
    s = str(v)
    if width is not None and len(s) > width:
        s = s[: width - 1] + "…"
    return Text(s)


def print_page(
    page: Page,
    out_format: str,
    title: str,
    columns: Sequence[tuple[str, str | Callable[[dict[str, Any]], Any]]],
    again: str,
    w: Window | None = None,
) -> None:
    """The page as JSON (rows and next_before) or as a table, then how to see more."""
    if out_format == "json":
        print_json(page.as_dict())
        return
    out = Console()
    t = Table(
        title=f"{title}: {len(page.rows)} shown" + (", more exist" if page.next_before else "")
    )
    for name, _ in columns:
        t.add_column(name, overflow="fold")
    for r in page.rows:
        t.add_row(*[cell(get(r) if callable(get) else r.get(get)) for _, get in columns])
    out.print(t)
    if page.next_before:
        out.print(Text(f"next page: {again} --before {page.next_before}"))
    elif not page.rows and w is not None and (w.source or w.since or w.until or w.before):
        out.print(Text("nothing matches these filters: widen --since/--until or drop --source"))


def list_page(
    config_path: Path | None,
    out_format: str,
    kw: dict[str, Any],
    query: Callable[[Connection, Window], Page],
    title: str,
    columns: Sequence[tuple[str, str | Callable[[dict[str, Any]], Any]]],
    again: str,
) -> None:
    """A list command's whole work: its window from the options, one read, one page."""
    w = window(kw)
    _, store = store_for(config_path)
    try:
        with store.read() as conn:
            page = query(conn, w)
    finally:
        store.dispose()
    print_page(page, out_format, title, columns, again, w)
