"""The embedded demo corpus: a small audio-visual deepfake dataset in the FakeAVCeleb v1.2
layout, generated offline and deterministically.

Identities are real face photographs bundled with scikit-image (``lfw_subset``, see
:mod:`.faces`) with a synthetic voice each (:mod:`.speech`). Identities come in fixed
pairs; each fake of an identity uses its partner as the donor, so the identity groups of
:func:`automm.data.identity_disjoint_split` are the pairs. Per identity:

- ``RealVideo-RealAudio``: ``real_clips`` clips (the animated photograph speaking);
- ``RealVideo-FakeAudio``: clip 1's video with the partner's utterance converted into the
  identity's voice (re-voiced, then mel + Griffin-Lim vocoded);
- ``FakeVideo-RealAudio``: clip 1 with the partner's face swapped in (landmark-aligned);
- ``FakeVideo-FakeAudio``: both, and the mouth motion offset from the audio by 0.2-0.4 s.

Every clip lasts 3 s at 25 fps, 128 x 128, with 0.3 s of leading silence, H.264 (crf 20,
x264 preset ultrafast) and AAC at 16 kHz mono: the same settings in every category.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import av
import numpy as np
import torch
from automm_media.executors import resolve_workers

from automm import interrupts
from automm.errors import DataError
from automm.fileio import atomic_path, read_json, write_json, write_text
from automm.schema import obj, problem, string
from automm_deepfake.datasets import FAKEAVCELEB_CATEGORIES
from automm_deepfake.demo.faces import (
    SIZE,
    Motion,
    camera,
    identity_image,
    lfw_faces,
    render,
    swap_source,
)
from automm_deepfake.demo.speech import SR, Track, Voice, room, synthesise, utterance, vocode

FORMAT = "automm.demo/1"
RECORD = obj({"format": string(), "spec": obj()})
"""What decides whether an existing demo.json is kept (anything else: the corpus is made again)."""
FPS = 25
DURATION = 3.0
LEAD = 0.3
CRF = 20
SENSOR_NOISE = 0.02
EYE_DISTANCE = 29  # pixels between the eyes in every identity's frame
UNLABELLED = "unlabelled"  # race and gender folders: the demo does not label people
CSV_HEADER = ("source", "target1", "target2", "method", "category", "type", "race", "gender", "path")


@dataclass(frozen=True)
class DemoSpec:
    """Size and seed of a demo corpus."""

    identities: int = 24
    real_clips: int = 2
    seed: int = 0
    ring: bool = False
    """Donors in a ring (identity k takes k+1's face and voice), linking the whole cast into one
    identity group as FakeAVCeleb's fakes do; default: partners in pairs."""

    @classmethod
    def small(cls, seed: int = 0) -> DemoSpec:
        """The setting for tests: 16 identities, one real clip each (64 videos)."""
        return cls(identities=16, real_clips=1, seed=seed)

    @property
    def videos(self) -> int:
        """Number of videos in the corpus."""
        return self.identities * (self.real_clips + 3)


@dataclass(frozen=True)
class Identity:
    """One person of the corpus."""

    id: str
    lfw_index: int
    image: torch.Tensor
    landmarks: np.ndarray
    voice: Voice
    partner: str = ""


def _rng(spec: DemoSpec, *key: int) -> np.random.Generator:
    return np.random.default_rng([spec.seed, *key])


def _seed(spec: DemoSpec, *key: int) -> int:
    return int(_rng(spec, *key).integers(2**31))


def select_identities(spec: DemoSpec) -> list[Identity]:
    """The first ``spec.identities`` LFW faces whose portrait MTCNN detects with probability
    >= 0.99 (clear source photographs, as dataset makers pick), paired up (0-1, 2-3, ...) or, with
    ``spec.ring``, each the donor of the one before it (0 <- 1 <- 2 ... <- 0)."""
    from automm_media.faces import FaceAligner

    if spec.identities < 4 or spec.identities % 2:
        raise DataError(f"the demo corpus needs an even number (>= 4) of identities, not {spec.identities}")
    # clearly detectable photographs only; the default memory format keeps the corpus's bytes
    aligner = FaceAligner(min_prob=0.99, channels_last=False)

    def landmarks(image: torch.Tensor) -> np.ndarray | None:
        frame = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        return aligner.landmarks(frame[None])[0]

    found: list[Identity] = []
    for index, face in enumerate(lfw_faces()):
        # frame every face alike: scale it so that the eyes are EYE_DISTANCE pixels apart
        first = landmarks(identity_image(face, _rng(spec, 1, index)))
        if first is None:
            continue
        inner = round(100 * EYE_DISTANCE / float(np.linalg.norm(first[1] - first[0])))
        if not 60 <= inner <= SIZE:
            continue
        image = identity_image(face, _rng(spec, 1, index), inner)
        points = landmarks(image)
        if points is not None:
            found.append(Identity(f"id{index:05d}", index, image, points.astype(np.float64),
                                  Voice.random(_rng(spec, 2, index))))
        if len(found) == spec.identities:
            break
    if len(found) < spec.identities:
        raise DataError(f"only {len(found)} usable faces in scikit-image's lfw_subset")
    donor = (lambda k: (k + 1) % len(found)) if spec.ring else (lambda k: k ^ 1)
    return [replace(i, partner=found[donor(k)].id) for k, i in enumerate(found)]


def write_video(path: Path, frames: np.ndarray, audio: np.ndarray) -> None:
    """Write ``(T, H, W, 3)`` uint8 frames and mono float audio at :data:`SR` as H.264 + AAC mp4."""
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        video.options = {"crf": str(CRF), "preset": "ultrafast"}
        video.codec_context.thread_count = 1  # identical bytes on every machine
        sound = out.add_stream("aac", rate=SR, layout="mono")
        for image in frames:
            out.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(video.encode(None))
        step = 1024
        for start in range(0, len(audio), step):
            chunk = audio[start:start + step].astype(np.float32)[None]
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate, frame.pts = SR, start
            out.mux(sound.encode(frame))
        out.mux(sound.encode(None))


def _to_uint8(frames: torch.Tensor) -> np.ndarray:
    return (frames[:, :3].permute(0, 2, 3, 1).numpy() * 255).round().clip(0, 255).astype(np.uint8)


def _mouth(track_mouth: np.ndarray, frames: int, shift: int = 0) -> np.ndarray:
    """Control-rate mouth opening -> one value per video frame (optionally delayed)."""
    per = len(track_mouth) // frames
    m = track_mouth[: per * frames].reshape(frames, per).mean(1)
    return m[np.clip(np.arange(frames) - shift, 0, frames - 1)]


METHODS = {"RealVideo-RealAudio": "real", "RealVideo-FakeAudio": "vc", "FakeVideo-RealAudio": "faceswap",
           "FakeVideo-FakeAudio": "faceswap-vc"}


@dataclass
class Clip:
    """One file of the corpus and its metadata row."""

    category: str
    identity: str
    name: str
    donors: tuple[str, str] = ("-", "-")

    @property
    def folder(self) -> str:
        """The folder relative to the corpus root."""
        return f"{self.category}/{UNLABELLED}/{UNLABELLED}/{self.identity}"

    def row(self) -> list[str]:
        """A meta_data.csv row with the v1.2 quirk: 10 values for 9 header names."""
        letter = FAKEAVCELEB_CATEGORIES[self.category][0]
        return [self.identity, *self.donors, METHODS[self.category], letter, self.category, UNLABELLED,
                UNLABELLED, self.name, f"FakeAVCeleb/{self.folder}"]


def _said(spec: DemoSpec, person: Identity, clip: int) -> Track:
    """What ``person`` says in real clip ``clip`` (independent of whose voice says it)."""
    return utterance(_rng(spec, 3, person.lfw_index, clip), duration=DURATION, lead=LEAD,
                     rate=person.voice.rate, seed=_seed(spec, 11, person.lfw_index, clip))


def _blend(generated: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
    """Generator output ``(T, 4, H, W)`` (colour + alpha) blended over camera frames."""
    alpha = generated[:, 3:]
    return alpha * generated[:, :3] + (1 - alpha) * frames


Item = tuple[Clip, np.ndarray, np.ndarray]


def _identity_clips(spec: DemoSpec, person: Identity, partner: Identity) -> Iterator[Item]:
    """Every clip of one identity with its frames and audio."""
    n = round(DURATION * FPS)
    key = person.lfw_index
    for c in range(1, spec.real_clips + 1):
        track = _said(spec, person, c)
        motion = Motion.random(_rng(spec, 4, key, c), n, FPS)
        audio = room(synthesise(track, person.voice), seed=_seed(spec, 5, key, c))
        mouth = _mouth(track.mouth, n)
        real = camera(render(person.image, person.landmarks, motion, mouth), _rng(spec, 6, key, c),
                      SENSOR_NOISE)
        yield Clip("RealVideo-RealAudio", person.id, f"{c:05d}.mp4"), _to_uint8(real), audio
        if c != 1:
            continue
        stem = f"{c:05d}_{partner.id}"
        # the partner's utterance, converted into this identity's voice
        said = _said(spec, partner, 1)
        fake_audio = room(vocode(synthesise(said, person.voice), seed=_seed(spec, 7, key)),
                          seed=_seed(spec, 8, key))
        yield Clip("RealVideo-FakeAudio", person.id, f"{stem}_vc.mp4", (partner.id, "-")), \
            _to_uint8(real), fake_audio
        generated = swap_source(person.image, person.landmarks, partner.image, partner.landmarks)
        jitter = motion.jittered(_rng(spec, 9, key), pixels=0.6, degrees=0.4)
        fake = _blend(render(generated, person.landmarks, jitter, mouth), real)
        yield Clip("FakeVideo-RealAudio", person.id, f"{stem}_faceswap.mp4", (partner.id, "-")), \
            _to_uint8(fake), audio
        # lip-synced to the converted speech, but off by 0.2-0.4 s
        offset = _rng(spec, 10, key)
        shift = round(offset.uniform(0.2, 0.4) * FPS) * (1 if offset.random() < 0.5 else -1)
        synced = _mouth(said.mouth, n, shift)
        base = camera(render(person.image, person.landmarks, motion, synced), _rng(spec, 6, key, c),
                      SENSOR_NOISE)
        both = _blend(render(generated, person.landmarks, jitter, synced), base)
        yield Clip("FakeVideo-FakeAudio", person.id, f"{stem}_faceswap-vc.mp4", (partner.id, partner.id)), \
            _to_uint8(both), fake_audio


def generate_demo(out: str | os.PathLike[str], spec: DemoSpec | None = None, *, progress: bool = True,
                  workers: int | str = "auto") -> dict[str, Any]:
    """Write the demo corpus to ``out`` (atomically) and return its ``demo.json`` record.

    The identities' clips are made in ``workers`` spawned processes (``auto``: one per usable
    CPU core; 1: in this process); the files are the same whatever the number. An existing
    corpus with the same spec is kept as is.
    """
    spec = spec or DemoSpec()
    out = Path(out)
    record_file = out / "demo.json"
    if record_file.is_file():
        old = read_json(record_file, DataError)
        if problem(old, RECORD) is None and old["format"] == FORMAT and old["spec"] == asdict(spec):
            return old
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not record_file.is_file():
        raise DataError(f"{out}: exists and is not a demo corpus; choose an empty or new directory")
    start = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small tensors: threads only add contention
    count = min(resolve_workers(workers), spec.identities)
    pool = None
    if count > 1:
        pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker)
        for _ in range(count):  # the workers start while this process picks the identities
            pool.submit(int)
    try:
        return _generate(out, spec, progress, start, pool)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        torch.set_num_threads(threads)


def _init_worker() -> None:
    """A corpus worker: one torch thread; a Ctrl-C reaching it too lets it finish its identity
    (the parent process decides when to stop)."""
    torch.set_num_threads(1)
    interrupts.install()


def _write_identity(folder: Path, spec: DemoSpec, person: Identity, partner: Identity) -> list[list[str]]:
    """Write every clip of ``person`` below ``folder``; their metadata rows."""
    rows = []
    for clip, frames, audio in _identity_clips(spec, person, partner):
        path = folder / clip.folder / clip.name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_video(path, frames, audio)
        rows.append(clip.row())
    return rows


def _generate(out: Path, spec: DemoSpec, progress: bool, start: float,
              pool: ProcessPoolExecutor | None) -> dict[str, Any]:
    from tqdm.auto import tqdm

    people = select_identities(spec)
    by_id = {p.id: p for p in people}
    with atomic_path(out, directory=True) as tmp:
        bar = tqdm(total=spec.videos, desc="demo-data", unit="video", disable=None if progress else True,
                   dynamic_ncols=True)
        written: dict[str, list[list[str]]] = {}
        if pool is None:
            for person in people:
                written[person.id] = _write_identity(tmp, spec, person, by_id[person.partner])
                bar.update(len(written[person.id]))
                interrupts.check()  # a safe point: a stop removes the unfinished corpus
        else:
            futures = {pool.submit(_write_identity, tmp, spec, p, by_id[p.partner]): p.id for p in people}
            try:
                for future in as_completed(futures):
                    written[futures[future]] = future.result()
                    bar.update(len(written[futures[future]]))
                    interrupts.check()
            except BaseException:
                pool.shutdown(cancel_futures=True)  # no worker writes into tmp once it is removed
                raise
        rows = [row for person in people for row in written[person.id]]
        bar.close()
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(rows)
        write_text(tmp / "meta_data.csv", buf.getvalue())
        record = {
            "format": FORMAT,
            "spec": asdict(spec),
            "videos": len(rows),
            "layout": "fakeavceleb",
            "faces": "scikit-image lfw_subset (Labeled Faces in the Wild, 25x25 grey; unnamed, so one "
                     "person may appear twice), upscaled, tinted, textured, on a backdrop",
            "voices": "built-in source-filter synthesiser, one voice per identity",
            "clip": {"seconds": DURATION, "fps": FPS, "size": SIZE, "leading_silence": LEAD,
                     "video_codec": f"h264 crf {CRF}", "audio_codec": f"aac {SR} Hz mono"},
            "identities": [{"id": p.id, "lfw_index": p.lfw_index, "partner": p.partner,
                            "voice": asdict(p.voice)} for p in people],
            "seconds": round(time.perf_counter() - start, 2),
        }
        write_json(tmp / "demo.json", record)
    return record
