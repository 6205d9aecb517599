"""`hub package receive FILE` and `hub package receipt FILE`."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from hub.cli.common import config_option, fail, format_option, load, print_json, progress, store_for
from hub.cli.package_cmd import invalid
from hub.cli.tables import Table
from hub.errors import ConfigError, HubError, InputError
from hub.package.node import identity, trust_store, unsealer
from hub.package.receipt import Receipt, verify
from hub.package.receive import Received, receive_package


@click.command("receive")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--receipt",
    "receipt_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the signed receipt (default: FILE.receipt beside the package).",
)
@click.option("--source", default=None, help="Source name for the records (default: the sender).")
@config_option
@format_option
def package_receive(
    file: Path,
    receipt_path: Path | None,
    source: str | None,
    config_path: Path | None,
    out_format: str,
) -> None:
    """Verify a package, ingest its records and write a signed per-record receipt.

    Exit status: 0 processed (or a replay answered with the original receipt), 1 refused
    (the receipt says why; nothing is stored), 2 unreadable file or configuration error.
    """
    cfg, store = store_for(config_path)
    err = Console(stderr=True)
    try:
        trust, who, keys = trust_store(cfg), identity(cfg), unsealer(cfg)
        data = file.read_bytes()
        with contextlib.ExitStack() as stack:
            tick = None
            if err.is_terminal:
                prog = stack.enter_context(progress(err))
                task = prog.add_task(file.name, total=None)
                tick = functools.partial(prog.advance, task)
            got = receive_package(
                store,
                data,
                str(file),
                trust,
                who,
                source=source,
                settings=cfg.ingest,
                on_progress=tick,
                unsealer=keys,
            )
    except (HubError, OSError) as exc:
        fail(exc)
    finally:
        store.dispose()
    out = receipt_path or file.with_name(file.name + ".receipt")
    out.write_bytes(got.receipt_bytes)
    if out_format == "json":
        print_json(_summary(got, out))
    else:
        _print(got, out)
    sys.exit(1 if got.status == "refused" else 0)


def _summary(got: Received, out: Path) -> dict[str, object]:
    r = got.receipt
    return {
        "status": got.status,
        "package_id": r.package_id,
        "sender": r.sender,
        "receipt": str(out),
        "counts": r.counts,
        **({"reason": r.refusal.code, "message": r.refusal.message} if r.refusal else {}),
    }


def _print(got: Received, out: Path) -> None:
    c = Console()
    r = got.receipt
    if r.refusal is not None:
        c.print(
            f"[red]REFUSED[/red] {escape(f'{r.refusal.code}: {r.refusal.message}')}\n"
            "nothing was stored; "
            f"receipt: {out}",
            highlight=False,
        )
        return
    word = "DUPLICATE (the original receipt)" if got.status == "duplicate" else "PROCESSED"
    c.print(
        f"{word} package {r.package_id} from {r.sender}; receipt: {out}",
        highlight=False,
        markup=False,
    )
    _counts_table(c, r)


WHY_ROWS = 20  # reasons shown; the rest are counted and named


def _counts_table(c: Console, r: Receipt) -> None:
    t = Table("outcome", "records", title=f"{len(r.records)} records")
    for k in ("accepted", "duplicate", "held", "rejected", "quarantined"):
        if r.counts.get(k):
            t.add_row(k, str(r.counts[k]))
    c.print(t)
    why = Counter(
        f"{v.outcome}: {v.rule} {v.field or ''}".rstrip()
        for v in r.records
        if v.outcome in ("rejected", "quarantined")
    )
    if why:
        w = Table("outcome: rule field", "records", title="why records were not taken")
        for k, n in why.most_common(WHY_ROWS):
            w.add_row(Text(k), str(n))
        c.print(w)
        if len(why) > WHY_ROWS:
            c.print(
                f"{len(why) - WHY_ROWS} more reason(s) not shown: `hub package receipt FILE "
                "--records` lists every record's verdict, --format json all of it",
                highlight=False,
                markup=False,
            )


@click.command("receipt")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--package-id", default=None, help="Insist the receipt is for this package.")
@click.option("--records/--no-records", default=False, help="List every record's verdict.")
@config_option
@format_option
def package_receipt(
    file: Path, package_id: str | None, records: bool, config_path: Path | None, out_format: str
) -> None:
    """Verify a signed receipt (signer trusted and bound to the issuer) and show it.

    Exit status: 0 a valid receipt, 1 an invalid one (with a reason code), 2 unreadable.
    """
    cfg = load(config_path)
    try:
        trust = trust_store(cfg)
        data = file.read_bytes()
    except (ConfigError, OSError) as exc:
        fail(exc)
    try:
        r, signed = verify(
            data, str(file), trust, now=datetime.now().astimezone(), package_id=package_id
        )
    except InputError as exc:
        invalid(file, exc, out_format)
    if out_format == "json":
        print_json({"file": str(file), "valid": True, "receipt": r.model_dump(mode="json")})
        return
    c = Console()
    c.print(
        f"VALID receipt from {r.issuer} (signed by {signed.signer.name}) for package "
        f"{r.package_id or r.package_sha256[:16] + '…'}: {r.status}",
        highlight=False,
    )
    if r.refusal is not None:
        c.print(f"refused: {r.refusal.code}: {r.refusal.message}", highlight=False, markup=False)
    else:
        _counts_table(c, r)
    if records:
        t = Table("file", "line", "data set", "key", "outcome", "version", "rule", "field", "value")
        for v in r.records:
            t.add_row(
                *map(
                    Text,
                    (
                        v.file,
                        str(v.line),
                        v.dataset,
                        v.key or "",
                        v.outcome,
                        str(v.version or ""),
                        v.rule or "",
                        v.field or "",
                        v.value or "",
                    ),
                )
            )
        c.print(t)
