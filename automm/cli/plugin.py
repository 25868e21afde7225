"""``automm plugin new``: scaffold a third-party plugin package."""

from __future__ import annotations

from pathlib import Path

import click

from automm.scaffold import KINDS, new_plugin


@click.group("plugin")
def command() -> None:
    """Write plugins: scaffold a package (see `automm plugins` to list installed ones)."""


@command.command("new")
@click.argument("name")
@click.option("--kind", type=click.Choice(list(KINDS)), default="fusion-op", show_default=True,
              help="What the package registers.")
@click.option("--dir", "parent", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="Where to create the automm-NAME folder.")
def new(name: str, kind: str, parent: Path) -> None:
    """Create the package automm-NAME (pyproject, module, test, README) that installs and passes
    its own test as is."""
    target = new_plugin(name, kind, parent)
    click.echo(f"created {target}")
    click.echo(f"next: pip install -e {target} && python -m pytest {target / 'tests'}")
