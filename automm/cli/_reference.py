"""The CLI reference page (docs/cli.md), generated from the click commands.

Regenerate with ``python -m automm.cli._reference > docs/cli.md``; a test fails when it drifts.
"""

from __future__ import annotations

import click

WIDTH = 100


def _sections(command: click.Command, path: list[str], parent: click.Context | None) -> list[str]:
    ctx = click.Context(command, info_name=path[-1], parent=parent, terminal_width=WIDTH,
                        max_content_width=WIDTH, **command.context_settings)
    out = [f"## {' '.join(path)}\n", "```text", command.get_help(ctx).rstrip(), "```\n"]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                out += _sections(sub, [*path, name], ctx)
    return out


def render_reference() -> str:
    """Markdown with the ``--help`` of every command, in command order."""
    from automm.cli import cli

    head = ["# automm command-line reference\n",
            "Generated from the commands by `python -m automm.cli._reference > docs/cli.md`;",
            "a test fails when this page and the commands disagree.\n"]
    return "\n".join(head + _sections(cli, ["automm"], None))


if __name__ == "__main__":
    click.echo(render_reference(), nl=False)
