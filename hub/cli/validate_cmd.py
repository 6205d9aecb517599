"""``hub validate FILE...``: issues per record, as a table or as JSON."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, TaskID
from rich.text import Text

from hub.cli.common import dictionary_for, format_option, overlay_option, progress
from hub.cli.tables import Table
from hub.errors import InputError
from hub.validation.files import validate_file
from hub.validation.issues import ISSUE_KEYS, Issue
from hub.validation.sniff import FORMATS
from hub.validation.tally import FileReport
from hub.validation.validator import Validator

BIG_FILE = 2 * 1024 * 1024  # show a progress bar from this size on


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@format_option
@click.option(
    "--input-format",
    type=click.Choice(FORMATS),
    default=None,
    help="Input format (default: from the file name, else sniffed).",
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=0),
    default=200,
    show_default=True,
    help="Issues shown in the table (all are counted; --all or --format json shows all).",
)
@click.option("--all", "show_all", is_flag=True, help="Show every issue and every rule.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=min(os.cpu_count() or 1, 4),
    show_default=True,
    help="Processes for one large JSONL file (1: validate in this process only).",
)
@overlay_option
def validate(
    files: tuple[Path, ...],
    out_format: str,
    input_format: str | None,
    max_rows: int,
    show_all: bool,
    workers: int,
    overlays: tuple[str, ...],
) -> None:
    """Validate batch files against the dictionary, schemas and rules.

    Exit status: 0 all records valid, 1 data issues found, 2 unreadable input or usage error.
    """
    err = Console(stderr=True)
    validator = Validator(dictionary_for(overlays), workers=workers)
    reports: list[FileReport] = []
    unreadable: list[InputError] = []
    for path in files:
        try:
            size = path.stat().st_size if path.exists() else 0
            if size >= BIG_FILE and err.is_terminal:
                with progress(err) as prog:
                    task = prog.add_task(path.name, total=None)

                    def advance(n: int, prog: Progress = prog, task: TaskID = task) -> None:
                        prog.advance(task, n)

                    reports.append(validate_file(validator, path, input_format, advance))
            else:
                reports.append(validate_file(validator, path, input_format))
        except InputError as exc:
            unreadable.append(exc)
            err.print(f"[red]error[/red] {escape(f'[{exc.code}] {exc}')}", highlight=False)
    issues: list[Issue] = [i for r in reports for i in r.issues]
    if out_format == "json":
        sys.stdout.buffer.write(
            orjson.dumps(
                [{k: getattr(i, k) for k in ISSUE_KEYS} for i in issues], option=orjson.OPT_INDENT_2
            )
        )
        sys.stdout.write("\n")
    elif reports:
        _print_table(reports, issues, None if show_all else max_rows)
    if unreadable:
        sys.exit(2)
    sys.exit(1 if any(i.severity == "error" for i in issues) else 0)


def _cut(value: str, width: int) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


def _print_table(reports: list[FileReport], issues: list[Issue], max_rows: int | None) -> None:
    """Issues then a summary per file; data goes in as Text, never as markup."""
    out = Console()
    shown = issues if max_rows is None else issues[:max_rows]
    if issues:
        t = Table(title=f"{len(issues)} issue(s)", show_lines=False)
        for col in ("file", "rec", "data set", "field", "rule", "value", "message"):
            t.add_column(col, overflow="fold")
        for i in shown:
            t.add_row(
                Text(Path(i.file).name),
                str(i.record),
                Text(i.dataset),
                Text(i.field),
                Text(i.rule, style="red" if i.severity == "error" else "yellow"),
                Text("" if i.value is None else _cut(i.value, 40)),
                Text(i.message.split(": ", 1)[-1]),
            )
        out.print(t)
        if len(shown) < len(issues):
            out.print(
                f"{len(issues) - len(shown)} more issue(s) not shown: "
                "--all shows them, --format json lists them all",
                highlight=False,
            )
    top = None if max_rows is None else 6
    s = Table(title="summary")
    for col in ("file", "format", "records", "valid", "issues", "by rule"):
        s.add_column(col)
    for r in reports:
        rules = r.by_rule.most_common(top)
        more = len(r.by_rule) - len(rules)
        s.add_row(
            Text(r.file),
            r.format,
            str(r.records),
            str(r.valid),
            str(len(r.issues)),
            Text(
                ", ".join(f"{k} {v}" for k, v in rules)
                + (f" (+{more} more rules: --all)" if more else "")
            ),
        )
    out.print(s)
