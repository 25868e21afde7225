"""``automm demo-data OUT_DIR`` (write the embedded demo corpus) and ``automm cache ls|rm``
(the feature caches ``--data`` extracted into the user cache)."""

from __future__ import annotations

import json

import click

from automm.cli._types import progress_flag
from automm.interrupts import handled, resumable


@click.command("demo-data")
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--small", is_flag=True, help="16 identities, one real clip each (64 videos; for tests).")
@click.option("--identities", type=click.IntRange(4), help="Number of identities (even; default 24).")
@click.option("--seed", default=0, show_default=True)
@click.option("--ring", is_flag=True, help="Donors in a ring, linking the whole cast like FakeAVCeleb's "
                                           "fakes (default: partners in pairs).")
@progress_flag("Progress bar (default: on); --quiet: the earlier spelling of --no-progress.", quiet=True)
@handled
def demo_data_command(out_dir: str, small: bool, identities: int | None, seed: int, ring: bool,
                      progress: bool | None) -> None:
    """Generate the demo audio-visual deepfake corpus (FakeAVCeleb layout) in OUT_DIR.

    Offline and deterministic: real face photographs bundled with scikit-image, synthetic
    voices, and four categories made by real manipulations (voice conversion, face swap,
    both with an audio-video offset).
    """
    import dataclasses

    from automm.cli._run_output import same_command
    from automm.plugins import require_plugin

    require_plugin("media", "automm demo-data")
    from automm_deepfake.demo import DemoSpec, generate_demo

    spec = DemoSpec.small(seed) if small else DemoSpec(seed=seed)
    if identities is not None:
        spec = dataclasses.replace(spec, identities=identities)
    spec = dataclasses.replace(spec, ring=ring)
    hint = f"nothing is kept (the corpus is written all at once); start again with: {same_command()}"
    with resumable(lambda: hint):
        record = generate_demo(out_dir, spec, progress=progress is not False)
    click.echo(f"demo corpus {out_dir}: {record['videos']} videos, {len(record['identities'])} identities "
               f"(faces: {record['faces']}; voices: synthetic), generated in {record['seconds']} s")


def human_size(size: int) -> str:
    """``1.2 GiB``: a byte count in binary units."""
    value, unit = float(size), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            break
        value /= 1024
    return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"


@click.group("cache")
def cache_command() -> None:
    """The feature caches that --data DATASET_DIR and the demo corpus extracted into the user cache
    ($AUTOMM_CACHE_DIR, else $XDG_CACHE_HOME/automm, else ~/.cache/automm)."""


@cache_command.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def cache_ls_command(as_json: bool) -> None:
    """List the cache's entries: name, size, date, datasets and backbone weights."""
    from automm.fileio import user_cache_dir
    from automm_deepfake.user_cache import entries

    root, found = user_cache_dir(), entries()
    if as_json:
        click.echo(json.dumps({"root": str(root), "entries": [e.record() for e in found]}, indent=2))
        return
    if not found:
        click.echo(f"automm cache {root}: no entries")
        return
    click.echo(f"automm cache {root}: {len(found)} entr{'y' if len(found) == 1 else 'ies'}, "
               f"{human_size(sum(e.size for e in found))}")
    for e in found:
        click.echo(f"{e.name}  {human_size(e.size)}  {e.date or 'unfinished (no manifest)'}")
        weights = ", ".join(f"{m} {w}" for m, w in e.backbones.items()) or "?"
        click.echo(f"    datasets {', '.join(e.datasets) or '?'}; backbones {weights}")
    click.echo("remove: automm cache rm NAME... (or --all --yes)")


@cache_command.command("rm")
@click.argument("names", nargs=-1, metavar="NAME...")
@click.option("--all", "remove_all", is_flag=True, help="Every entry (needs --yes).")
@click.option("--yes", is_flag=True, help="Confirm --all (nothing is asked interactively).")
def cache_rm_command(names: tuple[str, ...], remove_all: bool, yes: bool) -> None:
    """Remove the entries NAME (as automm cache ls names them, their folder name or path; never a
    path outside the cache), printing each with its size. A cache being written is refused."""
    from automm.fileio import user_cache_dir
    from automm_deepfake.user_cache import entries, find, remove

    if bool(names) == remove_all:
        raise click.UsageError("give NAME... or --all")
    chosen = entries() if remove_all else [find(n) for n in dict.fromkeys(names)]
    if remove_all and not yes:
        listed = ", ".join(e.name for e in chosen) or "nothing"
        raise click.UsageError(f"--all would remove {listed} ({human_size(sum(e.size for e in chosen))}) "
                               f"from {user_cache_dir()}; add --yes")
    for e in chosen:
        remove(e)
        click.echo(f"removed {e.name} ({human_size(e.size)}, {e.path})")
