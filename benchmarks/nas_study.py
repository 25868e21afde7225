"""The NAS study of docs/results.md: does a search learn its architecture, against random search?

On planted-signal caches (:mod:`automm.data.synthetic`, one per data seed) big enough that every
search makes at least 3,000 architecture steps, it searches with six rows: stgs with the paper's
exact architecture optimiser (Adam, lr 3e-3, coupled weight decay 1e-3), stgs with AdamW at lr 3e-3
(its default before the study), stgs with its defaults (AdamW, lr 0.03), darts, bmnas and random
(uniform single paths, logits never trained). Each search runs once with ``--select best`` (every
epoch's derived architecture scored on validation); the ``--select final`` result is the
architecture derived from its final logits (the last epoch's ``choices``): scoring draws no random
numbers, so a ``final`` search follows the same course and ends with the same logits (``--check``
verifies this on one pair). Both architectures are retrained and tested. It prints, per signal, one
markdown table (planted taps recovered, entropy at the end, test AUC with a 95% t interval over
data seeds, architecture steps, seconds) and the paired difference of each row from random on the
same seeds; rows are kept in OUT/results.jsonl (a rerun skips finished ones), ``--figures DIR``
writes the entropy overlay (the paper's Figure 1b).

    python benchmarks/nas_study.py --out /tmp/nas-study --figures docs/img
    python benchmarks/nas_study.py --quick --out /tmp/nas-quick      # smoke test, under a minute
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PLANTED = ("image/3", "audio/2")
SPACE = {"C": 16, "L": 2, "cells": 2, "steps": 1,
         "ops": ("zero", "sum", "attention", "linear-glu", "concat-fc")}
PAPER_ARCH_OPTIMIZER = {"arch_optimizer": "adam", "arch_lr": 3e-3, "arch_weight_decay": 1e-3}
ROWS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("stgs (paper)", "stgs", PAPER_ARCH_OPTIMIZER),
    ("stgs (AdamW, lr 3e-3)", "stgs", {"arch_lr": 3e-3}),
    ("stgs (defaults)", "stgs", {}),
    ("darts", "darts", {}),
    ("bmnas", "bmnas", {}),
    ("random", "random", {}),
)
"""(row label, strategy, strategy parameters)."""
SELECTS = ("final", "best")
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
"""Two-sided 95% quantiles of Student's t by degrees of freedom."""


def cell_taps(choices: Mapping[str, str]) -> set[str]:
    """The taps the cells of an architecture read."""
    return {v for k, v in choices.items() if "/in/" in k and "/step/" not in k}


def run_point(job: Mapping[str, Any]) -> dict[str, Any]:
    """One search in ``best`` mode and the retraining of its best and final architectures."""
    import torch

    from automm import plugins
    from automm.data.cache import FeatureCache
    from automm.ir.architecture import Architecture
    from automm.run.binding import space_for_cache
    from automm.train.bilevel import search
    from automm.train.retraining import retrain
    from automm.train.settings import RetrainSettings, SearchSettings

    torch.set_num_threads(1)
    cache = FeatureCache.open(job["cache"])
    space = space_for_cache(plugins.spaces.get("bimodal-deepfake"), SPACE, cache)
    strategy = plugins.strategies.get(job["strategy"])(**job["params"])
    settings = SearchSettings(epochs=job["epochs"], batch_size=job["batch"], seed=0, device="cpu",
                              entropy_tol=0.0, select="best")
    run_dir = Path(job["run_dir"])
    start = time.perf_counter()
    result = search(space, strategy, cache, settings, run_dir, progress=False)
    seconds = time.perf_counter() - start
    history = result.history
    picks = {"best": dict(result.architecture.choices), "final": history[-1]["choices"]}
    retrain_settings = RetrainSettings(epochs=job["retrain_epochs"], batch_size=32, device="cpu")
    tested: dict[tuple, float] = {}
    out: dict[str, Any] = {
        "row": job["row"], "signal": job["signal"], "data_seed": job["data_seed"],
        "run_dir": str(run_dir), "seconds": round(seconds, 1),
        "arch_steps": job["arch_steps_per_epoch"] * len(history) if job["strategy"] != "random" else 0,
        "search_steps": job["arch_steps_per_epoch"] * len(history),
        "entropy": history[-1]["entropy"], "best_epoch": result.architecture.metrics["best_epoch"],
        "history": [{"epoch": h["epoch"], "entropy": h["entropy"], "derived_val_auc": h["derived_val_auc"],
                     "derived_val_acc": h["derived_val_acc"]} for h in history],
    }
    for select, choices in picks.items():
        key = tuple(sorted(choices.items()))
        if key not in tested:
            arch = Architecture(space.name, space.config.to_dict(), choices)
            evaluation = retrain(arch, cache, retrain_settings, run_dir / f"eval-{select}", progress=False)
            tested[key] = evaluation.metrics["test_auc"]
        out[select] = {"recovered": set(PLANTED) <= cell_taps(choices), "taps": sorted(cell_taps(choices)),
                       "test_auc": tested[key]}
    out["final"]["val_auc"] = history[-1]["derived_val_auc"]
    out["best"]["val_auc"] = result.architecture.metrics["val_auc"]
    return out


