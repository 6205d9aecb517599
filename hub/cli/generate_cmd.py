"""``hub generate``: realistic, deterministic batches for tests and the demo."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from hub.cli.common import dictionary_for, overlay_option
from hub.generate.batch import write_batch
from hub.generate.generator import Generator


@click.command("generate")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--transactions",
    "-n",
    type=int,
    default=10,
    show_default=True,
    help="Engineering transactions (project → sections → notices → contract), "
    "plus records of every other data set in proportion.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xml", "jsonl", "json"]),
    default="jsonl",
    show_default=True,
)
@click.option(
    "--invalid-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Share of records (0–1) given one realistic defect each.",
)
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--defects",
    "defects_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the planted defects (JSON) here.",
)
@overlay_option
def generate(
    seed: int,
    transactions: int,
    fmt: str,
    invalid_rate: float,
    out: Path,
    defects_out: Path | None,
    overlays: tuple[str, ...],
) -> None:
    """Write a coherent generated batch (every data set is represented)."""
    if not 0 <= invalid_rate <= 1:
        raise click.BadParameter("expected a number from 0 to 1", param_hint="--invalid-rate")
    gen = Generator(seed=seed, dictionary=dictionary_for(overlays))
    records = gen.batch(transactions)
    planted = gen.inject_defects(records, invalid_rate) if invalid_rate else []
    n = write_batch(records, out, fmt)
    if defects_out:
        import orjson  # noqa: PLC0415

        defects_out.write_bytes(
            orjson.dumps([p.as_dict() for p in planted], option=orjson.OPT_INDENT_2)
        )
    Console(stderr=True).print(
        f"wrote {n} records to {out} ({fmt}); {len(planted)} with a planted defect"
    )
    sys.exit(0)
