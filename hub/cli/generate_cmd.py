"""``hub generate``: realistic, deterministic batches for tests and the demo."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson
from rich.console import Console

from hub.cli.common import dictionary_for, fail, overlay_option
from hub.errors import UsageError
from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from hub.generate.plant import plant as plant_patterns


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
@click.option(
    "--plant",
    type=int,
    default=0,
    show_default=True,
    help="Plant every pattern the supervision rules look for this many times "
    "(docs/supervision.md); needs about 40 transactions per time.",
)
@click.option(
    "--findings",
    "findings_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write what was planted (JSON: rule, dataset, key, what) here.",
)
@overlay_option
def generate(
    seed: int,
    transactions: int,
    fmt: str,
    invalid_rate: float,
    out: Path,
    defects_out: Path | None,
    plant: int,
    findings_out: Path | None,
    overlays: tuple[str, ...],
) -> None:
    """Write a coherent generated batch (every data set is represented)."""
    if not 0 <= invalid_rate <= 1:
        raise click.BadParameter("expected a number from 0 to 1", param_hint="--invalid-rate")
    gen = Generator(seed=seed, dictionary=dictionary_for(overlays))
    records = gen.batch(transactions)
    try:
        patterns = plant_patterns(gen, records, plant) if plant > 0 else []
    except UsageError as exc:
        fail(exc)
    planted = gen.inject_defects(records, invalid_rate) if invalid_rate else []
    n = write_batch(records, out, fmt)
    if defects_out:
        defects_out.write_bytes(
            orjson.dumps([p.as_dict() for p in planted], option=orjson.OPT_INDENT_2)
        )
    if findings_out:
        findings_out.write_bytes(
            orjson.dumps([p.as_dict() for p in patterns], option=orjson.OPT_INDENT_2)
        )
    said = f"; {len(patterns)} planted finding(s) of {len({p.rule for p in patterns})} rules"
    Console(stderr=True).print(
        f"wrote {n} records to {out} ({fmt}); {len(planted)} with a planted defect"
        + (said if plant > 0 else "")
    )
    sys.exit(0)
