"""Click parameter types that refuse values no run can use (NaN/infinite floats, seeds outside
what torch and numpy accept), and the options several verbs share."""

from __future__ import annotations

import math
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
