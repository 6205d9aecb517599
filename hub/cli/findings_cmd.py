"""``hub findings [list|check|review]``: what the supervision rule packs found (hub.supervise)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from hub.actions import cli_actor
from hub.cli.common import config_option, fail, format_option, store_for
from hub.cli.groups import SuggestingGroup
from hub.cli.pages import list_page, window_options
from hub.errors import UsageError


@click.group("findings", cls=SuggestingGroup, invoke_without_command=True)
@click.option("--rule", default=None, help="Only this rule (e.g. TL-BID-PERIOD).")
@click.option(
    "--status",
    type=click.Choice(["open", "reviewed", "cleared", "all"]),
    default="open",
    show_default=True,
)
@window_options
@config_option
@format_option
@click.pass_context
def findings_group(
    ctx: click.Context,
    /,
    rule: str | None,
    status: str,
    config_path: Path | None,
    out_format: str,
    **kw: Any,
) -> None:
    """Records that broke a supervision rule (schemas/supervision/*.toml: statutory
    timelines), newest first, with the law, the values and why.  `hub findings check`
    evaluates what arrived since the last check; `hub serve` does it by itself."""
    if ctx.invoked_subcommand is not None:
        return
    from hub.supervise.findings import listing  # noqa: PLC0415

    list_page(
        config_path,
        out_format,
        kw,
        lambda conn, w: listing(conn, w, rule, None if status == "all" else status),
        "findings",
        [
            ("id", "id"),
            ("found", "found_at"),
            ("rule", "rule"),
            ("severity", "severity"),
            ("source", "source"),
            ("record", lambda r: f"{r['dataset']} {r['business_key']}"),
            ("why", "message"),
            (
                "status",
                lambda r: r["status"] + (f" ({r['reviewed_by']})" if r["reviewed_by"] else ""),
            ),
        ],
        "hub findings",
    )


@findings_group.command("check")
@click.option("--all", "full", is_flag=True, help="Evaluate every record, not only new ones.")
@config_option
def check_cmd(full: bool, config_path: Path | None) -> None:
    """Evaluate the rule packs against what arrived since the last check."""
    from hub.errors import ConfigError  # noqa: PLC0415
    from hub.supervise.findings import check  # noqa: PLC0415

    _, store = store_for(config_path)
    try:
        got = check(store, full=full)
    except ConfigError as exc:
        fail(exc)
    finally:
        store.dispose()
    click.echo(
        f"{got.looked} check(s) on the records of {got.runs} run(s): {got.opened} new "
        f"finding(s), {got.cleared} cleared"
    )


@findings_group.command("review")
@click.argument("finding_id", type=int)
@click.option("--note", required=True, help="What the review found (kept, audited).")
@config_option
def review_cmd(finding_id: int, note: str, config_path: Path | None) -> None:
    """Mark a finding reviewed, with a note (audited)."""
    from hub.supervise.findings import review  # noqa: PLC0415

    _, store = store_for(config_path)
    try:
        review(store, finding_id, note, cli_actor())
    except UsageError as exc:
        fail(exc)
    finally:
        store.dispose()
    click.echo(f"finding {finding_id} reviewed")
