"""The demo corpus end to end: demo-data (small) -> extract -> linear probe, and
-> search -> evaluate -> predict on the CPU."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from automm_deepfake.datasets import FAKEAVCELEB_CATEGORIES
from automm_deepfake.demo import DemoSpec, _identity_clips, generate_demo, select_identities
from automm_media.decode import read_frames
from automm_media.faces import LANDMARK_TOLERANCE, FaceAligner
from click.testing import CliRunner
from probe import held_out_identity_auc

from automm.cli import cli
from automm.data import FeatureCache
from automm.data.dataset import detect_layout

pytestmark = pytest.mark.slow


def run(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, res.output
    return res.stdout


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "corpus"
    run("demo-data", str(out), "--small", "--quiet")
    return out


@pytest.fixture(scope="module")
def cache(corpus: Path) -> FeatureCache:
    out = corpus.parent / "cache"
    run("extract", str(corpus), "--out", str(out), "--frames", "4", "--device", "cpu", "--quiet")
    return FeatureCache.open(out)


def test_channels_last_face_detection_matches_the_default_format(corpus):
    """Extraction's MTCNN (channels-last) finds faces in the same frames of demo videos as the
    default memory format, landmarks within the documented tolerance."""
    fast, full = FaceAligner(), FaceAligner(channels_last=False)
    assert fast.mtcnn.pnet.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    for category in FAKEAVCELEB_CATEGORIES:
        for video in sorted((corpus / category).rglob("*.mp4"))[:2]:
            frames, _, _ = read_frames(video, 8)
            got, want = fast.landmarks(frames), full.landmarks(frames)
            assert [p is None for p in got] == [p is None for p in want] and want[0] is not None
            for a, b in zip(got, want, strict=True):
                if b is not None:
                    assert np.abs(a - b).max() <= LANDMARK_TOLERANCE


def test_generation_on_several_cores_writes_the_same_files(tmp_path):
    spec = DemoSpec(identities=4, real_clips=1)
    records = [generate_demo(tmp_path / str(n), spec, progress=False, workers=n) for n in (1, 2)]
    files = [{p.relative_to(tmp_path / str(n)): p.read_bytes() for p in (tmp_path / str(n)).rglob("*")
              if p.is_file() and p.name != "demo.json"} for n in (1, 2)]
    assert files[0] == files[1] and len(files[0]) == 17  # 16 videos and meta_data.csv
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in records] == \
        [{k: v for k, v in records[0].items() if k != "seconds"}] * 2


def test_corpus_is_fakeavceleb_with_the_csv_quirk(corpus):
    assert detect_layout(corpus) == "fakeavceleb"
    with open(corpus / "meta_data.csv", newline="") as f:
        header, *rows = list(csv.reader(f))
    assert len(header) == 9 and {len(r) for r in rows} == {10} and len(rows) == 64
    videos = sorted(corpus.rglob("*.mp4"))
    assert len(videos) == 64 and len({v.name for v in videos}) < 64  # names repeat across folders
    record = json.loads((corpus / "demo.json").read_text())
    assert "lfw_subset" in record["faces"] and len(record["identities"]) == 16
    # no trivial cue: every category has the same duration, streams and codecs
    shapes = set()
    for category in FAKEAVCELEB_CATEGORIES:
        with av.open(str(next((corpus / category).rglob("*.mp4")))) as c:
            v, a = c.streams.video[0], c.streams.audio[0]
            shapes.add((v.codec_context.name, v.width, v.height, v.frames, a.codec_context.name, a.rate,
                        round(float(c.duration) / av.time_base, 1)))
    assert len(shapes) == 1


def test_generation_is_deterministic():
    spec = DemoSpec(identities=4, real_clips=1)
    people = select_identities(spec)
    by_id = {p.id: p for p in people}

    def clips():
        return list(_identity_clips(spec, people[0], by_id[people[0].partner]))

    for (c1, f1, a1), (c2, f2, a2) in zip(clips(), clips(), strict=True):
        assert c1 == c2 and np.array_equal(f1, f2) and np.array_equal(a1, a2)


def test_a_linear_probe_beats_chance_on_held_out_identities(cache):
    labels = cache.labels.astype(float)
    real = held_out_identity_auc(cache, labels)
    rng = np.random.default_rng(0)
    shuffled = [held_out_identity_auc(cache, rng.permutation(labels)) for _ in range(5)]
    assert real >= 0.7, real
    assert np.mean(shuffled) <= 0.6, shuffled


def test_search_evaluate_predict(cache, corpus, tmp_path):
    run_dir = tmp_path / "run"
    run("search", "--data", str(cache.path), "--out", str(run_dir), "--epochs", "1", "--C", "8", "--L", "4",
        "--no-progress")
    run("evaluate", str(run_dir / "arch.json"), "--out", str(run_dir / "eval"), "--epochs", "1",
        "--no-progress")
    videos = [str(corpus / cache.samples[i]["id"]) for i in (0, 1)]
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 100)
    res = CliRunner().invoke(cli, ["predict", str(run_dir / "eval"), *videos, str(broken), "--json",
                                   "--device", "cpu"])
    assert res.exit_code == 1, res.output
    out = json.loads(res.stdout)
    assert out["backbones"] == {"image": "random-init (seed 0)", "audio": "random-init (seed 1)"}
    scores = [p["p_fake"] for p in out["predictions"][:2]]
    assert all(0 <= s <= 1 for s in scores) and "unreadable" in out["predictions"][2]["error"]


@pytest.mark.parametrize("ring", [False, True])
def test_donors_pair_up_or_link_the_whole_cast(ring):
    from automm_deepfake.demo import DemoSpec, select_identities

    people = select_identities(DemoSpec(identities=6, ring=ring))
    ids = [p.id for p in people]
    donors = [ids.index(p.partner) for p in people]
    assert donors == ([1, 2, 3, 4, 5, 0] if ring else [1, 0, 3, 2, 5, 4])
