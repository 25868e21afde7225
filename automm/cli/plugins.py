"""``automm plugins``: every plugin and every registered component by kind."""

from __future__ import annotations

import json

import click

from automm.plugins import REGISTRIES, plugin_infos


def plugins_report() -> dict:
    """The data shown by ``automm plugins --json``."""
    report: dict = {kind: [{"name": e.name, "plugin": e.plugin, "distribution": e.distribution,
                            "version": e.version} for e in reg.entries()]
                    for kind, reg in REGISTRIES.items()}
    report["plugins"] = [
        {"name": p.name, "distribution": p.distribution, "version": p.version,
         "status": p.status, "reason": p.reason, "hooks": p.hooks} for p in plugin_infos()]
    return report


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def command(as_json: bool) -> None:
    """List plugins and the components they register."""
    report = plugins_report()
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for kind in REGISTRIES:
        click.secho(f"{kind.replace('_', ' ')}:", bold=True)
        for e in report[kind]:
            click.echo(f"  {e['name']:<20} {e['plugin']} ({e['distribution']} {e['version']})")
        if not report[kind]:
            click.echo("  (none)")
    click.secho("plugins:", bold=True)
    for p in report["plugins"]:
        extra = f": {p['reason']}" if p["reason"] else ""
        click.echo(f"  {p['name']:<20} {p['status']}{extra}")
