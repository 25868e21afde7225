"""Points per hour of ``automm sweep`` on this machine: the local executor at 1 and 2 workers and
Ray Tune on a local instance with 2 CPUs (1 per trial), on the same tiny grid (so the overhead
of each executor, Ray's start included, is visible); with ``--before REV``, the same rows for the
automm of git revision REV first (its tree exported to a temporary directory), so that one
command shows before and after.

Each run is a fresh ``automm sweep`` process (wall time from start to exit, startup and table
included) on a synthetic feature cache with the tiny space of the tests: a 2x2 grid of
temperature x samples times the seeds, 3 search epochs and 2 evaluation epochs per point. Where
the time goes is shown too, from the moments the per-point lines appear: start-up (until the
first point's line), per point after the first, and the end (tables and figures). The load
average is printed with each row: on a shared machine the numbers say little without it.

Usage: ``nice python benchmarks/sweep.py [--seeds 0,1] [--epochs 3] [--identities 40] [--no-ray]
[--before REV]``
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from automm.data.synthetic import make_synthetic_cache

TINY = ("--C", "16", "--L", "2", "--cells", "1", "--steps", "1", "--ops", "sum,linear-glu,concat-fc")
EXECUTORS = (("local, 1 worker", ("--workers", "1")), ("local, 2 workers", ("--workers", "2")),
             ("ray, 2 CPUs (1 per trial)", ("--executor", "ray", "--workers", "2", "--cpus-per-trial", "1")))
REPO = Path(__file__).resolve().parent.parent


def export_tree(revision: str, into: Path) -> Path:
    """The files of ``revision`` of this repository, extracted under ``into``."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", revision],
                             capture_output=True, check=True).stdout
    into.mkdir()
    with tempfile.TemporaryFile() as f:
        f.write(archive)
        f.seek(0)
        with tarfile.open(fileobj=f) as tar:
            tar.extractall(into, filter="data")
    return into


def timed_sweep(command: list[str], env: dict[str, str]) -> tuple[float, list[float]]:
    """Run ``command``; its wall time and the times at which its per-point lines appeared."""
    start = time.perf_counter()
    lines = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if "_seed=" in line.split(":")[0] and not line.startswith(" "):
                lines.append(time.perf_counter() - start)
    if process.returncode:
        raise SystemExit(f"{' '.join(command)}: exit status {process.returncode}")
    return time.perf_counter() - start, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--identities", type=int, default=40, help="Size of the synthetic cache (8 "
                        "samples each): the time to open and verify it grows with it.")
    parser.add_argument("--no-ray", action="store_true", help="Skip the Ray row.")
    parser.add_argument("--before", metavar="REV", help="Also run the automm of this git revision.")
    args = parser.parse_args()
    with_ray = not args.no_ray and importlib.util.find_spec("ray") is not None
    points = 4 * len([s for s in args.seeds.split(",") if s.strip()])
    with tempfile.TemporaryDirectory() as tmp:
        cache = make_synthetic_cache(Path(tmp) / "cache", identities=args.identities)
        trees = [("after", None)]
        if args.before:
            tree = export_tree(args.before, Path(tmp) / "before")
            trees.insert(0, (f"before ({args.before})", f"{tree}{os.pathsep}{tree / 'plugins'}"))
        print(f"tiny grid: 2 x 2 x seeds {args.seeds} = {points} points, {args.epochs} search epochs, "
              f"2 evaluation epochs, {args.identities * 8} samples; {os.cpu_count()} cores")
        print("| automm | executor | points | wall (s) | points/hour | start-up (s) | per point (s) "
              "| end (s) | load average |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name, path in trees:
            env = {**os.environ, **({"PYTHONPATH": path} if path else {})}
            for n, (label, flags) in enumerate(EXECUTORS):
                if "ray" in flags and not with_ray:
                    print(f"| {name} | {label} | - | - | skipped (pip install 'automm[ray]') |", flush=True)
                    continue
                command = [sys.executable, "-m", "automm", "sweep", "--data", str(cache), "--out",
                           str(Path(tmp) / f"{name.split()[0]}{n}"), "--grid", "temperature=5,10",
                           "--grid", "samples=5,10", "--seeds", args.seeds, "--epochs", str(args.epochs),
                           "--evaluate-epochs", "2", "--no-progress", *TINY, *flags]
                load = os.getloadavg()[0]
                wall, ends = timed_sweep(command, env)
                per_point = (ends[-1] - ends[0]) / (len(ends) - 1) if len(ends) > 1 else float("nan")
                print(f"| {name} | {label} | {points} | {wall:.1f} | {points * 3600 / wall:,.0f} "
                      f"| {ends[0]:.1f} | {per_point:.2f} | {wall - ends[-1]:.1f} "
                      f"| {load:.1f} -> {os.getloadavg()[0]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
