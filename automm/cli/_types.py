"""Click parameter types that refuse values no run can use (NaN/infinite floats, seeds outside
what torch and numpy accept), and the options several verbs share."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click


class FiniteFloat(click.types.FloatParamType):
    """A float option that refuses ``nan``, ``inf`` and ``-inf``."""

    name = "float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


FINITE_FLOAT = FiniteFloat()


class OutDir(click.Path):
    """A directory to write (``--out``): refuses ``''`` (it would write into the current
    directory) and names with control characters (a newline, an escape sequence)."""

    def __init__(self) -> None:
        super().__init__(file_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            if not value:
                self.fail("an empty path; name a directory (e.g. runs/r1)", param, ctx)
            if any(ord(c) < 32 or ord(c) == 127 for c in value):
                self.fail(f"{value!r} holds a control character", param, ctx)
        return super().convert(value, param, ctx)


OUT_DIR = OutDir()
SEED = click.IntRange(0, 2**63 - 1)
"""Seeds torch, numpy (modulo 2**32) and Python all accept."""


def option_type(hint: Any) -> Any:
    """The click type of an option declared as ``hint`` (``float`` -> :data:`FINITE_FLOAT`)."""
    return FINITE_FLOAT if hint is float else hint


no_verify_option = click.option(
    "--no-verify", is_flag=True,
    help="Skip re-hashing the feature cache's tap data against its fingerprint (and the NaN/"
         "infinity check) on open; the manifest and file shapes are still checked.")


def _check_loggers(ctx: click.Context, param: click.Parameter, names: tuple[str, ...]) -> tuple[str, ...]:
    from automm.loggers import check_logger_names

    check_logger_names(names)
    return names


logger_option = click.option(
    "--logger", "loggers", multiple=True, metavar="NAME", callback=_check_loggers,
    help="Follow the run live in this tracker (repeatable): `tensorboard` (extra automm[tensorboard]) "
         "writes event files into tensorboard/ of the run; plugins add others (automm plugins).")
