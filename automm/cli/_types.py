"""Click parameter types that refuse values no run can use (NaN/infinite floats, seeds outside
what torch and numpy accept), and the options several verbs share: one spelling per meaning
(``-o/--out``, ``--progress/--no-progress``, ``--threads``, ``--json``); a new verb takes them from here."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from automm.train.settings import PRECISION_HELP, PRECISIONS


class FiniteFloat(click.FloatRange):
    """A float option that refuses ``nan``, ``inf`` and ``-inf`` and, given bounds (those of
    :class:`click.FloatRange`), values outside them: the one check of every float option
    (click's own range lets ``nan`` through, every comparison with it being false)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number = click.types.FloatParamType.convert(self, value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return float(super().convert(number, param, ctx))


FINITE_FLOAT = FiniteFloat()
NON_NEGATIVE = FiniteFloat(min=0)
POSITIVE = FiniteFloat(min=0, min_open=True)


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


class RegistryChoice(click.Choice):
    """The names registered in one registry (``kind``: a key of :data:`automm.plugins.REGISTRIES`)
    as a choice: ``--help`` and shell completion list them, plugins' included. The registry is
    read on first use (help, completion or a value), so ``automm --help`` loads no plugin. A
    value converts to the registered name (any case); an unknown one is the registry's one-line
    error (did you mean, the known names); ``check`` (e.g. that a logger's plugin is loaded)
    runs first."""

    def __init__(self, kind: str, check: Callable[[str], None] | None = None) -> None:
        self.kind, self.check, self.case_sensitive = kind, check, False

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        from automm.plugins import REGISTRIES

        return tuple(REGISTRIES[self.kind].list())

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from automm.plugins import REGISTRIES

        if self.check is not None:
            self.check(value)
        return REGISTRIES[self.kind].entry(value).name


class RegistryNames(RegistryChoice):
    """Comma-separated names of one registry (``--ops sum,attention``): each converts as in
    :class:`RegistryChoice`; the value stays one comma-joined string; completion completes the
    last name."""

    name = "names"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "A,B,..."

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        names = [v.strip() for v in str(value).split(",") if v.strip()]
        return ",".join(super(RegistryNames, self).convert(v, param, ctx) for v in names)

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        done, _, last = incomplete.rpartition(",")
        prefix = f"{done}," if done else ""
        return [CompletionItem(prefix + c) for c in self.choices if c.startswith(last.lower())]
SEED = click.IntRange(0, 2**63 - 1)
"""Seeds torch, numpy (modulo 2**32) and Python all accept."""


def option_type(hint: Any) -> Any:
    """The click type of an option declared as ``hint`` (``float`` -> :data:`FINITE_FLOAT`)."""
    return FINITE_FLOAT if hint is float else hint


no_verify_option = click.option(
    "--no-verify", is_flag=True,
    help="Skip re-hashing the feature cache's tap data against its fingerprint (and the NaN/"
         "infinity check) on open; the manifest and file shapes are still checked.")


def _check_logger(name: str) -> None:
    from automm.loggers import check_logger_names

    check_logger_names((name,))


precision_option = click.option("--precision", type=click.Choice(PRECISIONS), default="fp32",
                                show_default=True, help=PRECISION_HELP)
compile_option = click.option(
    "--compile", is_flag=True,
    help="torch.compile the network's training steps (fewer kernel launches on a GPU; in a search, "
         "single-path strategies then run the full mixture).")


logger_option = click.option(
    "--logger", "loggers", multiple=True, type=RegistryChoice("loggers", _check_logger),
    help="Follow the run live in this tracker (repeatable): `tensorboard` (extra automm[tensorboard]) "
         "writes event files into tensorboard/ of the run; plugins add others (automm plugins).")


def out_option(help: str, *, required: bool = False, type: click.ParamType = OUT_DIR) -> Any:
    """``-o/--out``: where a verb writes (a directory, or a file with ``type``)."""
    return click.option("-o", "--out", type=type, required=required, help=help)


PROGRESS_HELP = ("Progress bar over the whole run, with elapsed and remaining time (default: when stderr is "
                 "a terminal); the per-epoch lines are printed either way.")


def progress_flag(help: str = PROGRESS_HELP, *, quiet: bool = False) -> Any:
    """``--progress/--no-progress`` (value None: when stderr is a terminal); ``quiet``: also
    ``--quiet``, the earlier spelling of ``--no-progress``."""
    return click.option("--progress/--no-progress", *((" /--quiet",) if quiet else ()), "progress",
                        default=None, help=help)


progress_option = progress_flag()
"""The ``--progress/--no-progress`` option of the commands that train."""


def show_progress(progress: bool | None) -> bool:
    """The value of ``--progress/--no-progress``, None resolved: whether stderr is a terminal."""
    import sys

    return progress if progress is not None else sys.stderr.isatty()


def _set_threads(ctx: click.Context, param: click.Parameter, threads: int | None) -> int | None:
    if threads is not None and not ctx.resilient_parsing:
        import torch

        torch.set_num_threads(threads)
    return threads


threads_option = click.option(
    "--threads", type=click.IntRange(1), callback=_set_threads,
    help="CPU threads of torch in this process (default: torch's, the number of cores).")
"""``--threads N``: sets torch's intra-op threads when given (torch loads only then)."""

json_option = click.option(
    "--json", "as_json", is_flag=True,
    help="Print one JSON object on stdout at the end (its keys: docs/formats.md, Command output); "
         "everything else goes to stderr.")
"""``--json``: the verb prints :func:`echo_json`'s object and nothing else on stdout."""


def _legacy_resume(ctx: click.Context, param: click.Parameter, value: str | None) -> bool | Path:
    if value is None:
        return False
    if value == "":
        return True
    click.echo(f"automm: warning: --resume RUN_DIR is deprecated; write --out {value} --resume", err=True)
    return Path(value)


def resume_option(what: str, *, legacy_dir: bool = False) -> Any:
    """``--resume``, on every verb a flag: continue the interrupted ``what`` in ``--out`` with
    its recorded settings. ``legacy_dir``: ``--resume DIR`` (the earlier spelling) still works,
    with a deprecation line; the value is then that DIR (a :class:`Path`), else True or False."""
    help = f"Continue the interrupted {what} in --out (its recorded settings)."
    if not legacy_dir:
        return click.option("--resume", is_flag=True, help=help)
    return click.option("--resume", is_flag=False, flag_value="", default=None, metavar="",
                        callback=_legacy_resume,
                        help=help + " `--resume RUN_DIR`: the earlier spelling of --out RUN_DIR --resume.")
