"""Command groups that start fast and answer a typo with the names that were meant.

``hub --version`` and ``hub --help`` import nothing but click: every command lives in its own
module, imported only when that command runs (``LazyGroup``); the listing in ``--help`` comes
from the table in ``hub/cli/__init__.py`` (a test checks it against the commands themselves).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from hub.suggest import did_you_mean


class SuggestingGroup(click.Group):
    """A group whose unknown sub-command error names the close matches."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = click.utils.make_str(args[0])
        if self.get_command(ctx, name) is None and not name.startswith("-"):
            ctx.fail(did_you_mean(name, self.list_commands(ctx), "command") + " (see --help)")
        return super().resolve_command(ctx, args)


def _import(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


class LazyGroup(SuggestingGroup):
    """Commands named by ``module:attribute``, imported on first use.

    ``lazy`` maps a command name to (target, short help, extra sub-commands to attach);
    the short help is what ``--help`` lists without importing the command's module."""

    def __init__(
        self, *args: Any, lazy: dict[str, tuple[str, str, tuple[str, ...]]], **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return self.commands.get(cmd_name)
        target, _, extra = self.lazy[cmd_name]
        cmd: click.Command = _import(target)
        if isinstance(cmd, click.Group):
            for sub in extra:
                cmd.add_command(_import(sub))
        self.add_command(cmd, cmd_name)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy[name][1]) for name in sorted(self.lazy)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
