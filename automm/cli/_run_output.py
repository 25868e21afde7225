"""What long commands print besides their progress bar: per-epoch lines and the "next:" list."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click
from tqdm.auto import tqdm


def metric(value: Any) -> str:
    """A metric as printed per epoch: four decimals, ``n/a`` for a missing (non-finite) value."""
    return "n/a" if value is None else f"{value:.4f}"


def echo_line(text: str) -> None:
    """Print one line on stdout without tearing a progress bar shown on stderr."""
    tqdm.write(text)


def echo_next(commands: Iterable[str]) -> None:
    """End a command with the commands a user would run next."""
    echo_line("next:")
    for command in commands:
        echo_line(f"  {command}")


progress_option = click.option(
    "--progress/--no-progress", default=None,
    help="Progress bar over the whole run, with elapsed and remaining time (default: when stderr is a "
         "terminal); the per-epoch lines are printed either way.")
"""The ``--progress/--no-progress`` option of the commands that train."""
