"""``hub dictionary`` and ``hub schemas``: the data dictionary and the generated schemas."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from hub.cli.groups import SuggestingGroup
from hub.cli.tables import Table
from hub.dictionary import importer, load_dictionary
from hub.dictionary.paths import dictionary_dir, generated_dir, reference_tables, schemas_dir
from hub.errors import ConfigError, UsageError
from hub.schemagen import build


@click.group("dictionary", cls=SuggestingGroup)
def dictionary_group() -> None:
    """The national data dictionary (data sets, fields, code sets)."""


@dictionary_group.command("import")
@click.option(
    "--tables",
    "tables_json",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Appendix A as JSON (default: schemas/reference/appendix-a-v2.0.json).",
)
@click.option("--check", is_flag=True, help="Only compare; exit 1 when the committed files differ.")
def dictionary_import(tables_json: Path | None, check: bool) -> None:
    """Rebuild schemas/dictionary/ from Appendix A and the curation overlay."""
    tables_json = tables_json or reference_tables()
    try:
        datasets, codesets = importer.build(tables_json, schemas_dir())
    except ConfigError as exc:
        for p in exc.problems:
            click.echo(f"error: {p}", err=True)
        sys.exit(2)
    files = importer.render(datasets, codesets)
    out = dictionary_dir()
    if check:
        differ = [
            r
            for r, t in files.items()
            if not (out / r).is_file() or (out / r).read_text("utf-8") != t
        ]
        for r in differ:
            click.echo(f"stale: {out / r}")
        sys.exit(1 if differ else 0)
    importer.write(files, out)
    click.echo(
        f"wrote {len(files)} files to {out} ({len(datasets)} data sets, "
        f"{sum(len(d.fields) for d in datasets)} fields, {len(codesets)} code sets)"
    )


@dictionary_group.command("list")
def dictionary_list() -> None:
    """List the data sets."""
    d = load_dictionary()
    t = Table(title=f"Data sets of spec V{d.spec_version}")
    for col in ("DATA_NO", "name", "中文名", "domain", "library", "key", "parent", "fields"):
        t.add_column(col)
    for ds in sorted(d.datasets.values(), key=lambda x: int(x.data_no)):
        t.add_row(
            ds.data_no,
            ds.name,
            ds.name_cn,
            ds.domain,
            ds.library,
            ",".join(ds.business_key),
            ds.parent.dataset if ds.parent else "",
            str(len(ds.fields)),
        )
    Console().print(t)


@dictionary_group.command("show")
@click.argument("dataset")
def dictionary_show(dataset: str) -> None:
    """Show one data set's fields."""
    d = load_dictionary()
    try:
        ds = d.dataset(dataset)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    t = Table(title=f"{ds.data_no} {ds.name} {ds.name_cn} — key {', '.join(ds.business_key)}")
    for col in ("field", "中文名", "type", "req", "code set / check", "aliases"):
        t.add_column(col)
    for f in ds.fields:
        size = (
            f"{f.fixed_length}" if f.fixed_length else f"..{f.max_length}" if f.max_length else ""
        )
        digits = f" {f.int_digits},{f.frac_digits}" if f.kind.value == "decimal" else ""
        t.add_row(
            f.id,
            f.name_cn,
            f"{f.kind.value}{size}{digits}{' ;' if f.multi else ''}",
            f.required,
            f.codeset or (f.check.value if f.check else ""),
            ",".join(f.aliases),
        )
    Console().print(t)


@click.group("schemas", cls=SuggestingGroup)
def schemas_group() -> None:
    """The XSD and JSON Schema files generated from the dictionary."""


@schemas_group.command("build")
@click.option("--check", is_flag=True, help="Only compare; exit 1 when committed files are stale.")
def schemas_build(check: bool) -> None:
    """Regenerate schemas/generated/ (XSD per data set, batch XSD, JSON Schema 2020-12): one
    folder for the national dictionary (v2.0) and one per provincial overlay (v2.0+fujian)."""
    any_stale = False
    for d in build.profiles():
        out = generated_dir(d.profile)
        if check:
            stale = build.stale(d, out)
            for rel in stale:
                click.echo(f"stale: {out / rel}")
            if not stale:
                click.echo(f"up to date: {out} ({d.profile})")
            any_stale = any_stale or bool(stale)
            continue
        n = build.write(d, out)
        click.echo(f"wrote {n} schema files to {out}")
    if any_stale:
        click.echo("run `hub schemas build` to regenerate them from the dictionary")
    sys.exit(1 if any_stale else 0)