def interval(values: Sequence[float]) -> str:
    """``mean [low, high]``: the mean with its 95% t interval (``mean`` alone for one value)."""
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return "n/a"
    mean = statistics.mean(values)
    if len(values) < 2:
        return f"{mean:.3f}"
    half = T975.get(len(values) - 1, 1.96) * statistics.stdev(values) / math.sqrt(len(values))
    return f"{mean:.3f} [{mean - half:.3f}, {mean + half:.3f}]"


def _rows(results: Sequence[Mapping[str, Any]], signal: str, label: str) -> list[Mapping[str, Any]]:
    return sorted((r for r in results if r["signal"] == signal and r["row"] == label),
                  key=lambda r: r["data_seed"])


def table(results: Sequence[Mapping[str, Any]], signal: str) -> str:
    """One markdown line per strategy and selection: recovered, entropy, test AUC, steps, seconds."""
    lines = ["| strategy | select | planted taps recovered | entropy at end (α / β / γ) | test AUC "
             "(95% CI) | architecture steps | search s |", "|" + "---|" * 7]
    for label, _, _ in ROWS:
        got = _rows(results, signal, label)
        if not got:
            continue
        families = list(got[0]["entropy"])
        entropy = " / ".join(f"{statistics.mean(r['entropy'][f] for r in got):.3f}" for f in families)
        for select in SELECTS:
            lines.append(
                f"| {label} | {select} | {sum(r[select]['recovered'] for r in got)}/{len(got)} | "
                f"{entropy} | {interval([r[select]['test_auc'] for r in got])} | "
                f"{statistics.mean(r['arch_steps'] for r in got):,.0f} | "
                f"{statistics.mean(r['seconds'] for r in got):.0f} |")
    return "\n".join(lines)


def paired(results: Sequence[Mapping[str, Any]], signal: str) -> str:
    """Each strategy minus random on the same data seeds: test AUC and planted taps recovered
    (1/0), mean difference with its 95% t interval."""
    lines = ["| strategy | select | seeds | Δ test AUC vs random (95% CI) | Δ recovered vs random (95% CI) |",
             "|" + "---|" * 5]
    random = {r["data_seed"]: r for r in _rows(results, signal, "random")}
    for label, _, _ in ROWS[:-1]:
        got = [r for r in _rows(results, signal, label) if r["data_seed"] in random]
        for select in SELECTS:
            if not got:
                continue
            auc = [r[select]["test_auc"] - random[r["data_seed"]][select]["test_auc"] for r in got]
            hit = [int(r[select]["recovered"]) - int(random[r["data_seed"]][select]["recovered"])
                   for r in got]
            lines.append(f"| {label} | {select} | {len(got)} | {interval(auc)} | {interval(hit)} |")
    return "\n".join(lines)


def overlay(results: Sequence[Mapping[str, Any]], signal: str, out_dir: Path, seed: int = 0) -> Path | None:
    """The entropy of every strategy on one data seed overlaid (Figure 1b at this scale), as
    ``nas-study-entropy-SIGNAL.png`` in ``out_dir``."""
    import shutil
    import tempfile

    from automm.report.figures import entropy_compare_figures

    runs = {label: r["history"] for label, _, _ in ROWS
            for r in _rows(results, signal, label) if r["data_seed"] == seed}
    if len(runs) < 2:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        written = entropy_compare_figures(runs, tmp)
        target = out_dir / f"nas-study-entropy-{signal}.png"
        shutil.copyfile(written[0], target)
    return target


