"""The fault campaign of issues 16 and 22, rerun: bad inputs through the CLI, counted by class
and outcome.

Classes (each run in-process with a time limit, tests/reliability/faults.py, unless noted):

- ``fuzz``: issue 16's campaign: every injection point of ``ARCH_KEYS``, ``MANIFEST_KEYS`` and
  ``CHECKPOINT_KEYS`` set to each of ``BAD_VALUES``, special arch.json files, damaged taps,
  bad texts for the options of ``OPTIONS``;
- ``wrong``: inputs that used to give a plausible result: extreme float options (temperatures
  that overflow the softmax, non-finite and out-of-range values of every float option of every
  verb), a checkpoint claiming more epochs than the run, a dataset named twice, names with
  control characters, non-finite weights;
- ``hang``: FIFOs, devices and symlink loops wherever a command reads a user file;
- ``traceback``: every field of arch.json, manifest.json and both checkpoints given a value of
  the wrong type or range (automm.schema.mutations);
- ``unclean``: inputs whose failure used to print nothing or a library's warnings first: huge
  strings drawn by ``render``, raw pickles and foreign files as checkpoints and weights;
- ``questionable``: accepted inputs that must be stored canonically or refused: ``--out ''``,
  op names in any case, split sizes with ``--no-verify``, a deleted manifest;
- ``crash``: ``evaluate --resume`` and ``extract`` replacing a cache, SIGKILLed at each write
  point (tests/reliability/crash.py, subprocesses): ``lost`` unless the re-run equals an
  uninterrupted run and nothing is left behind;
- ``predict``: damaged model directories, files that are no exported detector and unusable
  videos among good ones (tests/media/predictkit.py);
- ``ownership``: a second writer into a run, evaluation or cache directory owned by a live process.

Outcomes: ``clean`` (one error line), ``accepted`` (exit 0 where that is correct), and the ones
that must stay at zero: ``traceback``, ``hang``, ``wrong`` (exit 0 on a bad input, or a result
that fails the case's check), ``unclean`` (a failure without exactly one error line) and
``lost`` (a killed or concurrent run whose result differs or left files behind).

Usage: ``python benchmarks/reliability.py [--only CLASS] [--limit N] [--verbose]`` (about five
minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from automm.data.synthetic import make_synthetic_cache

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS / "reliability"), str(TESTS / "media")]
from crash import __file__ as CRASH_SCRIPT  # noqa: E402
from faults import (  # noqa: E402
    ACCEPTED,
    ARCH_KEYS,
    CHECKPOINT_KEYS,
    CLEAN,
    HANG,
    LOST,
    MANIFEST_KEYS,
    OPTIONS,
    TRACEBACK,
    UNCLEAN,
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

from automm.locking import lock_path  # noqa: E402

BAD_VALUES: list[Any] = [None, True, -1, 0, 2**64, 10**9, 1.5, "", "x" * 300, "../../x", [], [1, "a"], {},
                         {"a": {"b": [None]}}]
BAD_TEXT = ["nan", "inf", "-inf", "1e400", str(2**64), "-1", "", "abc", "1,2", "\n"]
TINY = ("--C", "8", "--L", "2", "--cells", "1", "--steps", "1", "--ops", "sum,concat-fc")
TRAIN = ("--epochs", "1", "--batch-size", "16")
OUTCOMES = (CLEAN, ACCEPTED, TRACEBACK, UNCLEAN, HANG, WRONG, LOST)


@dataclass(frozen=True)
class Case:
    """One bad input: ``prepare(scratch)`` damages the scratch copy of the fixture and returns
    the CLI arguments; exit 0 is correct only with ``may_succeed``, and then (or on an error)
    ``check(scratch, outcome)`` must hold, else the outcome is ``wrong``."""

    kind: str
    name: str
    prepare: Callable[[Path], list[Any]]
    may_succeed: bool = False
    check: Callable[[Path, Outcome], bool] | None = None
    videos: bool = False
    """A predict run over a bad video ``v.mp4`` and a good one: exit 1 with predict's notes and
    one error line, for the bad video, is clean."""


def _fixture(root: Path, media: bool) -> Path:
    make_synthetic_cache(root / "cache", identities=12, per_identity=4, channels=(8, 8, 8, 8))
    for args in (["search", "--data", root / "cache", "--out", root / "run", *TRAIN, *TINY],
                 ["evaluate", root / "run" / "arch.json", *TRAIN]):
        outcome = run_cli(args, allow_success=True)
        if outcome.kind != ACCEPTED:
            raise SystemExit(f"fixture failed: {outcome}")
    if media:
        _media_fixture(root / "media")
    return root


def _media_fixture(root: Path) -> None:
    """``media/data`` (4 usable videos, 1 broken), its cache (``media/cache``), a model directory
    (``media/model``) as evaluate writes it, and ``media/good.mp4``."""
    from modelkit import write_model
    from videokit import face_frames, speech, write_video

    from automm.data import FeatureCache

    for i, rel in enumerate(("real/alice/a.mp4", "real/bob/b.mp4", "fake/carol/c.mp4", "fake/dave/d.mp4")):
        write_video(root / "data" / rel, face_frames(15, i), speech(1.5, i), fps=10)
    (root / "data/fake/erin").mkdir()
    (root / "data/fake/erin/broken.mp4").write_bytes(b"not a video")
    outcome = run_cli([*EXTRACT, root / "data", "--out", root / "cache"], allow_success=True, timeout=600)
    if outcome.kind != ACCEPTED:
        raise SystemExit(f"media fixture failed: {outcome}")
    write_model(FeatureCache.open(root / "cache"), root / "model")
    shutil.copy(root / "data/real/alice/a.mp4", root / "good.mp4")


EXTRACT = ("extract", "--frames", "2", "--crop", "64", "--positions", "4", "--no-progress",
           "--split", "random")


# -- issue 16 ------------------------------------------------------------------------------

def _fuzz() -> Iterator[Case]:
    for keys in ARCH_KEYS:
        for value in BAD_VALUES:
            def arch(s: Path, keys: Any = keys, value: Any = value) -> list[Any]:
                rewrite_json(s / "run/arch.json", lambda d: set_at(d, keys, value))
                return ["show", s / "run/arch.json"]
            yield Case("fuzz", f"arch {'.'.join(map(str, keys))}={value!r:.20}", arch, True)
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
            yield Case("fuzz", f"arch file {name} ({verb})", special)
    search = ["--out", "out", *TRAIN, *TINY]
    for keys in MANIFEST_KEYS:
        for value in BAD_VALUES:
            def manifest(s: Path, keys: Any = keys, value: Any = value) -> list[Any]:
                rewrite_json(s / "cache/manifest.json", lambda d: set_at(d, keys, value))
                return ["search", "--data", s / "cache", *search[:1], s / "out", *search[2:]]
            yield Case("fuzz", f"manifest {'.'.join(map(str, keys))}={value!r:.20}", manifest, True)
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
        yield Case("fuzz", f"tap {name}", tap)  # a converted dtype no longer matches the fingerprint
    tensor = torch.zeros(3, 1)
    for key in CHECKPOINT_KEYS:
        for value in [*BAD_VALUES, tensor]:
            def checkpoint(s: Path, key: str = key, value: Any = value) -> list[Any]:
                rewrite_checkpoint(s / "run/eval/checkpoint.pt", lambda st: {**st, key: value})
                return _resume(s)
            yield Case("fuzz", f"checkpoint {key}={value!r:.20}", checkpoint, True)
    for option in OPTIONS:
        for text in BAD_TEXT:
            def opt(s: Path, option: str = option, text: str = text) -> list[Any]:
                return ["search", "--data", s / "missing", "--out", s / "out", option, text]
            yield Case("fuzz", f"option {option} {text!r}", opt)


def _resume(s: Path) -> list[Any]:
    return ["evaluate", s / "run/arch.json", "--out", s / "run/eval", *TRAIN, "--resume"]


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x10
    path.write_bytes(bytes(data))


# -- issue 22 ------------------------------------------------------------------------------

def _float_options() -> Iterator[tuple[list[str], str]]:
    """(verb path, option) of every float option of every verb."""
    import click

    from automm.cli import cli

    ctx = click.Context(cli)

    def walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], str]]:
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                yield from walk(command.get_command(ctx, name), [*path, name])
        else:
            for p in command.params:
                if isinstance(p.type, click.types.FloatParamType):
                    yield path, p.opts[-1]

    yield from walk(cli, [])


def _wrong() -> Iterator[Case]:
    for temperature in ("1e-45", "1e-30", "1e308", "1e200"):  # a finished run must hold finite numbers
        yield Case("wrong", f"search --temperature {temperature}", lambda s, t=temperature: [
            "search", "--data", s / "cache", "--out", s / "out", *TRAIN, *TINY, "--temperature", t], True,
            check=lambda s, o: o.kind == CLEAN or _all_finite(s / "out/metrics.jsonl"))
    for verb, option in _float_options():
        for text in ("nan", "inf", "-inf", "-1e300"):
            args = [s for s in verb]
            if verb[-1] in ("search", "sweep", "extract", "evaluate"):
                args.append("x")
            yield Case("wrong", f"{' '.join(verb)} {option} {text}",
                       lambda s, a=args, o=option, t=text: [*a, o, t, "--out", s / "never"])
    for epoch, history in ((100, 1), (2, 1), (0, 0), (-1, 1)):
        def epochs(s: Path, epoch: int = epoch, history: int = history) -> list[Any]:
            rewrite_checkpoint(s / "run/eval/checkpoint.pt", lambda st: {
                **st, "epoch": epoch, "history": (st["history"] * 3)[:history]})
            return _resume(s)
        yield Case("wrong", f"evaluation checkpoint at epoch {epoch} of 1", epochs)
    for value in (float("nan"), float("inf")):
        def weights(s: Path, value: float = value) -> list[Any]:
            rewrite_checkpoint(s / "run/eval/checkpoint.pt", lambda st: {**st, "best_network": {
                k: v * value if v.is_floating_point() else v for k, v in st["best_network"].items()}})
            return _resume(s)
        yield Case("wrong", f"checkpoint best network {value}", weights)
    for name in ("abc\n", "a\tb", "x\x1b[31m", "", " ", "../x", "a/b"):
        yield Case("wrong", f"plugin new {name!r}", lambda s, n=name: ["plugin", "new", n])
    for twice in (lambda d: [d, d], lambda d: [d, f"{d}/"], lambda d: [d, "--test-dataset", d],
                  lambda d: [d, d.parent / "." / d.name]):
        yield Case("wrong", "extract a dataset given twice", lambda s, t=twice: [
            *EXTRACT, *t(s / "media/data"), "--out", s / "twice"])
    yield Case("wrong", "extract --min-seconds nan", lambda s: [
        *EXTRACT, s / "media/data", "--min-seconds", "nan", "--out", s / "x"])


def _all_finite(jsonl: Path) -> bool:
    """Whether every number of every record is finite (null only for an undefined AUC)."""
    def finite(value: Any, key: str) -> bool:
        if isinstance(value, dict):
            return all(finite(v, k) for k, v in value.items())
        if isinstance(value, list):
            return all(finite(v, key) for v in value)
        return key.endswith("auc") if value is None else not isinstance(value, float) or np.isfinite(value)

    return all(finite(json.loads(line), "") for line in jsonl.read_text().splitlines())


def _special(kind: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "socket":
            sock = socket.socket(socket.AF_UNIX)
            sock.bind(str(path))
            sock.close()
        elif kind == "loop":
            path.symlink_to(path)
        elif kind == "device":
            path.symlink_to("/dev/zero")
        else:
            path.mkdir()
    return make


def _hang() -> Iterator[Case]:
    targets: dict[str, Callable[[Path], tuple[Path, list[Any]]]] = {
        "eval checkpoint": lambda s: (s / "run/eval/checkpoint.pt", _resume(s)),
        "search checkpoint": lambda s: (s / "run/checkpoint.pt", ["search", "--resume", "--out", s / "run"]),
        "manifest": lambda s: (s / "cache/manifest.json", ["search", "--data", s / "cache", "--out", s / "o",
                                                           *TRAIN, *TINY]),
        "tap": lambda s: (s / "cache/audio_2.npy", ["search", "--data", s / "cache", "--out", s / "o",
                                                     *TRAIN, *TINY]),
        "metrics.jsonl (report)": lambda s: (s / "run/metrics.jsonl", ["report", s / "run"]),
        "eval metrics.json (report)": lambda s: (s / "run/eval/metrics.json", ["report", s / "run"]),
        "arch.json (render)": lambda s: (s / "run/arch.json",
                                         ["render", s / "run/arch.json", "-o", s / "a.svg"]),
        "model.safetensors (predict)": lambda s: (s / "media/model/model.safetensors",
                                                  ["predict", s / "media/model", s / "media/good.mp4"]),
        "metrics.json (predict)": lambda s: (s / "media/model/metrics.json",
                                             ["predict", s / "media/model", s / "media/good.mp4"]),
        "--model FILE (predict)": lambda s: (s / "d.onnx", ["predict", "--model", s / "d.onnx",
                                                            s / "media/good.mp4"]),
        "backbone weights (extract)": lambda s: (s / "w.pt", [*EXTRACT, s / "media/data", "--weights",
                                                              f"image={s / 'w.pt'}", "--out", s / "x"]),
    }
    for target, where in targets.items():
        for kind in ("fifo", "socket", "loop", "device", "directory"):
            def special(s: Path, where: Any = where, kind: str = kind) -> list[Any]:
                path, args = where(s)
                _special(kind)(path)
                return args
            yield Case("hang", f"{target} is a {kind}", special)
    for kind in ("fifo", "socket", "loop", "device", "directory"):
        def video(s: Path, kind: str = kind) -> list[Any]:
            _special(kind)(s / "v.mp4")
            return ["predict", s / "media/model", s / "v.mp4", s / "media/good.mp4"]
        yield Case("hang", f"predict video is a {kind}", video, check=_scored_good, videos=True)


def _scored_good(s: Path, outcome: Outcome) -> bool:
    return outcome.exit_code == 1  # the good video scored, the bad one reported (exit 1)


def _traceback() -> Iterator[Case]:
    from automm.data.manifest import SCHEMA as MANIFEST
    from automm.ir.architecture import SCHEMA as ARCH
    from automm.run.search import CHECKPOINT_SCHEMA as SEARCH_CHECKPOINT
    from automm.schema import MISSING, mutated, mutations
    from automm.train.retraining import CHECKPOINT_SCHEMA as EVALUATION_CHECKPOINT

    def docs(s: Path) -> dict[str, Any]:
        return {"arch": json.loads((s / "run/arch.json").read_text()),
                "manifest": json.loads((s / "cache/manifest.json").read_text()),
                "evaluation": torch.load(s / "run/eval/checkpoint.pt", weights_only=True),
                "search": torch.load(s / "run/checkpoint.pt", weights_only=True)}

    specs = {"arch": ARCH, "manifest": MANIFEST, "evaluation": EVALUATION_CHECKPOINT,
             "search": SEARCH_CHECKPOINT}
    commands: dict[str, Callable[[Path], list[Any]]] = {
        "arch": lambda s: ["evaluate", s / "run/arch.json", "--out", s / "e", *TRAIN],
        "manifest": lambda s: ["search", "--data", s / "cache", "--out", s / "o", *TRAIN, *TINY],
        "evaluation": _resume,
        "search": lambda s: ["search", "--resume", "--out", s / "run"],
    }
    files = {"arch": "run/arch.json", "manifest": "cache/manifest.json",
             "evaluation": "run/eval/checkpoint.pt",
             "search": "run/checkpoint.pt"}
    pristine = docs(PRISTINE)
    for kind, spec in specs.items():
        for keys, bad in mutations(pristine[kind], spec):
            def mutate(s: Path, kind: str = kind, keys: Any = keys, bad: Any = bad) -> list[Any]:
                doc = mutated(docs(s)[kind], keys, bad)
                if kind in ("evaluation", "search"):
                    torch.save(doc, s / files[kind])
                else:
                    (s / files[kind]).write_text(json.dumps(doc).replace("Infinity", "1e999"))
                return commands[kind](s)
            label = "missing" if bad is MISSING else f"{bad!r:.20}"
            yield Case("traceback", f"{kind} {'.'.join(map(str, keys))}={label}", mutate)
    for value in (3, [1], {"a": 1}, None, ""):
        def path(s: Path, value: Any = value) -> list[Any]:
            rewrite_json(s / "run/arch.json", lambda d: set_at(d, ("provenance", "data", "path"), value))
            return ["evaluate", s / "run/arch.json", "--out", s / "e", *TRAIN]
        yield Case("traceback", f"arch provenance.data.path={value!r}", path, True)
    yield Case("traceback", "tap file a symlink loop", lambda s: (_special("loop")(s / "cache/image_2.npy"), [
        "search", "--data", s / "cache", "--out", s / "o", *TRAIN, *TINY])[1])
    for value in ("resnet", 3, ["a"], {"image": "x"}, {"image": {"sha256": 5}}):
        def backbones(s: Path, value: Any = value) -> list[Any]:
            rewrite_json(s / "media/model/arch.json",
                         lambda d: set_at(d, ("provenance", "data", "source", "backbones"), value))
            return ["predict", s / "media/model", s / "media/good.mp4"]
        yield Case("traceback", f"model source.backbones={value!r}", backbones)


def _unclean() -> Iterator[Case]:
    big = "x" * 20_000_000
    for keys in (("strategy", "name"), ("strategy", "p"), ("strategy", big[:5_000_000]),
                 ("metrics", "val_acc"),
                 ("provenance", "note"), ("space", "name")):
        def huge(s: Path, keys: Any = keys) -> list[Any]:
            rewrite_json(s / "run/arch.json", lambda d: set_at(d, keys, big))
            return ["render", s / "run/arch.json", "-o", s / "a.svg"]
        yield Case("unclean", f"render: a 20 MB string at {'.'.join(keys)[:20]}", huge, True,
                   check=lambda s, o: o.kind == CLEAN or (s / "a.svg").stat().st_size < 10_000_000)
    raws = {"raw pickle": lambda p: p.write_bytes(pickle.dumps({"epoch": 1}, protocol=4)),
            "pickle of an object": lambda p: p.write_bytes(pickle.dumps(Path("x"))),
            "numpy file": lambda p: np.save(open(p, "wb"), np.zeros(3)),
            "zip of junk": lambda p: p.write_bytes(b"PK\x03\x04" + b"\0" * 100),
            "legacy torch file": lambda p: torch.save({"epoch": 1}, p, _use_new_zipfile_serialization=False),
            "empty": lambda p: p.write_bytes(b"")}
    for name, make in raws.items():
        yield Case("unclean", f"evaluate --resume from a {name}",
                   lambda s, m=make: (m(s / "run/eval/checkpoint.pt"), _resume(s))[1])
        yield Case("unclean", f"search --resume from a {name}", lambda s, m=make: (
            m(s / "run/checkpoint.pt"), ["search", "--resume", "--out", s / "run"])[1])
        yield Case("unclean", f"extract --weights from a {name}", lambda s, m=make: (
            m(s / "w.pt"), [*EXTRACT, s / "media/data", "--weights", f"image={s / 'w.pt'}",
                            "--out", s / "x"])[1])
        yield Case("unclean", f"predict --model from a {name}", lambda s, m=make: (
            m(s / "d.pt"), ["predict", "--model", s / "d.pt", s / "media/good.mp4"])[1])


def _questionable() -> Iterator[Case]:
    for verb in (["search", "--data", "cache", *TRAIN, *TINY], ["evaluate", "run/arch.json", *TRAIN],
                 ["sweep", "--data", "cache", "--grid", "seed=0"], ["extract", "media/data"]):
        for out in ("", "a\nb", "\x1b[2J"):
            yield Case("questionable", f"{verb[0]} --out {out!r}", lambda s, v=verb, o=out: [*v, "--out", o])
    for ops in ("SUM,Concat-FC", "sum,CONCAT-FC", "Sum,sum,concat-fc"):
        yield Case("questionable", f"search --ops {ops}", lambda s, o=ops: [
            "search", "--data", s / "cache", "--out", s / "o", *TRAIN, *TINY[:-1], o], True,
            check=lambda s, o: o.kind == CLEAN or _ops(s / "o/arch.json") == ["sum", "concat-fc"])
    for verify in ([], ["--no-verify"]):
        for split, left in (("val", 1), ("train", 1), ("val", 0)):
            for verb in ("evaluate", "search"):
                yield Case("questionable", f"{verb} {' '.join(verify)} with {left} {split} samples",
                           lambda s, v=verb, sp=split, n=left, f=verify: _small_split(s, v, sp, n, f))
    for gone in ("manifest.json", "image_1.npy"):
        yield Case("questionable", f"cache without {gone}", lambda s, g=gone: (
            (s / "cache" / g).unlink(),
            ["search", "--data", s / "cache", "--out", s / "o", *TRAIN, *TINY])[1],
            check=lambda s, o, g=gone: g in o.stderr)


def _ops(arch_json: Path) -> Any:
    return json.loads(arch_json.read_text())["space"]["config"]["ops"]


def _small_split(s: Path, verb: str, split: str, left: int, verify: list[str]) -> list[Any]:
    """Move all but ``left`` samples of ``split`` into the test split (the fingerprint no longer
    matches: only ``--no-verify`` reaches the split check)."""
    def shrink(d: dict) -> dict:
        for x in [x for x in d["samples"] if x["split"] == split][left:]:
            x["split"] = "test"
        return d

    rewrite_json(s / "cache/manifest.json", shrink)
    data = ["--data", s / "cache", *TRAIN, *verify]
    return (["evaluate", s / "run/arch.json", "--out", s / "e", *data] if verb == "evaluate" else
            ["search", "--out", s / "o", *TINY, *data])


def _ownership() -> Iterator[Case]:
    def held(path: Path) -> None:
        lock_path(path).write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))

    yield Case("ownership", "second search into an owned run",
               lambda s: (held(s / "run"), ["search", "--resume", "--out", s / "run"])[1])
    yield Case("ownership", "second evaluation into an owned --out", lambda s: (held(s / "run/eval"), [
        "evaluate", s / "run/arch.json", "--out", s / "run/eval", "--epochs", 1])[1])
    yield Case("ownership", "search while its cache is owned", lambda s: (held(s / "out"), [
        "search", "--data", s / "cache", "--out", s / "out", *TINY])[1])


def _predict() -> Iterator[Case]:
    from predictkit import EXPORTED_FAULTS, MODEL_FAULTS, video_faults

    for name, damage in MODEL_FAULTS.items():
        yield Case("predict", f"model: {name}", lambda s, d=damage: (d(s / "media/model"), [
            "predict", s / "media/model", s / "media/good.mp4"])[1])
    for name, make in EXPORTED_FAULTS.items():
        suffix = name.split("(")[-1].rstrip(")")
        yield Case("predict", f"--model {name}", lambda s, m=make, x=suffix: (m(s / f"d{x}"), [
            "predict", "--model", s / f"d{x}", s / "media/good.mp4"])[1])
    for name in video_faults(PRISTINE / "media/good.mp4"):
        def video(s: Path, name: str = name) -> list[Any]:
            video_faults(s / "media/good.mp4")[name](s / "v.mp4")
            return ["predict", s / "media/model", s / "v.mp4", s / "media/good.mp4"]
        yield Case("predict", f"video: {name}", video, check=_scored_good, videos=True)


GENERATORS: dict[str, Callable[[], Iterator[Case]]] = {
    "fuzz": _fuzz, "wrong": _wrong, "hang": _hang, "traceback": _traceback, "unclean": _unclean,
    "questionable": _questionable, "predict": _predict, "ownership": _ownership}
PRISTINE = Path()


def _run(scratch: Path, case: Case) -> Outcome:
    shutil.copytree(PRISTINE, scratch, symlinks=True)
    cwd = Path.cwd()
    os.chdir(scratch)
    try:
        outcome = run_cli(case.prepare(scratch), allow_success=case.may_succeed, timeout=60)
        if case.videos and outcome.kind == UNCLEAN:
            errors = [line for line in outcome.stderr.splitlines() if line.startswith("automm: error: ")]
            bad = f"automm: error: {scratch / 'v.mp4'}: "
            if len(errors) == 1 and errors[0].startswith(bad):
                outcome = Outcome(CLEAN, outcome.exit_code, outcome.stderr)
        if outcome.kind in (CLEAN, ACCEPTED) and case.check is not None and not case.check(scratch, outcome):
            return Outcome(WRONG, outcome.exit_code, outcome.stderr)
        return outcome
    except Exception as exc:  # a case that could not be prepared counts, and is shown
        return Outcome(TRACEBACK, None, f"preparing the case: {type(exc).__name__}: {exc}")
    finally:
        os.chdir(cwd)
        shutil.rmtree(scratch, ignore_errors=True)


# -- crash matrices (subprocesses) ---------------------------------------------------------

def _killed(n: int, args: list[Any]) -> bool:
    """Run ``automm ARGS`` killed before its Nth write point; whether it was killed."""
    proc = subprocess.run([sys.executable, CRASH_SCRIPT, str(n), *map(str, args)],
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=600)
    return proc.returncode == -signal.SIGKILL


def _crash(root: Path, verbose: bool) -> Iterator[tuple[str, str]]:
    """(case, outcome) of each write point of both crash matrices: ``accepted`` when the re-run
    equals an uninterrupted run and nothing is left behind, else ``lost``."""
    from test_crash import cache_content, evaluation, leftovers

    scratch = root / "crash"
    shutil.copytree(PRISTINE, scratch, symlinks=True)
    run = scratch / "run"
    eval_args = ["evaluate", run / "arch.json", "--epochs", 2, "--batch-size", 16, "--seed", 3]
    media = scratch / "media"
    extract_args = [*EXTRACT, media / "data", "--backbone", "audio=none"]
    matrices = {
        "evaluate --resume": (eval_args, lambda out: None, evaluation,
                              lambda out: [*eval_args, "--out", out, "--resume"], run),
        "extract replacing a cache": (extract_args, lambda out: shutil.copytree(media / "cache", out),
                                      cache_content, lambda out: [*extract_args, "--out", out], media),
    }
    for name, (args, setup, content, rerun, parent) in matrices.items():
        run_cli([*args, "--out", parent / "reference"], allow_success=True, timeout=600)
        want = content(parent / "reference")
        out = parent / "killed"
        for n in range(1, 100):
            setup(out)
            if not _killed(n, [*args, "--out", out]):
                break
            again = run_cli(rerun(out), allow_success=True, timeout=600)
            if "no checkpoint to resume from" in again.stderr:
                again = run_cli([*args, "--out", out], allow_success=True, timeout=600)
            ok = again.kind == ACCEPTED and content(out) == want and not leftovers(parent, out) \
                and not lock_path(out).exists()
            if verbose and not ok:
                print(f"lost      {name} killed at write point {n}: {again.stderr.strip()[:200]}")
            yield f"{name} killed at write point {n}", ACCEPTED if ok else LOST
            shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    global PRISTINE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=[*GENERATORS, "crash"], action="append",
                        help="Run only these classes (repeatable).")
    parser.add_argument("--limit", type=int, default=None, help="Run only the first N cases of each class.")
    parser.add_argument("--verbose", action="store_true", help="Print every case that is not clean.")
    args = parser.parse_args()
    torch.set_num_threads(1)
    classes = args.only or [*GENERATORS, "crash"]
    root = Path(tempfile.mkdtemp(prefix="automm-reliability-"))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    start = time.monotonic()
    try:
        media = any(c in classes for c in ("wrong", "hang", "traceback", "unclean", "questionable", "predict",
                                           "crash"))
        PRISTINE = _fixture(root / "pristine", media)
        i = 0
        for kind in classes:
            if kind == "crash":
                for _name, outcome in _crash(root, args.verbose):
                    counts[kind][outcome] += 1
                continue
            for case in list(GENERATORS[kind]())[: args.limit]:
                i += 1
                outcome = _run(root / f"case{i}", case)
                kind_out = LOST if kind == "ownership" and outcome.kind == WRONG else outcome.kind
                counts[kind][kind_out] += 1
                if args.verbose and kind_out not in (CLEAN, ACCEPTED):
                    print(f"{kind_out:<9} {kind}: {case.name}: {outcome.stderr.strip()[-300:]}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    total: Counter[str] = Counter()
    for kind in classes:
        total.update(counts[kind])
    print(" | ".join(f"{c:>12}" for c in ("class", "tried", *OUTCOMES)))
    for kind, row in ((k, counts[k]) for k in [*classes, "all"]):
        row = total if kind == "all" else row
        print(" | ".join(f"{c:>12}" for c in (kind, sum(row.values()), *(row[c] for c in OUTCOMES))))
    print(f"({time.monotonic() - start:.0f} s)")


if __name__ == "__main__":
    main()
