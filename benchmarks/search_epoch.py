"""Time one whole search epoch on a synthetic cache with the paper's tap shapes.

The cache (written once per sample count into ``--cache-root``) has 4 image and 4 audio taps of
ResNet-34 stage widths 64/128/256/512 (lengths 16/8/4/2) and identity-disjoint 60/20/20 splits;
the space is bimodal-deepfake at its defaults (C=128, L=8, 2 cells x 2 steps, the paper's five
ops). Each strategy runs ``automm.train.search`` for one epoch in a fresh process: weight and
architecture steps over the training split, the supernet's validation, the derivation and the
derived network's scoring (fine-tune on at most 2048 samples, validation), the checkpoint. Each
strategy runs with ``--select best`` (every epoch's derived network is scored) and ``--select
final`` (no per-epoch scoring: the final architecture is scored once when the search ends, outside
the epoch's seconds), so the difference of the two rows is what ``final`` saves per epoch. The
table gives the epoch's seconds (the loop's own record), training samples per second, the
process's peak RSS (cache opened and verified, the memory map included) and on CUDA the peak
GPU memory, and the CPU use (process CPU time over wall time times threads: well below 1 means
other processes took the cores and the times are inflated).

Usage: ``python benchmarks/search_epoch.py [--device cpu|cuda] [--samples 5000] [--batch 8]
[--threads 2] [--only stgs] [--select best,final] [--compile] [--precision bf16]``. The paper's setting is
``--samples 50000 --batch 8`` (30 epochs: multiply the epoch time by 30).
"""

from __future__ import annotations

import argparse
import itertools
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

STRATEGIES = (
    ("stgs split M=1", "stgs", {"samples": 1}),
    ("stgs split M=20", "stgs", {"samples": 20}),
    ("darts", "darts", {}),
    ("bmnas", "bmnas", {}),
    ("random", "random", {}),
)
"""stgs at its default reading (split) with M = 1 and M = 20, and the three baselines."""
WIDTHS = (64, 128, 256, 512)
PER_IDENTITY = 10


def make_cache(root: Path, samples: int) -> Path:
    """The synthetic cache of ``samples`` samples under ``root`` (written once, then reused)."""
    from automm.data.synthetic import make_synthetic_cache

    path = root / f"resnet34-taps-{samples}"
    if not (path / "manifest.json").exists():
        make_synthetic_cache(path, identities=max(samples // PER_IDENTITY, 5), per_identity=PER_IDENTITY,
                             channels=WIDTHS)
    return path


def run_epoch(job: dict[str, Any]) -> dict[str, Any]:
    """One epoch of one strategy (in a fresh process); the row of the table."""
    import torch

    from automm import plugins
    from automm.data.cache import FeatureCache
    from automm.run.binding import space_for_cache
    from automm.train.bilevel import search
    from automm.train.settings import SearchSettings

    torch.set_num_threads(job["threads"])
    cache = FeatureCache.open(job["cache"])
    space = space_for_cache(plugins.spaces.get("bimodal-deepfake"), {}, cache)
    strategy = plugins.strategies.get(job["strategy"])(**job["params"])
    settings = SearchSettings(epochs=1, batch_size=job["batch"], device=job["device"],
                              compile=job["compile"], precision=job["precision"], select=job["select"])
    cuda = job["device"].startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    cpu, wall = time.process_time(), time.perf_counter()
    with tempfile.TemporaryDirectory() as run_dir:
        result = search(space, strategy, cache, settings, run_dir, progress=False)
    use = (time.process_time() - cpu) / ((time.perf_counter() - wall) * torch.get_num_threads())
    seconds = result.history[-1]["seconds"]
    return {"seconds": seconds, "train": int(cache.indices("train").size), "use": use,
            "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            "gpu_gb": torch.cuda.max_memory_allocated() / 2**30 if cuda else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:k]")
    parser.add_argument("--samples", type=int, default=5000, help="samples in the cache (all splits)")
    parser.add_argument("--batch", type=int, default=8, help="search batch size")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--only", default=None, help="run only strategies whose label contains this")
    parser.add_argument("--select", default="best,final", help="selections to time (comma-separated)")
    parser.add_argument("--compile", action="store_true", help="search with --compile")
    parser.add_argument("--precision", default="fp32", help="fp32 or bf16")
    parser.add_argument("--cache-root", type=Path, default=Path(tempfile.gettempdir()) / "automm-bench",
                        help="where the synthetic caches are kept between runs")
    args = parser.parse_args()
    spawn = get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn) as pool:  # the cache's memory stays out of the rows
        cache = pool.submit(make_cache, args.cache_root, args.samples).result()
    print(f"{args.samples} samples, batch {args.batch}, device {args.device}, {args.threads} threads, "
          f"compile {'on' if args.compile else 'off'}, precision {args.precision}")
    header = (f"{'strategy':<18} {'select':>6} {'s/epoch':>9} {'samples/s':>10} {'peak RSS GB':>12} "
              f"{'peak GPU GB':>12} {'cpu use':>8}")
    print(header)
    print("-" * len(header))
    selects = [s.strip() for s in args.select.split(",") if s.strip()]
    for (label, name, params), select in itertools.product(STRATEGIES, selects):
        if args.only and args.only not in label:
            continue
        job = {"cache": str(cache), "strategy": name, "params": params, "batch": args.batch,
               "device": args.device, "threads": args.threads, "compile": args.compile,
               "precision": args.precision, "select": select}
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            row = pool.submit(run_epoch, job).result()
        gpu = "-" if row["gpu_gb"] is None else f"{row['gpu_gb']:.2f}"
        print(f"{label:<18} {select:>6} {row['seconds']:>9.1f} {row['train'] / row['seconds']:>10.0f} "
              f"{row['rss_gb']:>12.2f} {gpu:>12} {row['use']:>8.0%}", flush=True)


if __name__ == "__main__":
    main()
