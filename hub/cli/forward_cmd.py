"""``hub package push|deliveries|redrive``: packages to the platform above, dead letters;
``hub forward [run]``: the targets accepted records are forwarded to."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from sqlalchemy import select

from hub.cli.common import config_option, fail, format_option, print_json, store_for
from hub.cli.groups import SuggestingGroup
from hub.cli.tables import Table
from hub.errors import HubError, UsageError
from hub.forward import D, DeliveryResult, Pass, push_package, redrive
from hub.suggest import did_you_mean


def _report(r: DeliveryResult, out_format: str, receipt_to: Path | None) -> None:
    if receipt_to is not None and r.receipt:
        receipt_to.write_bytes(r.receipt)
    if out_format == "json":
        print_json(r.as_dict())
    else:
        colour = {"delivered": "green", "already": "green", "refused": "red"}.get(r.status, "red")
        Console().print(
            f"package {r.package_id}: [{colour}]{r.status}[/{colour}] after {r.attempts} "
            f"attempt(s), delivery {r.id}" + (f"; {escape(r.error)}" if r.error else ""),
            highlight=False,
        )
    sys.exit(0 if r.status in ("delivered", "already") else 1)


@click.command("push")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option
@format_option
def package_push(file: Path, config_path: Path | None, out_format: str) -> None:
    """Push a signed package to [upstream]; keep its receipt (FILE.upstream-receipt).

    Retries with backoff as the upstream adapter's options say; when they run out the
    package becomes a dead-letter entry (`hub package deliveries --dead`).  Exit status: 0
    delivered, 1 refused by the peer or dead-lettered, 2 configuration or usage error.
    """
    cfg, store = store_for(config_path)
    try:
        r = push_package(cfg, store, file.read_bytes(), file.name)
    except HubError as exc:
        fail(exc)
    finally:
        store.dispose()
    _report(r, out_format, file.with_name(file.name + ".upstream-receipt"))


@click.command("redrive")
@click.argument("delivery", type=int)
@config_option
@format_option
def package_redrive(delivery: int, config_path: Path | None, out_format: str) -> None:
    """Send a dead-lettered package again."""
    cfg, store = store_for(config_path)
    try:
        r = redrive(cfg, store, delivery)
    except HubError as exc:
        fail(exc)
    finally:
        store.dispose()
    _report(r, out_format, None)


@click.command("deliveries")
@click.option("--dead", is_flag=True, help="Only dead-letter entries (retries ran out).")
@config_option
@format_option
def package_deliveries(dead: bool, config_path: Path | None, out_format: str) -> None:
    """Packages pushed upstream: delivered, refused, or dead (with the last error)."""
    _cfg, store = store_for(config_path)
    try:
        with store.read() as conn:
            q = select(D).order_by(D.c.id)
            if dead:
                q = q.where(D.c.status == "dead")
            rows = list(conn.execute(q))
    finally:
        store.dispose()
    if out_format == "json":
        print_json(
            [
                {
                    "delivery": r.id,
                    "package_id": r.package_id,
                    "peer": r.peer,
                    "status": r.status,
                    "attempts": r.attempts,
                    "last_error": r.last_error,
                    "updated_at": r.updated_at.isoformat(),
                }
                for r in rows
            ]
        )
        return
    t = Table(title="deliveries upstream" + (" (dead letters)" if dead else ""))
    for col in ("id", "package", "peer", "status", "attempts", "last error"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r.id), r.package_id, r.peer, r.status, str(r.attempts), r.last_error or "")
    Console().print(t)


@click.group("forward", cls=SuggestingGroup, invoke_without_command=True)
@config_option
@format_option
@click.pass_context
def forward_group(ctx: click.Context, /, config_path: Path | None, out_format: str) -> None:
    """Forwarding targets ([forward.NAME]): breaker, runs waiting, packages, verdicts.
    `hub forward run` sends what was accepted since the last pass; `hub serve` does it
    by itself every target's `every`."""
    if ctx.invoked_subcommand is not None:
        return
    from hub.forward.status import targets  # noqa: PLC0415

    cfg, store = store_for(config_path)
    try:
        rows = targets(cfg, store)
    finally:
        store.dispose()
    if out_format == "json":
        print_json(rows)
        return
    if not rows:
        Console().print("no [forward.NAME] target is configured: this node forwards to nobody")
        return
    t = Table(title="forwarding targets")
    for col in (
        "target",
        "receiver",
        "breaker",
        "runs waiting",
        "packages",
        "records",
        "last error",
    ):
        t.add_column(col)
    for r in rows:
        t.add_row(
            r["target"],
            r["receiver"],
            r["breaker"] + (f" until {r['open_until']}" if r["open_until"] else ""),
            str(r["runs_waiting"]),
            _counts(r["packages"]),
            _counts(r["records"]),
            r["last_error"] or "",
        )
    Console().print(t)


def _counts(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(d.items())) or "-"


@forward_group.command("run")
@click.argument("names", nargs=-1, metavar="[TARGET]...")
@click.option("--watch", is_flag=True, help="Keep going: a pass per target every its `every`.")
@config_option
@format_option
def forward_run(
    names: tuple[str, ...], watch: bool, config_path: Path | None, out_format: str
) -> None:
    """Send the records accepted since the last pass to TARGET (default: every target).

    Exit status: 0 every pass done (or nothing to do), 1 a target's breaker is open or a
    package could not be delivered, 2 configuration or usage error."""
    from hub.forward import forward  # noqa: PLC0415
    from hub.sections import every_seconds  # noqa: PLC0415

    cfg, store = store_for(config_path)
    chosen = list(names) or sorted(cfg.forward)
    if not chosen:
        fail(UsageError("no [forward.NAME] target is configured; see docs/configuration.md"))
    due = dict.fromkeys(chosen, 0.0)
    bad = False
    try:
        while True:
            for name in chosen:
                if due[name] > time.monotonic():
                    continue
                p = forward(cfg, store, name)
                due[name] = time.monotonic() + every_seconds(cfg.forward[name].every)
                bad = bad or p.status in ("open", "stopped")
                _print_pass(p, out_format)
            if not watch:
                break
            time.sleep(max(0.2, min(due.values()) - time.monotonic()))
    except HubError as exc:
        fail(exc)
    except KeyboardInterrupt:
        pass
    finally:
        store.dispose()
    sys.exit(1 if bad else 0)


