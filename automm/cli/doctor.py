"""``automm doctor``: check what a run needs, one line per check with the fix."""

from __future__ import annotations

import json
import sys

import click

MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def command(as_json: bool) -> None:
    """Check torch/torchaudio/torchvision, PyAV, the MTCNN weights, Graphviz, CUDA, the cache
    directory and every plugin; exit 1 when any check fails."""
    from automm.diagnostics import FAIL, run_checks

    checks = run_checks()
    if as_json:
        click.echo(json.dumps([c.as_dict() for c in checks], indent=2))
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            fix = f"  -> {c.fix}" if c.fix else ""
            click.echo(f"{MARK[c.status]}  {c.name:<{width}}  {c.detail}{fix}")
    if any(c.status == FAIL for c in checks):
        sys.exit(1)
