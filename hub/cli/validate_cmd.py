"""``hub validate FILE...``: issues per record, as a table or as JSON."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from hub.cli.common import dictionary_for, format_option, overlay_option, progress
from hub.errors import InputError
from hub.validation.issues import ISSUE_KEYS, Issue
from hub.validation.validator import FORMATS, FileReport, Validator

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
    type=int,
    default=200,
    show_default=True,
    help="Issues shown in the table (all are counted; --format json prints all).",
)
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

                    reports.append(validator.validate_file(path, input_format, advance))
            else:
                reports.append(validator.validate_file(path, input_format))
        except InputError as exc:
            unreadable.append(exc)
            err.print(f"[red]error[/red] [{exc.code}] {exc}")
    issues: list[Issue] = [i for r in reports for i in r.issues]
    if out_format == "json":
        sys.stdout.buffer.write(
            orjson.dumps(
                [{k: getattr(i, k) for k in ISSUE_KEYS} for i in issues], option=orjson.OPT_INDENT_2
            )
        )
        sys.stdout.write("\n")
    else:
        _print_table(reports, issues, max_rows)
    if unreadable:
        sys.exit(2)
    sys.exit(1 if any(i.severity == "error" for i in issues) else 0)


def _print_table(reports: list[FileReport], issues: list[Issue], max_rows: int) -> None:
    out = Console()
    if issues:
        t = Table(title=f"{len(issues)} issue(s)", show_lines=False)
        for col in ("file", "rec", "data set", "field", "rule", "value", "message"):
            t.add_column(col, overflow="fold")
        for i in issues[:max_rows]:
            msg = i.message.split(": ", 1)[-1]
            colour = "red" if i.severity == "error" else "yellow"
            t.add_row(
                Path(i.file).name,
                str(i.record),
                i.dataset,
                i.field,
                f"[{colour}]{i.rule}[/{colour}]",
                "" if i.value is None else i.value[:40],
                msg,
            )
        out.print(t)
        if len(issues) > max_rows:
            out.print(f"… {len(issues) - max_rows} more (use --format json for all)")
    s = Table(title="summary")
    for col in ("file", "format", "records", "valid", "issues", "by rule"):
        s.add_column(col)
    for r in reports:
        s.add_row(
            r.file,
            r.format,
            str(r.records),
            str(r.valid),
            str(len(r.issues)),
            ", ".join(f"{k} {v}" for k, v in r.by_rule.most_common(6)),
        )
    out.print(s)