def _print_pass(p: Pass, out_format: str) -> None:
    if out_format == "json":
        print_json(p.as_dict())
        return
    colour = {"done": "green", "busy": "yellow"}.get(p.status, "red")
    ops = _counts(p.ops) if p.ops else "nothing new"
    Console().print(
        f"{p.target}: [{colour}]{p.status}[/{colour}], {p.runs} run(s) looked at, {ops}"
        + (f"; {escape(p.error)}" if p.error else ""),
        highlight=False,
    )
    for s in p.packages:
        c = "green" if s.status == "delivered" else "red"
        Console().print(
            f"  {s.package_id}: [{c}]{s.status}[/{c}], {s.records} record(s)"
            + (f"; the target: {_counts(s.verdicts)}" if s.verdicts else "")
            + (f"; {escape(s.error)}" if s.error else ""),
            highlight=False,
        )
    if p.answered:
        Console().print(f"  receipts that came since: {_counts(p.answered)}", highlight=False)
    if p.refreshed:
        Console().print(f"  held lines asked about again: {_counts(p.refreshed)}", highlight=False)


@forward_group.command("reset")
@click.argument("name", metavar="TARGET")
@click.option("--yes", is_flag=True, help="Confirm: everything goes to TARGET again.")
@config_option
def forward_reset(name: str, yes: bool, config_path: Path | None) -> None:
    """Forget what TARGET was sent, so every current record goes to it again at the next
    pass: for a target that lost its data, or that refused packages until a configuration
    was fixed.  What it holds already it answers as duplicates.  Audited."""
    from hub.actions import cli_actor  # noqa: PLC0415
    from hub.forward.target import forget  # noqa: PLC0415

    cfg, store = store_for(config_path)
    try:
        if name not in cfg.forward:
            raise UsageError(did_you_mean(name, cfg.forward, "forwarding target"))
        if not yes:
            raise UsageError(f"this sends every current record to {name!r} again; add --yes")
        done = forget(store, name, cli_actor())
    except HubError as exc:
        fail(exc)
    finally:
        store.dispose()
    Console().print(
        f"{name}: forgot {done['records_forgotten']} record(s) sent and "
        f"{done['runs_forgotten']} run(s) looked at; `hub forward run {name}` sends them all",
        highlight=False,
    )


@forward_group.command("chain")
@click.argument("package_id")
@click.option(
    "--target", default=None, help="The [forward.NAME] it went to (default: the only one)."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Keep the onward receipt (a signed archive) in this file.",
)
@config_option
@format_option
def forward_chain(
    package_id: str, target: str | None, out: Path | None, config_path: Path | None, out_format: str
) -> None:
    """What became of PACKAGE_ID's records beyond the target: the target's signed onward
    receipt (per record: its version, the package and line it went on in, the next hop's
    verdict), with the next hop's own receipts inside, each checked here.

    Exit status: 0 every signature checks out, 1 a receipt inside does not (e.g. the next
    hop's CA is not in [trust]), 2 the target could not answer or its receipt is invalid."""
    from hub.forward.chain import ask  # noqa: PLC0415

    cfg, store = store_for(config_path)
    try:
        name = target or (next(iter(cfg.forward)) if len(cfg.forward) == 1 else "")
        if not name:
            raise UsageError("give --target NAME: this node forwards to " + ", ".join(cfg.forward))
        doc, inner, raw = ask(cfg, store, name, package_id)
    except HubError as exc:
        fail(exc)
    finally:
        store.dispose()
    if out is not None:
        out.write_bytes(raw)
    bad = {p: str(e) for p, e in inner.items() if isinstance(e, Exception)}
    if out_format == "json":
        print_json({"onward": doc.model_dump(mode="json"), "unverified": bad})
        sys.exit(1 if bad else 0)
    c = Console()
    c.print(
        f"onward receipt of {package_id} from {doc.issuer}: [green]VALID[/green]", highlight=False
    )
    for pid in sorted(inner):
        state = (
            "[red]NOT VERIFIED[/red]: " + escape(bad[pid]) if pid in bad else "[green]VALID[/green]"
        )
        c.print(f"  next hop's receipt for {pid}: {state}", highlight=False)
    t = Table(title=f"what became of {package_id}'s records")
    for col in ("line", "record", f"at {doc.issuer}", "went on", "next hop said"):
        t.add_column(col, overflow="fold")
    for r in doc.records:
        here = r.outcome + (f" v{r.version}" if r.version else "")
        if not r.hops:
            t.add_row(f"{r.file}:{r.line}", f"{r.dataset} {r.key or ''}", here, "not yet", "")
        for h in r.hops:
            went = f"{h.target} {h.package_id}:{h.line} {h.op}" + (
                "" if h.sent else f" (its v{h.version} went instead)"
            )
            said = h.outcome + (f" v{h.upstream_version}" if h.upstream_version else "")
            if h.rule:
                said += f": {h.rule} {h.field} {h.value!r}"
            t.add_row(f"{r.file}:{r.line}", f"{r.dataset} {r.key or ''}", here, went, said)
    c.print(t)
    sys.exit(1 if bad else 0)
