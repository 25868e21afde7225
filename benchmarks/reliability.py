"""The fault campaign of issue 16, rerun: bad inputs through the CLI, counted by outcome.

Cases (each run in-process with a time limit, tests/reliability/faults.py):

- arch.json: every injection point of ``ARCH_KEYS`` set to each of ``BAD_VALUES``, plus
  deep nesting, a FIFO, /dev/zero, invalid UTF-8 (``automm show``, ``render``, ``evaluate``);
- feature caches: every point of ``MANIFEST_KEYS`` set to each bad value, tap files of
  other dtypes, truncated, empty, a FIFO, NaN/inf data, a flipped byte (``automm search``);
- checkpoints: every key of ``CHECKPOINT_KEYS`` replaced by each bad value or a tensor of
  the wrong shape, and NaN weights (``automm evaluate --resume``);
- option values: every option of ``OPTIONS`` given each bad value text;
- ownership: a second writer into a run, evaluation or cache directory owned by a live process.

Prints the table tried / clean / traceback / hang / wrong / lost. ``accepted`` counts inputs
that are unusual but valid (e.g. a metric value changed) and ran correctly.

Usage: ``python benchmarks/reliability.py [--limit N]`` (about a minute on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from automm.data.synthetic import make_synthetic_cache

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reliability"))
from faults import (
    ACCEPTED,
    ARCH_KEYS,
    CHECKPOINT_KEYS,
    CLEAN,
    HANG,
    LOST,
    MANIFEST_KEYS,
    OPTIONS,
    TRACEBACK,
    WRONG,
    Outcome,
    make_fifo,
    nested_json,
    rewrite_checkpoint,
    rewrite_json,
    rewrite_tap,
    run_cli,
    set_at,
)

from automm.locking import lock_path

BAD_VALUES: list[Any] = [None, True, -1, 0, 2**64, 10**9, 1.5, "", "x" * 300, "../../x", [], [1, "a"], {},
                         {"a": {"b": [None]}}]
BAD_TEXT = ["nan", "inf", "-inf", "1e400", str(2**64), "-1", "", "abc", "1,2", "\n"]
TINY = ("--C", "8", "--L", "2", "--cells", "1", "--steps", "1", "--ops", "sum,concat-fc")

Case = tuple[str, Callable[[Path], list[Any]], bool]
"""(name, prepare(scratch) -> CLI arguments, whether exit 0 is acceptable)."""


def _fixture(root: Path) -> Path:
    make_synthetic_cache(root / "cache", identities=12, per_identity=4, channels=(8, 8, 8, 8))
    for args in (["search", "--data", root / "cache", "--out", root / "run", "--epochs", 1,
                  "--batch-size", 16, *TINY],
                 ["evaluate", root / "run" / "arch.json", "--epochs", 1, "--batch-size", 16]):
        outcome = run_cli(args, allow_success=True)
        if outcome.kind != ACCEPTED:
            raise SystemExit(f"fixture failed: {outcome}")
    return root


def _cases() -> Iterator[Case]:
    for keys in ARCH_KEYS:
        for value in BAD_VALUES:
            def arch(s: Path, keys: Any = keys, value: Any = value) -> list[Any]:
                rewrite_json(s / "run/arch.json", lambda d: set_at(d, keys, value))
                return ["show", s / "run/arch.json"]
            yield f"arch {'.'.join(map(str, keys))}={value!r:.20}", arch, True
    specials: dict[str, Callable[[Path], None]] = {
        "deep": lambda p: p.write_text(nested_json(200_000)),
        "fifo": make_fifo,
        "devzero": lambda p: (p.unlink(), p.symlink_to("/dev/zero")),
        "utf8": lambda p: p.write_bytes(b"\xff\xfe{"),
        "nan": lambda p: p.write_text('{"format": NaN}'),
    }
    for name, make in specials.items():
        for verb in ("show", "render", "evaluate"):
            def special(s: Path, make: Any = make, verb: str = verb) -> list[Any]:
                make(s / "run/arch.json")
                return [verb, s / "run/arch.json", *(["-o", s / "a.dot"] if verb == "render" else [])]
            yield f"arch file {name} ({verb})", special, False
    search = ["--out", "out", "--epochs", 1, "--batch-size", 16, *TINY]
    for keys in MANIFEST_KEYS:
        for value in BAD_VALUES:
            def manifest(s: Path, keys: Any = keys, value: Any = value) -> list[Any]:
                rewrite_json(s / "cache/manifest.json", lambda d: set_at(d, keys, value))
                return ["search", "--data", s / "cache", *search[:1], s / "out", *search[2:]]
            yield f"manifest {'.'.join(map(str, keys))}={value!r:.20}", manifest, True
    taps: dict[str, Callable[[Path], None]] = {
        **{f"dtype {d}": (lambda c, d=d: rewrite_tap(c, "image_1.npy", lambda a: a.astype(d)))
           for d in ("float64", "float16", ">f4", "int8", "complex64")},
        "shape": lambda c: rewrite_tap(c, "image_1.npy", lambda a: a[:, :4]),
        "empty": lambda c: (c / "image_1.npy").write_bytes(b""),
        "truncated": lambda c: (c / "image_1.npy").write_bytes((c / "image_1.npy").read_bytes()[:200]),
        "fifo": lambda c: make_fifo(c / "image_1.npy"),
        "missing": lambda c: (c / "image_1.npy").unlink(),
        "nan": lambda c: rewrite_tap(c, "image_1.npy", lambda a: a * np.nan),
        "inf": lambda c: rewrite_tap(c, "audio_1.npy", lambda a: np.full_like(a, np.inf)),
        "flipped byte": lambda c: _flip(c / "audio_3.npy"),
    }
    for name, make in taps.items():
        def tap(s: Path, make: Any = make) -> list[Any]:
            make(s / "cache")
            return ["search", "--data", s / "cache", "--out", s / "out", *search[2:]]
        # every tap fault is refused (a converted dtype no longer matches the fingerprint)
        yield f"tap {name}", tap, False
    resume = ["--epochs", 1, "--batch-size", 16, "--resume"]
    tensor = torch.zeros(3, 1)
    for key in CHECKPOINT_KEYS:
        for value in [*BAD_VALUES, tensor]:
            def checkpoint(s: Path, key: str = key, value: Any = value) -> list[Any]:
                rewrite_checkpoint(s / "run/eval/checkpoint.pt", lambda st: {**st, key: value})
                return ["evaluate", s / "run/arch.json", "--out", s / "run/eval", *resume]
            yield f"checkpoint {key}={value!r:.20}", checkpoint, True

    def nan_weights(s: Path) -> list[Any]:
        rewrite_checkpoint(s / "run/eval/checkpoint.pt", lambda st: {**st, "network": {
            k: v * np.nan if v.is_floating_point() else v for k, v in st["network"].items()}})
        return ["evaluate", s / "run/arch.json", "--out", s / "run/eval", *resume]
    yield "checkpoint NaN weights", nan_weights, False
    for option in OPTIONS:
        for text in BAD_TEXT:
            def opt(s: Path, option: str = option, text: str = text) -> list[Any]:
                return ["search", "--data", s / "missing", "--out", s / "out", option, text]
            yield f"option {option} {text!r}", opt, False


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x10
    path.write_bytes(bytes(data))


def _ownership() -> Iterator[tuple[str, Callable[[Path], list[Any]]]]:
    def held(path: Path) -> None:
        lock_path(path).write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))

    yield "second search into an owned run", lambda s: (held(s / "run"), ["search", "--resume", s / "run"])[1]
    yield "second evaluation into an owned --out", lambda s: (held(s / "run/eval"), [
        "evaluate", s / "run/arch.json", "--out", s / "run/eval", "--epochs", 1])[1]
    yield "search while its cache is owned", lambda s: (held(s / "out"), [
        "search", "--data", s / "cache", "--out", s / "out", *TINY])[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="Run only the first N cases.")
    parser.add_argument("--verbose", action="store_true", help="Print every case that is not clean.")
    args = parser.parse_args()
    torch.set_num_threads(1)
    root = Path(tempfile.mkdtemp(prefix="automm-reliability-"))
    try:
        pristine = _fixture(root / "pristine")
        counts: Counter[str] = Counter()
        cases = list(_cases())[: args.limit]
        for i, (name, prepare, may_succeed) in enumerate(cases):
            outcome = _run(root / f"case{i}", pristine, prepare, may_succeed)
            counts[outcome.kind] += 1
            if args.verbose and outcome.kind not in (CLEAN, ACCEPTED):
                print(f"{outcome.kind:<9} {name}: {outcome.stderr.strip()[:200]}")
        for name, prepare in _ownership():
            outcome = _run(root / name.replace(" ", "-"), pristine, prepare, False)
            counts[LOST if outcome.kind == WRONG else outcome.kind] += 1
            if args.verbose and outcome.kind != CLEAN:
                print(f"{outcome.kind:<9} {name}: {outcome.stderr.strip()[:200]}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    columns = ("tried", CLEAN, ACCEPTED, TRACEBACK, HANG, WRONG, LOST)
    print(" | ".join(f"{c:>9}" for c in columns))
    print(" | ".join(f"{n:>9}" for n in (sum(counts.values()), *(counts[c] for c in columns[1:]))))


def _run(scratch: Path, pristine: Path, prepare: Callable[[Path], list[Any]], may_succeed: bool) -> Outcome:
    shutil.copytree(pristine, scratch, symlinks=True)
    cwd = Path.cwd()
    os.chdir(scratch)
    try:
        return run_cli(prepare(scratch), allow_success=may_succeed, timeout=30)
    finally:
        os.chdir(cwd)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
