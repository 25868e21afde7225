"""``--data`` for the bimodal-deepfake space: a feature cache, a dataset directory (extracted
once into the user cache) or nothing (the demo corpus, generated and extracted once)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path

import click

from automm.fileio import user_cache_dir
from automm.plugins import require_plugin


def _extract(dataset: Path, out: Path) -> Path:
    from automm_media.cli import summary
    from automm_media.extract import extract

    result = extract([dataset], out, progress=None)  # a bar only on a terminal
    if not result.up_to_date:
        click.echo(summary(result), err=True)
    return out


FIRST_RUN = {"corpus": (3.0, 0.2), "extraction": (4.0, 0.35), "search": (13.0, 0.0)}
"""Per stage of the first demo run: seconds of start-up and CPU seconds per video on one core,
measured on the 2-core reference machine (the search: its 30 epochs there); for the estimate only."""


def first_run_estimate(videos: int, cores: int, stages: Sequence[str]) -> dict[str, float]:
    """Estimated seconds of each of ``stages`` of the first demo run on an idle machine with
    ``cores`` CPU cores (:data:`FIRST_RUN`)."""
    return {s: FIRST_RUN[s][0] + videos * FIRST_RUN[s][1] / max(1, cores) for s in stages}


def demo_cache() -> Path:
    """The demo corpus's feature cache, generating and extracting it on first use, with an
    estimate of the stages to come first and the time each took after."""
    require_plugin("media", "the demo corpus (the default --data)")
    from automm.train.device import available_cores
    from automm_deepfake.demo import DemoSpec, generate_demo

    root = user_cache_dir() / "demo"
    corpus, features = root / "corpus", root / "features"
    first = not (features / "manifest.json").is_file()
    if first:
        cores = available_cores()
        todo = [s for s in FIRST_RUN if s != "corpus" or not (corpus / "demo.json").is_file()]
        guess = first_run_estimate(DemoSpec().videos, cores, todo)
        click.echo(f"automm: preparing the demo corpus in {root} (once): about {sum(guess.values()):.0f} s "
                   f"on {cores} idle core(s) (" + ", ".join(f"{s} {t:.0f} s" for s, t in guess.items()) + ")",
                   err=True)
    start = time.perf_counter()
    generate_demo(corpus)
    made = time.perf_counter()
    out = _extract(corpus, features)
    if first:
        click.echo(f"automm: first run: corpus {made - start:.1f} s, extraction "
                   f"{time.perf_counter() - made:.1f} s; the search follows", err=True)
    return out


def dataset_cache(dataset: Path) -> Path:
    """The feature cache of a dataset directory, extracted with default settings (randomly
    initialised backbones) on first use into ``<user cache>/extracted/<name>-<hash of its path>``."""
    require_plugin("media", f"extracting features of {dataset}")
    from automm_media.extractor import ExtractSettings

    root = dataset.resolve()
    key = hashlib.sha256(f"{root}|{ExtractSettings().key()}".encode()).hexdigest()[:12]
    out = user_cache_dir() / "extracted" / f"{root.name}-{key}"
    if not (out / "manifest.json").is_file():
        click.echo(f"automm: extracting features of {root} into {out} (once) with randomly initialised "
                   "backbones; for pretrained ones run automm extract --weights and pass its --out as "
                   "--data; automm cache ls lists such caches, automm cache rm removes them", err=True)
    return _extract(root, out)


def prepare(data: str | None) -> Path | None:
    """Resolve ``--data`` to a feature-cache directory (None: not a dataset directory)."""
    if data is None:
        return demo_cache()
    path = Path(data)
    if (path / "manifest.json").is_file():
        return path
    if path.is_dir():
        return dataset_cache(path)
    return None
