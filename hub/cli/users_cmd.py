"""``hub users add|list|disable|token``: who may use the API (and, later, the console)."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.console import Console

from hub.access import users
from hub.access.roles import ROLES
from hub.actions import cli_actor
from hub.cli.common import config_option, fail, format_option, print_json, store_for
from hub.cli.groups import SuggestingGroup
from hub.cli.tables import Table
from hub.errors import UsageError


@click.group("users", cls=SuggestingGroup)
def users_group() -> None:
    """Users of the API and console, with roles: administrator, operator, observer, county."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--platform", default=None, help="A county user's platform code (its scope).")
@click.option(
    "--password-env",
    default=None,
    metavar="VAR",
    help="Read the password from this environment variable (else asked; none: tokens only).",
)
@click.option("--no-password", is_flag=True, help="A user who signs in with tokens only.")
@config_option
def add_cmd(
    name: str,
    role: str,
    platform: str | None,
    password_env: str | None,
    no_password: bool,
    config_path: Path | None,
) -> None:
    """Add a user (audited); the password is hashed with argon2id."""
    password: str | None = None
    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            fail(UsageError(f"environment variable {password_env!r} is not set"))
    elif not no_password:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    _, store = store_for(config_path)
    try:
        users.add(store, name, role, password, platform, cli_actor())
    except UsageError as exc:
        fail(exc)
    finally:
        store.dispose()
    click.echo(f"user {name} added as {role}" + (f" of {platform}" if platform else ""))


@users_group.command("list")
@config_option
@format_option
def list_cmd(config_path: Path | None, out_format: str) -> None:
    """Users and their roles."""
    _, store = store_for(config_path)
    rows = users.listing(store)
    store.dispose()
    if out_format == "json":
        print_json(rows)
        return
    t = Table("user", "role", "platform", "disabled", title=f"{len(rows)} user(s)")
    for r in rows:
        t.add_row(str(r["name"]), str(r["role"]), str(r["platform_code"] or ""), str(r["disabled"]))
    Console().print(t)


@users_group.command("disable")
@click.argument("name")
@config_option
def disable_cmd(name: str, config_path: Path | None) -> None:
    """Disable a user: its password and tokens stop working at once (audited)."""
    _, store = store_for(config_path)
    try:
        users.disable(store, name, cli_actor())
    except UsageError as exc:
        fail(exc)
    finally:
        store.dispose()
    click.echo(f"user {name} disabled")


@users_group.command("token")
@click.argument("name")
@click.option("--label", default="api", show_default=True, help="What the token is for.")
@config_option
def token_cmd(name: str, label: str, config_path: Path | None) -> None:
    """Issue an API token for a user; it is printed once (the store keeps its SHA-256)."""
    _, store = store_for(config_path)
    try:
        token = users.new_token(store, name, label, cli_actor())
    except UsageError as exc:
        fail(exc)
    finally:
        store.dispose()
    click.echo(token)
