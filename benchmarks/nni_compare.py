"""NNI's DARTS and GumbelDARTS against automm's darts and stgs, side by side (needs automm[nni]).

On the planted-signal caches of ``stgs_readings.py`` (one per data seed, ResNet-34 tap widths,
signal in ``image/3`` and ``audio/2``) and its space (C=32, L=4, 2 cells x 2 steps, the full op
pool), each method searches for a fixed number of epochs (automm's stop rule off, so all run
alike), its derived architecture is retrained and tested, and one markdown table is printed (means
over data seeds): planted taps recovered, derived val AUC, test AUC, search seconds (median per
epoch, each including the scoring of its derived architecture; and in total, with setup) and the
peak memory of the search process (max RSS; each job runs in its own process). NNI runs through
``automm nni search`` (its own strategy and Lightning loop, automm's derivation and scoring); rows
are kept in OUT/results.jsonl (a rerun skips finished ones).

    python benchmarks/nni_compare.py --out /tmp/nni-compare
    python benchmarks/nni_compare.py --out /tmp/nni-demo --data ~/.cache/automm/demo/features
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from multiprocessing import get_context
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stgs_readings import OPS, PLANTED, RESNET34_WIDTHS, _mean_sd

METHODS = ("automm darts", "automm stgs", "nni darts", "nni gumbel")


def run_point(job: Mapping[str, Any]) -> dict[str, Any]:
    """One search (and retraining of its result) on the cache of one data seed, in a fresh process."""
    import torch

    from automm import plugins
    from automm.data.cache import FeatureCache
    from automm.run.binding import space_for_cache
    from automm.train.bilevel import search
    from automm.train.retraining import retrain
    from automm.train.settings import RetrainSettings, SearchSettings

    torch.set_num_threads(1)
    cache = FeatureCache.open(job["cache"])
    space = space_for_cache(plugins.spaces.get("bimodal-deepfake"),
                            {"C": 32, "L": 4, "cells": 2, "steps": 2, "ops": OPS}, cache)
    tool, name = job["method"].split()
    start = time.perf_counter()
    if tool == "automm":
        settings = SearchSettings(epochs=job["epochs"], batch_size=job["batch"], seed=0, device="cpu",
                                  patience=job["epochs"] + 1)  # no early stop: every method runs alike
        result = search(space, plugins.strategies.get(name)(), cache, settings, job["run_dir"],
                        progress=False)
    else:
        from automm_nni.search import NniSettings, nni_search

        settings = NniSettings(epochs=job["epochs"], batch_size=job["batch"], seed=0, device="cpu")
        result = nni_search(space, name, cache, settings, job["run_dir"], progress=False)
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    arch = result.architecture
    retraining = RetrainSettings(epochs=job["retrain_epochs"], batch_size=32, device="cpu")
    evaluation = retrain(arch, cache, retraining, Path(job["run_dir"]) / "eval", progress=False)
    taps = {v for k, v in arch.choices.items() if "/in/" in k and "/step/" not in k}
    recovered = set(PLANTED) <= taps if job["planted"] else None
    return {"method": job["method"], "data_seed": job["data_seed"], "recovered": recovered,
            "taps": sorted(taps), "val_auc": arch.metrics["val_auc"],
            "test_auc": evaluation.metrics["test_auc"], "search_seconds": round(seconds, 1),
            "seconds_per_epoch": round(statistics.median(r["seconds"] for r in result.history), 2),
            "peak_mib": round(peak_mib), "strategy": dict(arch.strategy)}


def _recovered(rows: Sequence[Mapping[str, Any]]) -> str:
    """``k/n`` runs that recovered the planted taps; n/a on a cache without a planted signal."""
    if any(r["recovered"] is None for r in rows):
        return "n/a"
    return f"{sum(r['recovered'] for r in rows)}/{len(rows)}"


def table(rows: Sequence[Mapping[str, Any]]) -> str:
    """One line per method, means over data seeds."""
    lines = ["| method | planted taps recovered | derived val AUC | test AUC | s / search epoch (median) "
             "| search s (total) | peak RSS MiB |", "|" + "---|" * 7]
    for method in METHODS:
        got = [r for r in rows if r["method"] == method]
        if got:
            lines.append(
                f"| {method} | {_recovered(got)} | "
                f"{_mean_sd([r['val_auc'] for r in got])} | {_mean_sd([r['test_auc'] for r in got])} | "
                f"{statistics.mean(r['seconds_per_epoch'] for r in got):.2f} | "
                f"{statistics.mean(r['search_seconds'] for r in got):.0f} | "
                f"{statistics.mean(r['peak_mib'] for r in got):.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/automm-nni-compare"))
    parser.add_argument("--seeds", type=int, default=5, help="data seeds (one cache each)")
    parser.add_argument("--identities", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=30, help="search epochs (every method)")
    parser.add_argument("--retrain-epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--signal", choices=("xor", "sum"), default="xor")
    parser.add_argument("--data", type=Path,
                        help="an existing feature cache (e.g. the demo corpus's) instead of the planted "
                             "caches: one run per method, nothing planted to recover")
    args = parser.parse_args()

    from automm.data.synthetic import make_synthetic_cache

    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.jsonl"
    done = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    finished = {(r["method"], r["data_seed"]) for r in done}
    jobs = []
    for seed in range(1 if args.data else args.seeds):
        cache = args.data or args.out / f"cache-{seed}"
        if not (cache / "manifest.json").exists():
            make_synthetic_cache(cache, identities=args.identities, signal=PLANTED, seed=seed,
                                 channels=RESNET34_WIDTHS, signal_kind=args.signal)
        jobs += [{"method": m, "data_seed": seed, "cache": str(cache), "epochs": args.epochs,
                  "planted": args.data is None,
                  "batch": args.batch, "retrain_epochs": args.retrain_epochs,
                  "run_dir": str(args.out / f"seed{seed}-{m.replace(' ', '-')}")}
                 for m in METHODS if (m, seed) not in finished]
    with get_context("spawn").Pool(args.workers, maxtasksperchild=1) as pool, results.open("a") as sink:
        for row in pool.imap_unordered(run_point, jobs):
            sink.write(json.dumps(row) + "\n")
            sink.flush()
            done.append(row)
            print(f"{row['method']:<14} seed {row['data_seed']}: recovered {row['recovered']}, test AUC "
                  f"{row['test_auc']:.3f}, {row['seconds_per_epoch']} s/epoch, {row['peak_mib']} MiB",
                  flush=True)
    print(table(done))


if __name__ == "__main__":
    main()
