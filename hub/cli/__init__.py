"""The ``hub`` command line.  Thin: every command calls a library function."""

from __future__ import annotations

import click

from hub import __version__
from hub.cli.dictionary_cmd import dictionary_group, schemas_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hub")
def cli() -> None:
    """Data-exchange hub for public-resource-trading platforms (公共资源交易平台)."""


cli.add_command(dictionary_group)
cli.add_command(schemas_group)


def _register() -> None:
    from hub.cli.db_cmd import audit_group, db_group  # noqa: PLC0415
    from hub.cli.forward_cmd import (  # noqa: PLC0415
        package_deliveries,
        package_push,
        package_redrive,
    )
    from hub.cli.generate_cmd import generate  # noqa: PLC0415
    from hub.cli.ingest_cmd import ingest  # noqa: PLC0415
    from hub.cli.mapping_cmd import mapping_group  # noqa: PLC0415
    from hub.cli.package_cmd import keys_group, package_group  # noqa: PLC0415
    from hub.cli.quarantine_cmd import quarantine_group  # noqa: PLC0415
    from hub.cli.receive_cmd import package_receipt, package_receive  # noqa: PLC0415
    from hub.cli.serve_cmd import serve  # noqa: PLC0415
    from hub.cli.show_cmd import lifecycle_cmd, show_cmd  # noqa: PLC0415
    from hub.cli.stats_cmd import stats_cmd  # noqa: PLC0415
    from hub.cli.sync_cmd import sync_cmd  # noqa: PLC0415
    from hub.cli.validate_cmd import validate  # noqa: PLC0415

    cli.add_command(validate)
    cli.add_command(generate)
    cli.add_command(ingest)
    cli.add_command(show_cmd)
    cli.add_command(lifecycle_cmd)
    cli.add_command(quarantine_group)
    cli.add_command(stats_cmd)
    cli.add_command(db_group)
    cli.add_command(audit_group)
    cli.add_command(keys_group)
    package_group.add_command(package_receive)
    package_group.add_command(package_receipt)
    package_group.add_command(package_push)
    package_group.add_command(package_deliveries)
    package_group.add_command(package_redrive)
    cli.add_command(package_group)
    cli.add_command(serve)
    cli.add_command(mapping_group)
    cli.add_command(sync_cmd)


_register()


def main() -> None:
    cli(prog_name="hub")
