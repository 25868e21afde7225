"""``automm show ARCH_JSON``: a readable summary of an architecture."""

from __future__ import annotations

import json

import click

from automm.ir import Architecture, build_space_for, load_architecture


def summarize(arch: Architecture) -> str:
    """Text summary: space, per cell its inputs and per step its inputs and op, strategy, metrics."""
    space = build_space_for(arch)
    cfg = ", ".join(f"{k}={v}" for k, v in arch.config.items() if k != "tap_channels")
    lines = [f"space     {arch.space} ({cfg})"]
    for cell in space.cells:
        ins = [arch[n] for n in space.cell_inputs(cell)]
        lines.append(f"{cell:<9} inputs {', '.join(ins)}")
        for step in space.steps(cell):
            a, b, op = arch[f"{step}/in/1"], arch[f"{step}/in/2"], arch[f"{step}/op"]
            short = [x.removeprefix(f"{cell}/") for x in (a, b)]
            lines.append(f"  {step.removeprefix(cell + '/'):<7} {op}({short[0]}, {short[1]})")
    if arch.strategy:
        lines.append("strategy  " + ", ".join(f"{k}={v}" for k, v in arch.strategy.items()))
    if arch.metrics:
        lines.append("metrics   " + ", ".join(f"{k}={_fmt(v)}" for k, v in arch.metrics.items()))
    return "\n".join(lines)


def _fmt(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


@click.command("show")
@click.argument("arch_json", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the validated arch.json.")
def command(arch_json: str, as_json: bool) -> None:
    """Summarise the architecture in ARCH_JSON."""
    arch = load_architecture(arch_json)
    click.echo(json.dumps(arch.to_dict(), indent=2) if as_json else summarize(arch))
