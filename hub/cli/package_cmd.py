"""`hub keys …` and `hub package build|verify|inspect|prove`."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import click
import orjson
from rich.console import Console
from rich.markup import escape

from hub.cli.common import config_option, fail, format_option, load, print_json, store_for
from hub.cli.groups import SuggestingGroup
from hub.cli.tables import Table
from hub.errors import ConfigError, HubError, InputError, UsageError
from hub.package import archive, testpki
from hub.package.build import build, data_lines
from hub.package.manifest import MANIFEST, parse
from hub.package.node import identity, trust_store
from hub.package.pki import load_certs
from hub.package.proof import check_proof, make_proof
from hub.package.receive import seen_in
from hub.package.verify import verify_package

EXPIRY_WARNING = timedelta(days=30)


def _now() -> datetime:
    return datetime.now().astimezone()


def invalid(file: Path, exc: InputError, out_format: str) -> NoReturn:
    """Report a refused package or receipt; exit 2 if unreadable, else 1."""
    if out_format == "json":
        print_json({"file": str(file), "valid": False, "reason": exc.code, "message": exc.reason})
    else:
        Console(stderr=True).print(
            f"[red]INVALID[/red] {escape(f'{file}: {exc.code}: {exc.reason}')}", highlight=False
        )
    sys.exit(2 if exc.code == "archive.unreadable" else 1)


@click.group("keys", cls=SuggestingGroup)
def keys_group() -> None:
    """Keys and certificates of this node."""


@keys_group.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--platform", "platform", required=True, help="Platform code for node certificates.")
def keys_init(directory: Path, platform: str) -> None:
    """Create a TEST CA pair (ECDSA, SM2), node signing and encryption certificates
    (RSA-2048, ECDSA P-256, SM2) and empty CRLs in DIRECTORY.  For demos and tests only."""
    for p in testpki.init(directory, platform, _now()):
        click.echo(p)
    click.echo(
        "\nto use them, in node.toml (paths relative to it):\n"
        f'[signing]\nkey = "{directory}/node-sm2.TEST-ONLY.key"\n'
        f'cert = "{directory}/node-sm2.pem"\n'
        "# and where these packages are received, the CA and its CRL:\n"
        f'[trust]\nanchors = ["{directory}/ca.pem", "{directory}/ca-sm2.pem"]\n'
        f'crls = ["{directory}/ca.crl", "{directory}/ca-sm2.crl"]\n'
        "# to take packages encrypted to this node (senders: encrypt_to = [its cert]):\n"
        f'[encryption]\ncert = "{directory}/node-ecdsa-enc.pem"\n'
        f'key = "{directory}/node-ecdsa-enc.TEST-ONLY.key"'
    )


@keys_group.command("status")
@config_option
@format_option
def keys_status(config_path: Path | None, out_format: str) -> None:
    """Certificates this node uses (signing, trust anchors) and when each expires."""
    cfg = load(config_path)
    now = _now()
    rows: list[dict[str, Any]] = []
    files = [("signing", p) for p in [cfg.signing.cert, *cfg.signing.chain] if p]
    files += [("anchor", p) for p in cfg.trust.anchors]
    try:
        for role, p in files:
            for c in load_certs(p.read_bytes()):
                left = c.not_after - now
                state = (
                    "expired"
                    if left.total_seconds() < 0
                    else ("expires soon" if left < EXPIRY_WARNING else "ok")
                )
                rows.append(
                    {
                        "role": role,
                        "file": str(p),
                        "subject": c.name,
                        "platform": c.platform_code,
                        "not_after": c.not_after.isoformat(),
                        "days_left": left.days,
                        "state": state,
                    }
                )
    except OSError as exc:
        fail(exc)
    if out_format == "json":
        print_json(rows)
    else:
        t = Table("role", "subject", "platform", "not after", "days left", "state")
        for r in rows:
            t.add_row(
                r["role"],
                r["subject"],
                r["platform"] or "",
                r["not_after"][:10],
                str(r["days_left"]),
                r["state"],
            )
        Console().print(t)
    sys.exit(1 if any(r["state"] != "ok" for r in rows) else 0)


@click.group("package", cls=SuggestingGroup)
def package_group() -> None:
    """Signed packages: build, verify, inspect, prove."""


@package_group.command("build")
@click.argument(
    "inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--to", "receiver", required=True, help="Receiving platform code.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--attach",
    "attach",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--id", "package_id", default=None, help="Package id (default: generated).")
@config_option
def package_build(
    inputs: tuple[Path, ...],
    receiver: str,
    out: Path,
    attach: tuple[Path, ...],
    package_id: str | None,
    config_path: Path | None,
) -> None:
    """Build a signed package from JSONL record envelopes."""
    cfg = load(config_path)
    try:
        who = identity(cfg)
        records: dict[str, list[bytes]] = {}
        for p in inputs:
            with p.open("rb") as fh:
                for ds, lines in data_lines(fh, str(p)).items():
                    records.setdefault(ds, []).extend(lines)
        m, data = build(records, who, receiver, attachments=list(attach), package_id=package_id)
    except (HubError, OSError) as exc:
        fail(exc)
    out.write_bytes(data)
    click.echo(
        f"{out}: package {m.package_id}, {sum(m.counts.values())} records, "
        f"{len(data)} bytes, signed by {who.cert.name}"
    )


@package_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--replay/--no-replay",
    default=False,
    help="Also look the package id up in this node's store (a replay, or the id reused).",
)
@config_option
@format_option
def package_verify(file: Path, replay: bool, config_path: Path | None, out_format: str) -> None:
    """Verify a package: exit 0 valid, 1 invalid (with a reason code), 2 unreadable/usage."""
    cfg = load(config_path)
    try:
        data = file.read_bytes()
        store = trust_store(cfg)
    except (OSError, ConfigError) as exc:
        fail(exc)
    node_store = store_for(config_path)[1] if replay else None
    try:
        v = verify_package(
            data,
            str(file),
            store,
            now=_now(),
            receiver=cfg.node.platform_code or None,
            seen=seen_in(node_store) if node_store else None,
        )
    except InputError as exc:
        invalid(file, exc, out_format)
    finally:
        if node_store is not None:
            node_store.dispose()
    res = {
        "file": str(file),
        "valid": True,
        "package_id": v.manifest.package_id,
        "sender": v.manifest.sender,
        "receiver": v.manifest.receiver,
        "signer": v.signed.signer.name,
        "signing_time": v.signed.signing_time,
        "records": sum(v.manifest.counts.values()),
        "sha256": v.sha256,
        "duplicate": v.duplicate,
    }
    if out_format == "json":
        print_json(res)
    else:
        click.echo(
            f"VALID {file}: package {res['package_id']} from {res['sender']} to "
            f"{res['receiver']}, {res['records']} records, signed by {res['signer']}"
            + (
                "; already received (a replay: receiving it returns the original receipt)"
                if v.duplicate
                else ""
            )
        )


@package_group.command("inspect")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@format_option
def package_inspect(file: Path, out_format: str) -> None:
    """Show a package's manifest (without verifying it: use `verify` for that)."""
    try:
        files = dict(archive.read(file.read_bytes(), str(file)))
        if MANIFEST not in files:
            raise InputError(str(file), "no manifest.json", code="manifest.missing")
        m = parse(files[MANIFEST], str(file))
    except InputError as exc:
        fail(exc)
    if out_format == "json":
        d = m.model_dump(mode="json")
        print_json(d)
        return
    c = Console()
    c.print(
        f"package {m.package_id}  {m.sender} → {m.receiver}  spec {m.spec_version}  "
        f"created {m.created.isoformat()}  digest {m.digest}",
        highlight=False,
    )
    c.print(f"merkle root {m.merkle_root}", highlight=False)
    t = Table("path", "kind", "data set", "records", "bytes", "digest")
    for f in m.files:
        t.add_row(
            f.path,
            f.kind,
            f.dataset or "",
            str(len(f.records)) if f.kind == "data" else "",
            str(f.size),
            f.digest[:16] + "…",
        )
    c.print(t)


@package_group.command("prove")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("record", type=int)
def package_prove(file: Path, record: int) -> None:
    """Print a Merkle inclusion proof for record number RECORD (1-based, manifest order)."""

    try:
        files = dict(archive.read(file.read_bytes(), str(file)))
        print_json(make_proof(files, record, str(file)))
    except (InputError, UsageError) as exc:
        fail(exc)


@package_group.command("check-proof")
@click.argument("proof", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def package_check_proof(proof: Path) -> None:
    """Check a proof from `hub package prove`: exit 0 if the record is in the signed tree."""
    try:
        signed = check_proof(orjson.loads(proof.read_bytes()), str(proof))
    except orjson.JSONDecodeError as exc:
        fail(exc)
    except InputError as exc:
        Console(stderr=True).print(
            f"[red]INVALID[/red] {escape(f'{exc.code}: {exc.reason}')}", highlight=False
        )
        sys.exit(1)
    click.echo(f"VALID: the record is in the tree signed by {signed.signer.name}")
