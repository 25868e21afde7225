"""The STGS fidelity experiment of docs/results.md: readings of the M samples against the baselines.

On planted-signal caches (:mod:`automm.data.synthetic`, one per data seed, ResNet-34 tap widths)
with the full op pool and 2 cells x 2 steps, it searches with stgs under each ``--ensemble``
reading and M in {1, 5, 15} (at M = 1 the four readings coincide: one row), darts and bmnas,
retrains each derived architecture and prints one markdown table (means over data seeds):
planted taps recovered, entropy at the end, stop epoch, derived validation and test AUC,
the gap between the supernet's and the derived network's validation accuracy at the last
epoch, and search seconds. Rows are kept in OUT/results.jsonl (a rerun skips finished ones);
``--figures DIR`` also writes the entropy overlay of stgs (default reading) against darts on
data seed 0 (``automm report --compare``).

    python benchmarks/stgs_readings.py --out /tmp/stgs-xor --figures docs/img
    python benchmarks/stgs_readings.py --out /tmp/stgs-sum --signal sum
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Mapping, Sequence
from multiprocessing import get_context
from pathlib import Path
from typing import Any

PLANTED = ("image/3", "audio/2")
RESNET34_WIDTHS = (64, 128, 256, 512)
OPS = ("zero", "sum", "attention", "linear-glu", "concat-fc")


def configurations() -> list[tuple[str, str, dict[str, Any]]]:
    """(row label, strategy, strategy parameters) of every row of the table."""
    rows = [("stgs M=1", "stgs", {"samples": 1, "ensemble": "split"})]
    for ensemble in ("split", "max-soft", "max-hard", "mean"):
        for m in (5, 15):
            rows.append((f"stgs {ensemble} M={m}", "stgs", {"samples": m, "ensemble": ensemble}))
    return [*rows, ("darts", "darts", {}), ("bmnas", "bmnas", {})]


def run_point(job: Mapping[str, Any]) -> dict[str, Any]:
    """One search (and retraining of its result) on the cache of one data seed."""
    import torch

    from automm import plugins
    from automm.data.cache import FeatureCache
    from automm.run.binding import space_for_cache
    from automm.train.bilevel import search
    from automm.train.retraining import retrain
    from automm.train.settings import RetrainSettings, SearchSettings

    torch.set_num_threads(1)
    cache = FeatureCache.open(job["cache"])
    definition = plugins.spaces.get("bimodal-deepfake")
    space = space_for_cache(definition, {"C": 32, "L": 4, "cells": 2, "steps": 2, "ops": OPS}, cache)
    strategy = plugins.strategies.get(job["strategy"])(**job["params"])
    settings = SearchSettings(epochs=job["epochs"], batch_size=job["batch"], seed=job["seed"], device="cpu")
    start = time.perf_counter()
    result = search(space, strategy, cache, settings, job["run_dir"], progress=False)
    seconds = time.perf_counter() - start
    arch = result.architecture
    evaluation = retrain(arch, cache, RetrainSettings(epochs=job["retrain_epochs"], batch_size=32,
                                                       device="cpu"), Path(job["run_dir"]) / "eval",
                         progress=False)
    taps = {v for k, v in arch.choices.items() if "/in/" in k and "/step/" not in k}
    last = result.history[-1]
    return {
        "row": job["row"], "data_seed": job["data_seed"], "run_dir": str(job["run_dir"]),
        "recovered": set(PLANTED) <= taps, "taps": sorted(taps),
        "entropy": last["entropy"], "epochs": arch.metrics["epochs"], "stopped": result.stopped,
        "best_epoch": arch.metrics["best_epoch"],
        "val_auc": arch.metrics["val_auc"], "test_auc": evaluation.metrics["test_auc"],
        "supernet_val_acc": last["val_acc"], "derived_val_acc": last["derived_val_acc"],
        "seconds": round(seconds, 1),
    }


def _mean_sd(values: Sequence[float]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The markdown table: one line per configuration, means over data seeds."""
    head = ("| configuration | planted taps recovered | entropy at end (α / β / γ) | stop epoch "
            "(converged) | derived val AUC | test AUC | supernet - derived val acc | search s |")
    lines = [head, "|" + "---|" * 8]
    for label, _, _ in configurations():
        got = [r for r in rows if r["row"] == label]
        if not got:
            continue
        families = list(got[0]["entropy"])
        entropy = " / ".join(f"{statistics.mean(r['entropy'][f] for r in got):.3f}" for f in families)
        gaps = [abs(r["supernet_val_acc"] - r["derived_val_acc"]) for r in got
                if r["supernet_val_acc"] is not None and r["derived_val_acc"] is not None]
        lines.append(
            f"| {label} | {sum(r['recovered'] for r in got)}/{len(got)} | {entropy} | "
            f"{statistics.mean(r['epochs'] for r in got):.1f} "
            f"({sum(r['stopped'] == 'converged' for r in got)}/{len(got)}) | "
            f"{_mean_sd([r['val_auc'] for r in got])} | {_mean_sd([r['test_auc'] for r in got])} | "
            f"{statistics.mean(gaps):.3f} | {statistics.mean(r['seconds'] for r in got):.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/automm-stgs-readings"))
    parser.add_argument("--seeds", type=int, default=5, help="data seeds (one cache each)")
    parser.add_argument("--identities", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=30, help="maximum search epochs")
    parser.add_argument("--retrain-epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--signal", choices=("xor", "sum"), default="xor",
                        help="planted signal: xor (only the pair predicts) or sum (each tap in part)")
    parser.add_argument("--figures", type=Path, help="write the stgs-vs-darts entropy overlay here")
    args = parser.parse_args()

    from automm.data.synthetic import make_synthetic_cache

    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.jsonl"
    done = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    finished = {(r["row"], r["data_seed"]) for r in done}
    jobs = []
    for seed in range(args.seeds):
        cache = args.out / f"cache-{seed}"
        if not (cache / "manifest.json").exists():
            make_synthetic_cache(cache, identities=args.identities, signal=PLANTED, seed=seed,
                                 channels=RESNET34_WIDTHS, signal_kind=args.signal)
        for label, strategy, params in configurations():
            if (label, seed) in finished:
                continue
            jobs.append({"row": label, "strategy": strategy, "params": params, "data_seed": seed,
                         "seed": 0, "cache": str(cache), "epochs": args.epochs, "batch": args.batch,
                         "retrain_epochs": args.retrain_epochs,
                         "run_dir": str(args.out / f"seed{seed}-{label.replace(' ', '-')}")})
    with get_context("spawn").Pool(args.workers) as pool, results.open("a") as sink:
        for row in pool.imap_unordered(run_point, jobs):
            sink.write(json.dumps(row) + "\n")
            sink.flush()
            done.append(row)
            print(f"{row['row']:<22} seed {row['data_seed']}: recovered {row['recovered']}, "
                  f"test AUC {row['test_auc']:.3f}, {row['epochs']} epochs ({row['stopped']}), "
                  f"{row['seconds']} s", flush=True)
    print(table(done))
    if args.figures is not None:
        from automm.report.compare import compare_runs

        runs = [args.out / f"seed0-{label.replace(' ', '-')}" for label in ("stgs split M=15", "darts")]
        for path in compare_runs(runs, args.figures):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
