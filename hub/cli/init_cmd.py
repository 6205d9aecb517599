"""``hub init DIR``: a node folder with keys, trust folder, example mappings and node.toml."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from hub.cli.common import fail
from hub.errors import UsageError
from hub.node_init import EXAMPLE_SOURCE, LEVELS, init_node


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--platform", required=True, help="This node's platform code (18-character USCC).")
@click.option("--level", type=click.Choice(LEVELS), default="county", show_default=True)
@click.option("--name", default=None, help="The node's name (default: the folder's).")
@click.option("--upstream", default=None, help="URL of the platform above (hub package push).")
@click.option(
    "--examples/--no-examples",
    default=True,
    show_default=True,
    help="Copy the example mappings and a county's sample exports, with an example source.",
)
def init_cmd(
    directory: Path,
    platform: str,
    level: str,
    name: str | None,
    upstream: str | None,
    examples: bool,
) -> None:
    """Write a node folder that works as it is: node.toml (commented), TEST keys, trust/."""
    try:
        node = init_node(
            directory,
            platform,
            level,
            datetime.now().astimezone(),
            name=name,
            upstream=upstream,
            examples=examples,
        )
    except UsageError as exc:
        fail(exc)
    d = node.directory
    click.echo(f"wrote {node.config} and {len(node.written) - 1} more files under {d}/")
    click.echo(
        f"  keys/    a TEST PKI for platform {platform} (*.TEST-ONLY.key: not for production)"
    )
    click.echo("  trust/   put the CA (*.pem) and CRL (*.crl) of each platform you receive from")
    if examples:
        click.echo(f"  mappings/, samples/, inbox/{EXAMPLE_SOURCE}/   the example source")
    click.echo("next:")
    click.echo(f"  cd {d}             # inside the folder, hub reads ./node.toml")
    click.echo("  hub ingest FILE --source NAME")
    click.echo(f"  give other centres keys/ca*.pem and keys/ca*.crl; put theirs in {d}/trust/")
