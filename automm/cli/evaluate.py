"""``automm evaluate ARCH_JSON``: retrain the derived network from scratch and report test metrics."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from automm import registry
from automm.data.cache import FeatureCache
from automm.errors import CacheError
from automm.ir import Architecture, load_architecture
from automm.train.retraining import RetrainSettings, retrain


def _cache_for(arch: Architecture, arch_json: Path, data: str | None) -> FeatureCache:
    """The cache to evaluate on: ``--data`` (through the space's ``prepare_data``), else the
    searched cache recorded in the arch.json provenance; a different cache gets a warning."""
    recorded = arch.provenance.get("data")
    recorded = recorded if isinstance(recorded, Mapping) else {}
    if data is None:
        path = recorded.get("path")
        if not path or not (Path(path) / "manifest.json").is_file():
            raise CacheError(f"{arch_json}: the searched feature cache {path or '(not recorded)'} "
                             "is not available; pass --data")
        return FeatureCache.open(path)
    cache = FeatureCache.open(registry.spaces.get(arch.space).prepare_data(data))
    if recorded.get("fingerprint") and recorded["fingerprint"] != cache.fingerprint:
        click.echo(f"automm: warning: {cache.path} is not the feature cache the architecture was "
                   "searched on (fingerprints differ)", err=True)
    return cache


def _table(metrics: Mapping[str, Any]) -> str:
    def f(v: Any) -> str:
        return "n/a" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)

    rows = [("test AUC", metrics["test_auc"]), ("test accuracy", metrics["test_acc"]),
            ("test EER", metrics["test_eer"]), ("val AUC", metrics["val_auc"]),
            ("val accuracy", metrics["val_acc"]),
            ("best epoch", f"{metrics['best_epoch']}/{metrics['epochs']}"),
            ("params (fusion)", metrics["params"]),
            ("params (with backbones)", metrics["params_with_backbones"]),
            ("backbone weights", metrics["weights"])]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {f(v)}" for k, v in rows)


@click.command("evaluate")
@click.argument("arch_json", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--data", help="Feature cache (or what the space accepts, e.g. a video dataset directory); "
                             "default: the cache the architecture was searched on.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output directory (default: eval/ beside ARCH_JSON).")
@click.option("--epochs", type=int, default=RetrainSettings.epochs, show_default=True)
@click.option("--batch-size", type=int, default=RetrainSettings.batch_size, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option("--resume", is_flag=True, help="Continue an interrupted evaluation in --out.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar per epoch (default: when stderr is a terminal).")
def command(arch_json: Path, data: str | None, out: Path | None, epochs: int, batch_size: int, seed: int,
            device: str, resume: bool, progress: bool | None) -> None:
    """Train the architecture in ARCH_JSON from scratch (dropout 0.2), select the epoch on validation,
    report test AUC, accuracy and EER, and write metrics.json, model.safetensors, arch.json,
    history.jsonl and predictions.csv into --out."""
    arch = load_architecture(arch_json)
    cache = _cache_for(arch, arch_json, data)
    out = out if out is not None else arch_json.parent / "eval"
    settings = RetrainSettings(epochs=epochs, batch_size=batch_size, seed=seed, device=device)
    result = retrain(arch, cache, settings, out, resume=resume, progress=progress)
    click.echo(_table(result.metrics))
    click.echo(f"wrote {out / 'metrics.json'}, model.safetensors, arch.json, history.jsonl, predictions.csv")
