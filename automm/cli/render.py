"""``automm render``: draw an architecture (arch.json) or a whole search space with Graphviz."""

from __future__ import annotations

from pathlib import Path

import click

from automm import plugins
from automm.cli._space_options import parse_space_options
from automm.cli._types import RegistryChoice
from automm.ir import load_architecture
from automm.render import FORMATS, STDOUT, architecture_file, architecture_graph, space_graph, write_graph


@click.command("render", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="[ARCH_JSON] [SPACE OPTIONS]")
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="Output file, - for standard output (default: ARCH_JSON with the format's suffix, "
                   "or SPACE.svg).")
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="Output format (default: from the suffix of --out; svg).")
@click.option("--omit-unused", is_flag=True,
              help="Leave out unused nodes (e.g. taps no cell picks) instead of fading them.")
@click.option("--space", "space_name", type=RegistryChoice("spaces"),
              help="Draw the whole search space NAME (every candidate edge) instead of an arch.json; "
                   "its config fields are options, e.g. --cells 3 --ops sum,attention.")
def command(args: tuple[str, ...], out: Path | None, fmt: str | None, omit_unused: bool,
            space_name: str | None) -> None:
    """Draw the architecture in ARCH_JSON (or a search space with --space) as svg, png, pdf or dot.

    Formats other than dot need the Graphviz `dot` executable; without it the DOT source is
    written next to the output and the command fails.
    """
    if space_name is not None:
        definition = plugins.spaces.get(space_name)
        config = parse_space_options(definition.config_type, args)
        graph = space_graph(definition.build(config))
        default_out = Path(f"{space_name}.svg")
    else:
        if len(args) != 1 or args[0].startswith("-"):
            raise click.UsageError("give one ARCH_JSON, or --space NAME with space options"
                                   + (f" (got {' '.join(args)})" if args else ""))
        arch_json = Path(args[0])
        graph = architecture_graph(load_architecture(arch_json), omit_unused=omit_unused)
        default_out = architecture_file(arch_json)  # the file `automm report` draws too
    if out is None:
        out = default_out.with_suffix(f".{fmt}") if fmt else default_out
    written = write_graph(graph, out, fmt)
    if written != STDOUT:
        click.echo(f"wrote {written}")

