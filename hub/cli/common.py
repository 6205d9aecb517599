"""Shared pieces of the CLI: the --config option, opening the store, progress, JSON output."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hub import ENV_CONFIG
from hub.dictionary.loader import Dictionary, usable
from hub.errors import ConfigError

if TYPE_CHECKING:  # the configuration and the store load only in commands that use them
    from hub.config import NodeConfig
    from hub.store.engine import Store

F = TypeVar("F", bound=Callable[..., Any])


def config_option(fn: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=ENV_CONFIG,
        default=None,
        help=f"Node configuration (TOML); default ${ENV_CONFIG}, else ./node.toml, else defaults "
        "(SQLite in ./hub-data).",
    )(fn)


def overlay_option(fn: F) -> F:
    return click.option(
        "--overlay",
        "overlays",
        multiple=True,
        metavar="NAME",
        help="A provincial overlay from schemas/overlays/ (e.g. fujian); repeatable.",
    )(fn)


def dictionary_for(overlays: tuple[str, ...]) -> Dictionary:
    """The national dictionary with ``overlays`` (exit 2 naming the known ones if unknown)."""
    try:
        return usable(overlays)
    except ConfigError as exc:
        fail(exc)


def format_option(fn: F) -> F:
    return click.option(
        "--format",
        "out_format",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="table for people, json for programs.",
    )(fn)


def load(config_path: Path | None) -> NodeConfig:
    from hub.config import load_config  # noqa: PLC0415

    try:
        return load_config(config_path)
    except ConfigError as exc:
        fail(exc)


def store_for(config_path: Path | None) -> tuple[NodeConfig, Store]:
    from hub.store.engine import open_store  # noqa: PLC0415

    cfg = load(config_path)
    try:
        return cfg, open_store(cfg, migrate=False)
    except ConfigError as exc:
        fail(exc)


def fail(exc: Exception, code: int = 2) -> NoReturn:
    err = Console(stderr=True)
    problems = getattr(exc, "problems", None) or [str(exc)]
    for p in problems:
        err.print(f"[red]error[/red] {escape(p)}", highlight=False)
    sys.exit(code)


def progress(console: Console, unit: str = "records") -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def print_json(obj: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2, default=str))
    sys.stdout.write("\n")
    sys.stdout.flush()
