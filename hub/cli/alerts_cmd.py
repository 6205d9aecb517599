"""``hub alerts [list|check|seen]``: what the node found wrong with itself (hub.watch)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from hub.actions import cli_actor
from hub.cli.common import config_option, format_option, print_json, store_for
from hub.cli.groups import SuggestingGroup
from hub.cli.tables import Table


@click.group("alerts", cls=SuggestingGroup, invoke_without_command=True)
@click.pass_context
def alerts_group(ctx: click.Context) -> None:
    """Alerts: certificates near expiry, late or failing sources, paused schedules, the
    upstream unreachable, dead letters.  Alone: the open ones."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_cmd)


@alerts_group.command("list")
@click.option("--all", "everything", is_flag=True, help="Cleared alerts too, newest first.")
@config_option
@format_option
def list_cmd(
    everything: bool = False, config_path: Path | None = None, out_format: str = "table"
) -> None:
    """Open alerts, unseen and most severe first."""
    from hub.watch.alerts import listing  # noqa: PLC0415

    _, store = store_for(config_path)
    rows = listing(store, everything=everything)
    store.dispose()
    if out_format == "json":
        print_json(rows)
        return
    t = Table("id", "kind", "level", "about", "since", "seen", "message", title=_title(rows))
    for r in rows:
        seen = f"{r['seen_by']}" if r["seen_at"] else "no"
        if r["cleared_at"]:
            seen += " (cleared)"
        t.add_row(
            str(r["id"]),
            r["kind"],
            r["level"],
            r["subject"],
            f"{r['opened_at']:%Y-%m-%d %H:%M}",
            seen,
            r["message"],
        )
    Console().print(t)
    if not rows:
        click.echo("nothing to look at (`hub alerts check` looks again now)")


def _title(rows: list[dict[str, object]]) -> str:
    unseen = sum(1 for r in rows if not r["seen_at"] and not r["cleared_at"])
    return f"{len(rows)} alert(s), {unseen} unseen"


@alerts_group.command("check")
@config_option
def check_cmd(config_path: Path | None) -> None:
    """Look now (``hub serve`` does it every [alerts].check_seconds) and send new alerts to
    the webhook."""
    from hub.watch.alerts import check  # noqa: PLC0415
    from hub.watch.notify import notify  # noqa: PLC0415

    cfg, store = store_for(config_path)
    try:
        new = check(cfg, store)
        sent = notify(cfg, store)
    finally:
        store.dispose()
    click.echo(f"{len(new)} new alert(s)" + (f", {sent} sent to the webhook" if sent else ""))


@alerts_group.command("seen")
@click.argument("ids", nargs=-1, type=int, required=True)
@config_option
def seen_cmd(ids: tuple[int, ...], config_path: Path | None) -> None:
    """Mark alerts seen (audited); they stay open while their condition holds."""
    from hub.watch.alerts import mark_seen  # noqa: PLC0415

    _, store = store_for(config_path)
    try:
        n = mark_seen(store, list(ids), cli_actor())
    finally:
        store.dispose()
    click.echo(f"{n} alert(s) marked seen")
