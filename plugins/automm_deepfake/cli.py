"""``automm demo-data OUT_DIR``: write the embedded demo corpus."""

from __future__ import annotations

import click

from automm.cli._types import progress_flag


@click.command("demo-data")
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--small", is_flag=True, help="16 identities, one real clip each (64 videos; for tests).")
@click.option("--identities", type=click.IntRange(4), help="Number of identities (even; default 24).")
@click.option("--seed", default=0, show_default=True)
@click.option("--ring", is_flag=True, help="Donors in a ring, linking the whole cast like FakeAVCeleb's "
                                           "fakes (default: partners in pairs).")
@progress_flag("Progress bar (default: on); --quiet: the earlier spelling of --no-progress.", quiet=True)
def demo_data_command(out_dir: str, small: bool, identities: int | None, seed: int, ring: bool,
                      progress: bool | None) -> None:
    """Generate the demo audio-visual deepfake corpus (FakeAVCeleb layout) in OUT_DIR.

    Offline and deterministic: real face photographs bundled with scikit-image, synthetic
    voices, and four categories made by real manipulations (voice conversion, face swap,
    both with an audio-video offset).
    """
    import dataclasses

    from automm.plugins import require_plugin

    require_plugin("media", "automm demo-data")
    from automm_deepfake.demo import DemoSpec, generate_demo

    spec = DemoSpec.small(seed) if small else DemoSpec(seed=seed)
    if identities is not None:
        spec = dataclasses.replace(spec, identities=identities)
    spec = dataclasses.replace(spec, ring=ring)
    record = generate_demo(out_dir, spec, progress=progress is not False)
    click.echo(f"demo corpus {out_dir}: {record['videos']} videos, {len(record['identities'])} identities "
               f"(faces: {record['faces']}; voices: synthetic), generated in {record['seconds']} s")
