"""``automm report RUN_DIR``: figures and report.md of a search run (and of its evaluation)."""

from __future__ import annotations

from pathlib import Path

import click

from automm.report import write_report


@click.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--eval", "eval_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Evaluation directory of `automm evaluate` (default: RUN_DIR/eval if it exists, "
                   "or RUN_DIR itself when it holds predictions.csv).")
def command(run_dir: Path, eval_dir: Path | None) -> None:
    """Write entropy, loss/accuracy and ROC figures, the architecture figure and report.md into RUN_DIR."""
    for path in write_report(run_dir, eval_dir):
        click.echo(f"wrote {path}")