def check_same_course(cache: Path, out: Path, epochs: int, batch: int) -> None:
    """A ``final`` search ends where the same ``best`` search's last epoch does: same choices and
    bitwise-equal logits (scoring draws no random numbers)."""
    import torch

    from automm import plugins
    from automm.data.cache import FeatureCache
    from automm.run.binding import space_for_cache
    from automm.run.layout import CHECKPOINT
    from automm.train.bilevel import search
    from automm.train.settings import SearchSettings

    torch.set_num_threads(1)
    data = FeatureCache.open(cache)
    space = space_for_cache(plugins.spaces.get("bimodal-deepfake"), SPACE, data)
    ends = {}
    for select in SELECTS:
        settings = SearchSettings(epochs=epochs, batch_size=batch, seed=0, device="cpu", entropy_tol=0.0,
                                  select=select)
        result = search(space, plugins.strategies.get("stgs")(), data, settings, out / f"check-{select}",
                        progress=False)
        logits = torch.load(out / f"check-{select}" / CHECKPOINT, weights_only=True)["arch"]
        ends[select] = (result.history[-1]["choices"], logits)
    same = ends["final"][0] == ends["best"][0] and all(
        torch.equal(ends["final"][1][k], ends["best"][1][k]) for k in ends["final"][1])
    print(f"final and best searches end with the same logits and choices: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/automm-nas-study"))
    parser.add_argument("--seeds", type=int, default=5, help="data seeds (one cache per seed and signal)")
    parser.add_argument("--signals", default="sum,xor", help="planted signals, comma-separated")
    parser.add_argument("--identities", type=int, default=840, help="8 samples each, 60%% train")
    parser.add_argument("--epochs", type=int, default=6, help="search epochs (no stop rule)")
    parser.add_argument("--retrain-epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rows", help="only these row labels, comma-separated")
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 seed, tiny caches, 2 epochs")
    parser.add_argument("--check", action="store_true",
                        help="first verify that final and best searches follow the same course")
    parser.add_argument("--figures", type=Path, help="write the entropy overlays here")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.identities, args.epochs, args.retrain_epochs = 1, 20, 2, 1

    from automm.data.cache import FeatureCache
    from automm.data.synthetic import make_synthetic_cache
    from automm.train.batches import load_splits

    args.out.mkdir(parents=True, exist_ok=True)
    signals = args.signals.split(",")
    rows = [r for r in ROWS if args.rows is None or r[0] in args.rows.split(",")]
    results_file = args.out / "results.jsonl"
    done = ([json.loads(line) for line in results_file.read_text().splitlines()]
            if results_file.exists() else [])
    finished = {(r["row"], r["signal"], r["data_seed"]) for r in done}
    jobs = []
    for signal in signals:
        for seed in range(args.seeds):
            cache = args.out / f"cache-{signal}-{seed}"
            if not (cache / "manifest.json").exists():
                make_synthetic_cache(cache, identities=args.identities, signal=PLANTED, seed=seed,
                                     signal_kind=signal)
            train = load_splits(FeatureCache.open(cache), ("train",), list(PLANTED), _cpu())["train"]
            steps = train.num_batches(args.batch, train=True)
            if args.check and seed == 0 and signal == signals[0]:
                check_same_course(cache, args.out, 2, args.batch)
            for label, strategy, params in rows:
                if (label, signal, seed) in finished:
                    continue
                jobs.append({"row": label, "strategy": strategy, "params": params, "signal": signal,
                             "data_seed": seed, "cache": str(cache), "epochs": args.epochs,
                             "batch": args.batch, "retrain_epochs": args.retrain_epochs,
                             "arch_steps_per_epoch": steps,
                             "run_dir": str(args.out / f"{signal}-{seed}-{slug(label)}")})
    with results_file.open("a") as sink:
        for job in jobs:
            row = run_point(job)
            sink.write(json.dumps(row) + "\n")
            sink.flush()
            done.append(row)
            print(f"{row['signal']} seed {row['data_seed']} {row['row']:<26} final: recovered "
                  f"{row['final']['recovered']}, test AUC {row['final']['test_auc']:.3f}; best: recovered "
                  f"{row['best']['recovered']}, test AUC {row['best']['test_auc']:.3f}; {row['seconds']} s",
                  flush=True)
    for signal in signals:
        print(f"\n### {signal}\n\n{table(done, signal)}\n\n{paired(done, signal)}")
        if args.figures is not None:
            args.figures.mkdir(parents=True, exist_ok=True)
            path = overlay(done, signal, args.figures)
            if path is not None:
                print(f"wrote {path}")


def slug(label: str) -> str:
    """A row label as a directory name."""
    return "-".join("".join(c if c.isalnum() else " " for c in label).split())


def _cpu() -> Any:
    import torch

    return torch.device("cpu")


if __name__ == "__main__":
    main()
