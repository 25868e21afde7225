"""``automm synthetic-cache -o DIR``: a small feature cache with a planted signal, in seconds."""

from __future__ import annotations

from pathlib import Path

import click

from automm.cli._types import SEED, out_option


@click.command("synthetic-cache")
@out_option("Feature-cache directory to write.", required=True)
@click.option("--identities", type=click.IntRange(5), default=12, show_default=True,
              help="Identities, 8 samples each (split 60/20/20 by identity).")
@click.option("--signal", "signal_kind", type=click.Choice(["sum", "xor"]), default="sum",
              show_default=True,
              help="sum: the label is sign(z_image + z_audio), each planted tap helps alone; "
                   "xor: only the pair of taps predicts it.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing directory in --out.")
def command(out: Path, identities: int, signal_kind: str, seed: int, force: bool) -> None:
    """Write a synthetic feature cache for trying automm without videos: 4 image and 4 audio taps
    shaped like a ResNet's stages (scaled down), label signal planted in image/3 and audio/2,
    everything else noise. Search it with a small space, e.g. --C 16 --L 2."""
    from automm.data.synthetic import make_synthetic_cache
    from automm.errors import AutommError

    if out.exists() and not force and (not out.is_dir() or any(out.iterdir())):
        raise AutommError(f"{out}: already exists and is not empty; choose another --out or add "
                          "--force to replace it")
    make_synthetic_cache(out, identities=identities, signal_kind=signal_kind, seed=seed)
    click.echo(f"wrote {out}: {identities * 8} samples, signal {signal_kind} in image/3 and audio/2\n"
               f"next: automm search --data {out} --C 16 --L 2 --epochs 3 --out runs/toy")
