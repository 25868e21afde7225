"""``automm show ARCH_JSON``: a readable summary of an architecture."""

from __future__ import annotations

import json
from collections.abc import Mapping

import click

from automm.ir import Architecture, build_space_for, load_architecture
from automm.ir.kinds import NodeKind
from automm.nn.plan import Node, make_plan


def summarize(arch: Architecture) -> str:
    """Text summary: space, per cell its inputs and per step its inputs and op, strategy, metrics."""
    space = build_space_for(arch)
    plan = make_plan(space)
    cfg = ", ".join(f"{k}={_text(v)}" for k, v in arch.config.items() if k != "tap_channels")
    lines = [f"space     {arch.space} ({cfg})"]

    def step_line(step: Node, prefix: str) -> str:
        a, b = (arch[s].removeprefix(prefix) for s in step.slots)
        return f"  {step.name.removeprefix(prefix):<7} {arch[step.op or '']}({a}, {b})"

    for cell in plan.cells:
        ins = [arch[n.slots[0]] for n in plan.nodes
               if n.kind == NodeKind.CELL_INPUT and space.graph.nodes[n.name].get("cell") == cell.name]
        lines.append(f"{cell.name:<9} inputs {', '.join(ins) or '-'}")
        lines += [step_line(s, f"{cell.name}/") for s in plan.nodes if s.cell == cell.name]
    lines += [step_line(s, "") for s in plan.nodes if s.kind == NodeKind.STEP and s.cell is None]
    if arch.strategy:
        lines.append("strategy  " + ", ".join(f"{k}={_text(v)}" for k, v in arch.strategy.items()))
    if arch.metrics:
        lines.append("metrics   " + ", ".join(f"{k}={_text(v)}" for k, v in arch.metrics.items()))
    return "\n".join(lines)


def _text(value: object) -> str:
    """A value as text, never a Python repr: floats to 4 significant digits, lists comma-joined,
    mappings as ``key value, key (nested ...)``, a missing value ``n/a``."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ",".join(map(_text, value))
    if isinstance(value, Mapping):
        return ", ".join(f"{k} ({_text(v)})" if isinstance(v, Mapping) else f"{k} {_text(v)}"
                         for k, v in value.items())
    return str(value)


@click.command("show")
@click.argument("arch_json", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True,
              help="Print the validated arch.json (docs/formats.md) instead of the summary.")
def command(arch_json: str, as_json: bool) -> None:
    """Summarise the architecture in ARCH_JSON."""
    arch = load_architecture(arch_json)
    click.echo(json.dumps(arch.to_dict(), indent=2) if as_json else summarize(arch))
