"""``hub mapping check|preview``: is a mapping right, and what does it make of a sample?"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from hub.cli.common import fail, format_option, print_json
from hub.cli.groups import SuggestingGroup
from hub.cli.tables import Table
from hub.errors import ConfigError, InputError
from hub.mapping import check_mapping, load_mapping
from hub.mapping.preview import PreviewRecord, preview
from hub.validation.validator import Validator


@click.group("mapping", cls=SuggestingGroup)
def mapping_group() -> None:
    """Declarative mappings of source systems (mappings/*.toml)."""


@mapping_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@format_option
def check_cmd(files: tuple[Path, ...], out_format: str) -> None:
    """Check mappings against the dictionary and the installed transforms.

    Every problem is reported at once.  Exit status: 0 all load, 1 a mapping has errors.
    """
    results = [check_mapping(f) for f in files]
    if out_format == "json":
        print_json(
            [
                {
                    "file": str(c.path),
                    "ok": c.mapping is not None,
                    "errors": c.errors,
                    "warnings": c.warnings,
                    "datasets": [
                        {"dataset": p.dataset, "match": p.match, "fields": len(p.fields)}
                        for p in (c.mapping.datasets if c.mapping else ())
                    ],
                }
                for c in results
            ]
        )
    else:
        out = Console()
        for c in results:
            for e in c.errors:
                out.print(f"[red]error[/red]   {escape(e)}", highlight=False)
            for w in c.warnings:
                out.print(f"[yellow]warning[/yellow] {escape(w)}", highlight=False)
            if c.mapping is not None:
                t = Table(title=f"{c.path}: mapping {c.mapping.name!r} loads", title_justify="left")
                t.add_column("data set")
                t.add_column("inputs")
                t.add_column("fields", justify="right")
                t.add_column("op")
                for p in c.mapping.datasets:
                    op = p.op if isinstance(p.op, str) else f"from {', '.join(p.op.sources)}"
                    t.add_row(p.dataset, p.match, str(len(p.fields)), op)
                out.print(t)
            else:
                out.print(
                    f"{c.path}: {len(c.errors)} errors; the mapping does not load", markup=False
                )
    sys.exit(0 if all(c.mapping is not None for c in results) else 1)


@mapping_group.command("preview")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--sample",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="An export of the source system (its file name decides which [[dataset]] applies).",
)
@click.option("--limit", type=int, default=20, show_default=True, help="Source rows to show.")
@format_option
def preview_cmd(file: Path, sample: Path, limit: int, out_format: str) -> None:
    """Map a sample input: each source row beside the record it becomes, with its issues.

    Exit status: 0 every record valid (warnings allowed), 1 errors found, 2 the mapping or
    sample is unusable.
    """
    try:
        mapping = load_mapping(file)
        records = preview(mapping, sample, Validator(), limit)
    except (ConfigError, InputError) as exc:
        fail(exc)
    if out_format == "json":
        print_json([r.as_dict() for r in records])
    else:
        out = Console()
        for r in records:
            out.print(_record_table(r))
            for i in r.issues:
                out.print(f"  [red]{i.rule}[/red] {escape(i.message)}", highlight=False)
        bad = sum(1 for r in records if r.issues)
        out.print(
            f"{len(records)} records from {sample.name}; {bad} with issues",
            highlight=False,
            markup=False,
        )
    sys.exit(1 if any(i.severity == "error" for r in records for i in r.issues) else 0)


def _show(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, list):
        return " | ".join(_show(x) for x in v)
    text = str(v)
    return text if len(text) <= 40 else text[:39] + "…"


def _record_table(r: PreviewRecord) -> Table:
    where = f"line {r.line}" if r.line else f"row {r.index}"
    t = Table(
        title=f"record {r.index} ({where}) → {r.dataset} {r.op or '?'} key {r.key or '—'}",
        title_justify="left",
    )
    t.add_column("source column")
    t.add_column("source value")
    t.add_column("steps")
    t.add_column("field")
    t.add_column("value")
    failed = {i.field for i in r.issues}
    for ln in r.lines:
        value = Text("✗", style="red") if ln.target in failed else _show(ln.value)
        t.add_row(
            ", ".join(ln.sources) or "(const)",
            _show(ln.source_value),
            ", ".join(ln.steps),
            ln.target,
            value,
        )
    return t
