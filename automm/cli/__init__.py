"""The ``automm`` command line: a click root group; one module per verb.

Every module ``automm/cli/<verb>.py`` defines ``command`` (a click command or group);
plugins add theirs through ``automm_register_commands``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

import click

from automm import __version__
from automm.errors import AutommError
from automm.interrupts import Interrupted

ARGV = "automm.argv"
"""Key of the root context's ``meta``: the command line's arguments (for "start again with")."""


class DomainError(click.ClickException):
    """An expected error: one line on stderr, exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"automm: error: {self.format_message()}", err=True)


HELP_OPTION_NAMES = ["-h", "--help"]


def _with_help_names(command: click.Command) -> None:
    """Give ``command`` and a group's subcommands ``-h/--help`` however their context is made
    (click keeps a command's help option with the names of the first context that asks)."""
    command.context_settings.setdefault("help_option_names", HELP_OPTION_NAMES)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _with_help_names(sub)


class AutommGroup(click.Group):
    """Root group: loads verb modules and plugin commands lazily; maps domain errors."""

    _loaded = False

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        _with_help_names(cmd)
        super().add_command(cmd, name)

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for info in pkgutil.iter_modules(__path__):
            if not info.name.startswith("_"):
                module = importlib.import_module(f"{__name__}.{info.name}")
                self.add_command(module.command)
        from automm.plugins import add_plugin_commands, failures

        add_plugin_commands(self)
        for failed in failures():
            click.echo(f"automm: warning: plugin {failed.name!r} not loaded: {failed.reason}",
                       err=True)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load()
        command = super().get_command(ctx, cmd_name)
        if command is None and ctx.resilient_parsing is False:
            from automm.plugins import plugin_infos
            from automm.registry import did_you_mean

            close = did_you_mean(cmd_name, self.list_commands(ctx))
            if close:
                raise DomainError(f"no command {cmd_name!r}{close}; see automm --help")
            missing = [f"{p.name} ({p.status})" for p in plugin_infos() if p.status != "loaded"]
            if missing:
                raise DomainError(f"no command {cmd_name!r}; it may belong to a plugin that is not "
                                  f"loaded: {', '.join(missing)} (see automm plugins)")
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[ARGV] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Interrupted as exc:  # a stop on SIGINT or SIGTERM (automm.interrupts)
            if exc.hint is None:
                from automm.cli._run_output import same_command

                exc.hint = f"nothing to resume; start again with: {same_command()}"
            click.echo(f"automm: {exc.line()}", err=True)
            ctx.exit(exc.exit_code)
        except AutommError as exc:
            raise DomainError(str(exc)) from None
        except (ImportError, OSError, RecursionError, MemoryError) as exc:
            from automm.cli._boundary import boundary_message

            message = boundary_message(exc)
            if message is None:
                raise
            raise DomainError(message) from None


@click.group(cls=AutommGroup, context_settings={"help_option_names": HELP_OPTION_NAMES})
@click.version_option(__version__, "--version", prog_name="automm")
def cli() -> None:
    """automm: plugin-based multimodal neural architecture search."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="automm")
