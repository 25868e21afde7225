"""``automm report RUN_DIR``: figures and report.md of a search run (and of its evaluation), or
table.md and heatmaps of a sweep directory;
``automm report --compare RUN_DIR RUN_DIR...``: the entropy of several runs overlaid and their test
metrics over seeds, paired where two strategies ran on the same seeds."""

from __future__ import annotations

from pathlib import Path

import click

from automm.cli._run_output import echo_json, stdout_to_stderr
from automm.cli._types import json_option, out_option


@click.command("report")
@click.argument("run_dirs", nargs=-1, required=True, metavar="RUN_DIR...",
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--eval", "eval_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Evaluation directory of `automm evaluate` (default: RUN_DIR/eval if it exists, "
                   "or RUN_DIR itself when it holds predictions.csv).")
@click.option("--compare", is_flag=True,
              help="Compare the RUN_DIRs: comparison.md (test metrics per strategy, mean and spread over "
                   "seeds, paired differences on shared seeds), the entropy per epoch overlaid (the "
                   "paper's Figure 1b): entropy-compare.png and one entropy-compare-FAMILY.png per "
                   "choice family, and report.html.")
@out_option(
              "Where --compare writes comparison.md and its figures (default: the directory holding "
                   "the first RUN_DIR).")
@click.option("--latex", is_flag=True,
              help="Also write table.tex: the run's metrics (or the sweep's table, or the comparison's) "
                   "as a LaTeX tabular (booktabs).")
@json_option
def command(run_dirs: tuple[Path, ...], eval_dir: Path | None, compare: bool, out: Path | None,
            latex: bool, as_json: bool) -> None:
    """Write entropy, loss/accuracy, ROC and robustness figures (PNG, PDF and one-column variants),
    the architecture figure, report.md and report.html (one self-contained page, figures inline)
    into RUN_DIR (for a sweep directory of `automm sweep`: table.md, heatmaps, the entropy overlay
    and report.html)."""
    if not compare and len(run_dirs) > 1:
        raise click.UsageError("one RUN_DIR, or several with --compare")
    with stdout_to_stderr(as_json):
        kind, written = _write(run_dirs, eval_dir, compare, out, latex)
        for path in written:
            click.echo(f"wrote {path}")
    if as_json:
        echo_json("report", written, kind=kind, run_dirs=[str(d) for d in run_dirs])


def _write(run_dirs: tuple[Path, ...], eval_dir: Path | None, compare: bool, out: Path | None,
           latex: bool) -> tuple[str, list[Path]]:
    """Write the report; return what it reports on (``run``, ``sweep`` or ``compare``) and its files."""
    if compare:
        from automm.report.compare import compare_runs
        from automm.report.study_html import write_compare_html

        where = out if out is not None else run_dirs[0].resolve().parent
        return "compare", [*compare_runs(run_dirs, where, latex=latex), write_compare_html(run_dirs, where)]
    from automm.sweep.results import is_sweep_dir

    if is_sweep_dir(run_dirs[0]):  # a sweep: its table.md and heatmaps
        from automm.report.study_html import write_sweep_html
        from automm.report.sweep import write_sweep_report

        return "sweep", [*write_sweep_report(run_dirs[0], latex=latex), write_sweep_html(run_dirs[0])]
    from automm.report.build import write_report
    from automm.report.run_html import write_run_html

    return "run", [*write_report(run_dirs[0], eval_dir, latex=latex), write_run_html(run_dirs[0], eval_dir)]
