"""``hub quality``: data quality per source and month (hub.supervise.quality)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from hub.cli.common import config_option, format_option, print_json, store_for
from hub.cli.pages import parse_when
from hub.cli.tables import Table


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


@click.command("quality")
@click.option("--source", default=None, help="Only this source.")
@click.option("--since", default=None, help="Runs started at or after (2026-12-01, 30d).")
@click.option("--until", default=None, help="Runs started before (same forms).")
@click.option(
    "--sla-hours",
    type=click.FloatRange(min=0, min_open=True),
    default=24.0,
    show_default=True,
    help="Timeliness: a record arrives within this many hours of its DATA_TIMESTAMP.",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write a self-contained HTML report: charts per source and the drill-down.",
)
@config_option
@format_option
def quality_cmd(
    source: str | None,
    since: str | None,
    until: str | None,
    sla_hours: float,
    report: Path | None,
    config_path: Path | None,
    out_format: str,
) -> None:
    """Data quality per source and month: 全面性 comprehensiveness, 完整性 completeness, 合规性
    compliance, 准确性 accuracy, 及时性 timeliness (p50, p95, share within the SLA), 修复率
    repair rate. The formulas: docs/supervision.md."""
    from hub.supervise.coverage import coverage  # noqa: PLC0415
    from hub.supervise.quality import scores  # noqa: PLC0415
    from hub.supervise.report import build  # noqa: PLC0415

    cfg, store = store_for(config_path)
    start, end = parse_when(since), parse_when(until)
    try:
        with store.read() as conn:
            cover = coverage(conn, source)  # read once for the table and the report
            rows = scores(conn, start, end, source, sla_hours, cfg.console.timezone, cover)
            if report:
                title = f"数据质量 Data quality · {cfg.node.name}"
                html = build(conn, rows, cover, since=start, until=end, sla_hours=sla_hours,
                             title=title)  # fmt: skip
                report.parent.mkdir(parents=True, exist_ok=True)
                report.write_text(html, "utf-8")
    finally:
        store.dispose()
    if out_format == "json":
        print_json(rows)
        return
    t = Table(
        "source", "month", "records", "全面性", "完整性", "合规性", "准确性", "及时性",
        "p50 h", "p95 h", "修复率",
        title=f"data quality ({len(rows)} source-month(s); SLA {sla_hours:g} h)",
    )  # fmt: skip
    for r in rows:
        t.add_row(
            r["source"], r["month"], f"{r['records']:,}", _pct(r["comprehensiveness"]),
            _pct(r["completeness"]),
            _pct(r["compliance"]), _pct(r["accuracy"]), _pct(r["timeliness"]),
            "—" if r["timely_p50_h"] is None else f"{r['timely_p50_h']:,.1f}",
            "—" if r["timely_p95_h"] is None else f"{r['timely_p95_h']:,.1f}",
            f"{_pct(r['repair_rate'])} ({r['repaired']}/{r['to_repair']})",
        )  # fmt: skip
    Console().print(t)
    if report:
        click.echo(f"wrote {report}: charts per source, and what failed by field and rule")
    if not rows:
        click.echo("no runs in that window")
