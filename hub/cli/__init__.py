"""The ``hub`` command line.  Thin: every command calls a library function.

Each command's module is imported only when it runs (``hub --help`` and ``hub --version``
load click alone); ``COMMANDS`` names them with the one-line help ``--help`` lists.
"""

from __future__ import annotations

import click

from hub import __version__
from hub.cli.groups import LazyGroup

_PKG = "hub.cli.package_cmd"
# name: (module:attribute, one line for --help, sub-commands from other modules)
COMMANDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "alerts": (
        "hub.cli.alerts_cmd:alerts_group",
        "Alerts: certificates near expiry, late sources, paused schedules, upstream.",
        (),
    ),
    "audit": ("hub.cli.db_cmd:audit_group", "The hash-chained audit log.", ()),
    "db": ("hub.cli.db_cmd:db_group", "The store's schema (Alembic migrations).", ()),
    "conflicts": (
        "hub.cli.fates_cmd:conflicts_group",
        "Keys with two contents at one DATA_TIMESTAMP: show side by side, resolve.",
        (),
    ),
    "demo": (
        "hub.cli.demo_cmd:demo_cmd",
        "Three nodes on loopback: two counties' night goes, signed, to the province.",
        (),
    ),
    "dictionary": (
        "hub.cli.dictionary_cmd:dictionary_group",
        "The national data dictionary (data sets, fields, code sets).",
        (),
    ),
    "findings": (
        "hub.cli.findings_cmd:findings_group",
        "Records that broke a supervision rule (statutory timelines): list, check, review.",
        (),
    ),
    "forward": (
        "hub.cli.forward_cmd:forward_group",
        "Forwarding targets: breaker, backlog, verdicts; `forward run` sends what is new.",
        (),
    ),
    "generate": (
        "hub.cli.generate_cmd:generate",
        "Write a coherent generated batch (every data set), optionally with defects.",
        (),
    ),
    "ingest": (
        "hub.cli.ingest_cmd:ingest",
        "Store, validate and reconcile one batch file into the store.",
        (),
    ),
    "held": (
        "hub.cli.fates_cmd:held_cmd",
        "Held records: valid, waiting for their parent until a deadline.",
        (),
    ),
    "init": (
        "hub.cli.init_cmd:init_cmd",
        "Write a node folder that works as it is: node.toml, TEST keys, trust/.",
        (),
    ),
    "keys": (f"{_PKG}:keys_group", "Keys and certificates of this node.", ()),
    "lifecycle": (
        "hub.cli.show_cmd:lifecycle_cmd",
        "A whole transaction across data sets, from a PROJECT_CODE or other code.",
        (),
    ),
    "mapping": (
        "hub.cli.mapping_cmd:mapping_group",
        "Declarative mappings of source systems (mappings/*.toml).",
        (),
    ),
    "package": (
        f"{_PKG}:package_group",
        "Signed packages: build, verify, receive, push, prove.",
        (
            "hub.cli.receive_cmd:package_receive",
            "hub.cli.receive_cmd:package_receipt",
            "hub.cli.forward_cmd:package_push",
            "hub.cli.forward_cmd:package_deliveries",
            "hub.cli.forward_cmd:package_redrive",
        ),
    ),
    "quality": (
        "hub.cli.quality_cmd:quality_cmd",
        "Data quality per source and month: completeness, compliance, timeliness, repairs.",
        (),
    ),
    "queue": (
        "hub.cli.work_cmd:queue_group",
        "Batches shared by `hub worker` processes: waiting, in hand, done; `queue add`.",
        (),
    ),
    "quarantine": (
        "hub.cli.quarantine_cmd:quarantine_group",
        "Records that could not be taken as they were: list, show, replay, discard.",
        (),
    ),
    "rejected": (
        "hub.cli.fates_cmd:rejected_cmd",
        "Rejected records with the rule, field and value that rejected them.",
        (),
    ),
    "run": (
        "hub.cli.schedule_cmd:run_cmd",
        "Run a scheduled sync now (the schedule's claim keeps it to one at a time).",
        (),
    ),
    "runs": (
        "hub.cli.fates_cmd:runs_group",
        "Sync runs with their counts; `runs show ID`: what that run did not take.",
        (),
    ),
    "schedule": (
        "hub.cli.schedule_cmd:schedule_group",
        "Scheduled syncs: list with freshness, pause, resume, events.",
        (),
    ),
    "schemas": (
        "hub.cli.dictionary_cmd:schemas_group",
        "The XSD and JSON Schema files generated from the dictionary.",
        (),
    ),
    "serve": (
        "hub.cli.serve_cmd:serve",
        "Run the HTTP service: signed packages in, signed receipts out.",
        (),
    ),
    "show": (
        "hub.cli.show_cmd:show_cmd",
        "One record: its current version, full history and provenance.",
        (),
    ),
    "stats": (
        "hub.cli.stats_cmd:stats_cmd",
        "Counts per library, data set and source; issue rates; open work.",
        (),
    ),
    "sync": (
        "hub.cli.sync_cmd:sync_cmd",
        "Pull new batches from configured sources, map, ingest, acknowledge.",
        (),
    ),
    "users": (
        "hub.cli.users_cmd:users_group",
        "Users of the API with roles; API tokens.",
        (),
    ),
    "worker": (
        "hub.cli.work_cmd:worker_cmd",
        "Ingest queued batches; with others on one database; the leader runs the schedules.",
        (),
    ),
    "validate": (
        "hub.cli.validate_cmd:validate",
        "Validate batch files against the dictionary, schemas and rules.",
        (),
    ),
}


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="hub", package_name="ggzy-exchange-hub")
def cli() -> None:
    """Data-exchange hub for public-resource-trading platforms (公共资源交易平台)."""


def main() -> None:
    """The ``hub`` command: a failure nobody foresaw is one line and exit 2, never a
    traceback; the details go to a log file named in that line."""
    try:
        cli(prog_name="hub")
    except Exception as exc:  # click handles usage errors itself; this is everything else
        from hub.cli.crash import report  # noqa: PLC0415

        report(exc)
