"""``automm runs [DIR]``: a leaderboard of every search and evaluation under DIR (default ``runs/``)."""

from __future__ import annotations

from pathlib import Path

import click

from automm.cli._run_output import echo_json
from automm.cli._types import json_option
from automm.leaderboard import COLUMNS


@click.command("runs")
@click.argument("root", default="runs", metavar="[DIR]", type=click.Path(file_okay=False, path_type=Path))
@click.option("--sort", "column", type=click.Choice(COLUMNS), default="run", show_default=True,
              help="Order the rows by this column (rows without a value last).")
@click.option("--reverse", is_flag=True, help="Largest (or last) first.")
@json_option
@click.option("--html", "as_html", is_flag=True,
              help="Write DIR/index.html: the table, sortable in the browser, each run linking its "
                   "report.html.")
def command(root: Path, column: str, reverse: bool, as_json: bool, as_html: bool) -> None:
    """List every search and evaluation under DIR: strategy, settings, search validation AUC, test AUC,
    parameters, epochs, duration and status (running, finished, interrupted, failed)."""
    from automm.leaderboard import find_runs, sort_rows

    rows = sort_rows(find_runs(root), column, reverse)
    written = []
    if as_html:
        from automm.report.study_html import write_index_html

        written.append(write_index_html(root, rows))
    if as_json:
        echo_json("runs", written, root=str(root), runs=rows)
        return
    if written:
        click.echo(f"wrote {written[0]}")
        return
    if not rows:
        click.echo(f"no runs under {root}")
        return
    cells = [[_text(r[c], c) for c in COLUMNS] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(COLUMNS)]
    for line in (list(COLUMNS), *cells):
        click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())


def _text(value: object, column: str) -> str:
    from automm.leaderboard import settings_text

    if value is None:
        return "-"
    if column == "settings":
        return settings_text(value)  # type: ignore[arg-type]
    if isinstance(value, float):
        return f"{value:.1f}" if column == "seconds" else f"{value:.4f}"
    return str(value)
