"""Points per hour of ``automm sweep`` on this machine: the local executor at 1 and 2 workers and
Ray Tune on a local instance with 2 CPUs (1 per trial), on the same tiny grid (so the overhead
of each executor, Ray's start included, is visible).

Each run is a fresh ``automm sweep`` process (wall time from start to exit, startup and table
included) on a synthetic feature cache with the tiny space of the tests: a 2x2 grid of
temperature x samples times the seeds, 3 search epochs and 2 evaluation epochs per point.

Usage: ``python benchmarks/sweep.py [--seeds 0,1] [--epochs 3] [--no-ray]``
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from automm.data.synthetic import make_synthetic_cache

TINY = ("--C", "16", "--L", "2", "--cells", "1", "--steps", "1", "--ops", "sum,linear-glu,concat-fc")
EXECUTORS = (("local, 1 worker", ("--workers", "1")), ("local, 2 workers", ("--workers", "2")),
             ("ray, 2 CPUs (1 per trial)", ("--executor", "ray", "--workers", "2", "--cpus-per-trial", "1")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--no-ray", action="store_true", help="Skip the Ray row.")
    args = parser.parse_args()
    with_ray = not args.no_ray and importlib.util.find_spec("ray") is not None
    points = 4 * len([s for s in args.seeds.split(",") if s.strip()])
    with tempfile.TemporaryDirectory() as tmp:
        cache = make_synthetic_cache(Path(tmp) / "cache", identities=40)
        print(f"tiny grid: 2 x 2 x seeds {args.seeds} = {points} points, {args.epochs} search epochs, "
              "2 evaluation epochs")
        print("| executor | points | wall (s) | points/hour |")
        print("|---|---|---|---|")
        for n, (label, flags) in enumerate(EXECUTORS):
            if "ray" in flags and not with_ray:
                print(f"| {label} | - | - | skipped (pip install 'automm[ray]') |")
                continue
            command = [sys.executable, "-m", "automm", "sweep", "--data", str(cache), "--out",
                       str(Path(tmp) / f"sweep{n}"), "--grid", "temperature=5,10", "--grid", "samples=5,10",
                       "--seeds", args.seeds, "--epochs", str(args.epochs), "--evaluate-epochs", "2",
                       "--no-progress", *TINY, *flags]
            start = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - start
            print(f"| {label} | {points} | {wall:.1f} | {points * 3600 / wall:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
