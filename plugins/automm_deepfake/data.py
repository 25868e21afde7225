"""``--data`` for the bimodal-deepfake space: a feature cache, a dataset directory (extracted
once into the user cache) or nothing (the demo corpus, generated and extracted once)."""

from __future__ import annotations

import hashlib
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


def demo_cache() -> Path:
    """The demo corpus's feature cache, generating and extracting it on first use."""
    require_plugin("media", "the demo corpus (the default --data)")
    from automm_deepfake.demo import generate_demo

    root = user_cache_dir() / "demo"
    corpus, features = root / "corpus", root / "features"
    if not (features / "manifest.json").is_file():
        click.echo(f"automm: preparing the demo corpus in {root} (once; 2-3 minutes on 2 CPU cores)",
                   err=True)
    generate_demo(corpus)
    return _extract(corpus, features)


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
