"""``hub schedule list|pause|resume|events`` and ``hub run SCHEDULE``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from hub.actions import cli_actor
from hub.cli.common import config_option, fail, format_option, print_json, store_for
from hub.cli.groups import SuggestingGroup
from hub.cli.pages import cell
from hub.cli.tables import Table
from hub.config import NodeConfig
from hub.errors import UsageError
from hub.suggest import did_you_mean

_COLOURS = {"ok": "green", "new": "cyan", "late": "yellow", "failing": "red", "paused": "red"}


def _name(cfg: NodeConfig, name: str) -> str:
    if name not in cfg.schedules:
        fail(UsageError(did_you_mean(name, cfg.schedules, "schedule") + " ([schedules.NAME])"))
    return name


@click.group("schedule", cls=SuggestingGroup)
def schedule_group() -> None:
    """Scheduled syncs: what runs when, how fresh each source is, pause and resume."""


@schedule_group.command("list")
@config_option
@format_option
def list_cmd(config_path: Path | None, out_format: str) -> None:
    """Every schedule: when it runs, last run and success, freshness (ok, new, late,
    failing: from the schedule, not from the runs), failures in a row, paused or not."""
    from hub.schedule.scheduler import statuses  # noqa: PLC0415

    cfg, store = store_for(config_path)
    rows = statuses(cfg, store)
    store.dispose()
    if out_format == "json":
        print_json([asdict(r) for r in rows])
        return
    t = Table(title=f"{len(rows)} schedule(s)")
    for c in ("schedule", "source", "when", "next run", "last run", "last success", "fresh"):
        t.add_column(c)
    t.add_column("failures", justify="right")
    for r in rows:
        fresh = Text(r.freshness, style=_COLOURS.get(r.freshness, ""))
        if r.paused and r.paused_reason:
            fresh.append(f": {r.paused_reason}")
        t.add_row(
            r.name,
            r.source,
            r.when,
            cell(r.next_run),
            cell(r.last_run),
            cell(r.last_success),
            fresh,
            str(r.failures),
        )
    Console().print(t)
    if not rows:
        Console().print("no [schedules.NAME] in the configuration (docs/operations.md)")


def _pause(name: str, paused: bool, reason: str, config_path: Path | None) -> None:
    from hub.schedule import ledger  # noqa: PLC0415

    cfg, store = store_for(config_path)
    _name(cfg, name)
    ledger.ensure(store, list(cfg.schedules), datetime.now(UTC))
    ledger.pause(store, name, paused, reason, cli_actor())
    store.dispose()
    click.echo(f"schedule {name} {'paused' if paused else 'resumed'}")


@schedule_group.command("pause")
@click.argument("name")
@click.option("--reason", default="paused by hand", help="Why (kept in the audit log).")
@config_option
def pause_cmd(name: str, reason: str, config_path: Path | None) -> None:
    """Stop a schedule's ticks (each is recorded as skipped) until it is resumed."""
    _pause(name, True, reason, config_path)


@schedule_group.command("resume")
@click.argument("name")
@config_option
def resume_cmd(name: str, config_path: Path | None) -> None:
    """Let a paused schedule run again (its failures in a row start from zero)."""
    _pause(name, False, "", config_path)


@schedule_group.command("events")
@click.argument("name", required=False)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@config_option
@format_option
def events_cmd(name: str | None, limit: int, config_path: Path | None, out_format: str) -> None:
    """What the schedules did, newest first: runs, failures, retries, missed and skipped
    ticks, pauses."""
    from hub.schedule import ledger  # noqa: PLC0415

    cfg, store = store_for(config_path)
    if name:
        _name(cfg, name)
    with store.read() as conn:
        rows = ledger.events(conn, name, limit)
    store.dispose()
    if out_format == "json":
        print_json(rows)
        return
    t = Table(title=f"schedule events ({len(rows)} newest)")
    for c in ("id", "at", "schedule", "event", "tick", "detail"):
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(str(r["id"]), cell(r["at"]), r["name"], r["kind"], cell(r["tick"]), r["detail"])
    Console().print(t)


@click.command("run")
@click.argument("name")
@config_option
def run_cmd(name: str, config_path: Path | None) -> None:
    """Run a schedule's sync now (also when paused); waits if it is running elsewhere.

    Exit status: 0 done, 1 the sync failed, 2 it is running in another process."""
    from hub.schedule import ledger  # noqa: PLC0415
    from hub.schedule.runner import tick  # noqa: PLC0415

    cfg, store = store_for(config_path)
    _name(cfg, name)
    ledger.ensure(store, list(cfg.schedules), datetime.now(UTC))
    outcome = tick(cfg, store, name, f"{cli_actor()}:{ledger.owner()}", by_hand=True)
    store.dispose()
    click.echo(f"schedule {name}: {outcome} (hub schedule events {name})")
    raise SystemExit({"done": 0, "failed": 1}.get(outcome, 2))
