"""What long commands print besides their progress bar: per-epoch lines and the "next:" list."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource
from tqdm.auto import tqdm

from automm.cli._types import progress_option as progress_option


def metric(value: Any) -> str:
    """A metric as printed per epoch: four decimals, ``n/a`` for a missing (non-finite) value."""
    return "n/a" if value is None else f"{value:.4f}"


def echo_line(text: str) -> None:
    """Print one line on stdout without tearing a progress bar shown on stderr."""
    tqdm.write(text)


class Eta:
    """The remaining time printed at the end of each epoch line (so a run off a terminal, with no
    progress bar, shows it too): the mean epoch time of this process so far times the epochs
    left; ``up_to``: the run may stop before ``epochs`` (search's stop rule)."""

    def __init__(self, epochs: int | None, *, up_to: bool = False) -> None:
        self.epochs, self.up_to, self.seconds = epochs, up_to, []

    def __call__(self, record: Mapping[str, Any]) -> str:
        """`` | ETA H:MM:SS ...`` after ``record``'s epoch, or "" when the epochs are unknown."""
        self.seconds.append(record["seconds"])
        if not self.epochs:
            return ""
        left = sum(self.seconds) / len(self.seconds) * max(self.epochs - record["epoch"], 0)
        bound = f" (up to {self.epochs} epochs)" if self.up_to else ""
        return f" | ETA {tqdm.format_interval(left)}{bound}"


def echo_next(commands: Iterable[str]) -> None:
    """End a command with the commands a user would run next."""
    echo_line("next:")
    for command in commands:
        echo_line(f"  {command}")


@contextmanager
def stdout_to_stderr(active: bool) -> Iterator[None]:
    """Inside, what a command prints on stdout goes to stderr when ``active`` (``--json``: stdout
    then holds the JSON object alone)."""
    if not active:
        yield
        return
    with redirect_stdout(sys.stderr):
        yield


def echo_json(command: str, files: Iterable[str | Path] = (), *, status: str = "finished",
              **fields: Any) -> None:
    """Print the ``--json`` object of ``command`` on stdout: ``command``, ``status`` (``finished``,
    or ``failed``), ``files`` (the paths written) and the verb's ``fields`` (docs/formats.md)."""
    doc = {"command": command, "status": status, "files": [str(f) for f in files], **fields}
    click.echo(json.dumps(doc, indent=2))


def warn_ignored(ctx: click.Context, keep: Iterable[str], why: str) -> None:
    """Warn (stderr) about the options given on the command line other than ``keep`` (parameter
    names): a run repeated from its record (``why``, e.g. ``--resume``) uses the recorded ones."""
    kept = set(keep)
    ignored = [p.opts[0] for p in ctx.command.get_params(ctx)
               if p.name not in kept and p.name is not None and p.opts
               and ctx.get_parameter_source(p.name) == ParameterSource.COMMANDLINE]
    if ignored:
        click.echo(f"automm: warning: {why} uses the run's recorded settings; ignoring "
                   f"{', '.join(ignored)}", err=True)


def given(ctx: click.Context, name: str) -> bool:
    """Whether the parameter ``name`` was given on the command line."""
    return ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE


def fresh_dir(base: Path) -> Path:
    """``base``, or ``base-2``, ``base-3``, ... : the first that does not exist."""
    out, k = base, 1
    while out.exists():
        k += 1
        out = base.with_name(f"{base.name}-{k}")
    return out


def same_command() -> str:
    """The command line being run, quoted for a shell (what "start again with" prints)."""
    from automm.cli import ARGV

    return shlex.join(["automm", *click.get_current_context().find_root().meta.get(ARGV, [])])
