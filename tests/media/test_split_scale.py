"""FakeAVCeleb v1.2 at full size (metadata only, file presence mocked): the splits hold."""

from __future__ import annotations

import random
import time
from pathlib import Path

import automm_deepfake.datasets as datasets
import pytest
from automm_media.planning import assign_splits, list_jobs

HEADER = "source,target1,target2,method,category,type,race,gender,path"
CATEGORIES = {"RealVideo-RealAudio": ("A", 500, False), "FakeVideo-RealAudio": ("C", 9709, True),
              "RealVideo-FakeAudio": ("B", 500, False), "FakeVideo-FakeAudio": ("D", 10835, True)}
"""Published counts; the face-swapped categories pair the source with a random target."""
FRACTIONS = (0.7, 0.15, 0.15)


def full_size_metadata(root: Path, identities: int = 500, seed: int = 0) -> dict[str, list[Path]]:
    """Write a full-size v1.2 ``meta_data.csv`` (9 names, 10 values a row); return the video
    paths per category folder (no files are written)."""
    rng = random.Random(seed)
    ids = [f"id{i:05d}" for i in range(identities)]
    rows, listed = [HEADER], {}
    for category, (letter, count, swapped) in CATEGORIES.items():
        listed[category] = []
        for k in range(count):
            source = ids[k % identities] if count == identities else rng.choice(ids)
            pool, target = ids[:50] if k % 7 == 0 else ids, source  # some donors are popular
            while swapped and target == source:
                target = rng.choice(pool)
            target = target if swapped else "-"
            name = f"{k:05d}_{target}_fake.mp4" if swapped else f"{k:05d}.mp4"
            folder = f"{category}/Caucasian (European)/men/{source}"
            rows.append(f"{source},{target},-,m,{letter},{category},Caucasian (European),men,{name},"
                        f"FakeAVCeleb/{folder}")
            listed[category].append(root / folder / name)
    (root / "meta_data.csv").write_text("\n".join(rows) + "\n")
    return listed


@pytest.fixture(scope="module")
def fakeavceleb_jobs(tmp_path_factory):
    root = tmp_path_factory.mktemp("favc")
    listed = full_size_metadata(root)
    patch = pytest.MonkeyPatch()
    patch.setattr(datasets, "videos_under", lambda folder: sorted(listed.get(folder.name, [])))
    try:
        jobs, records = list_jobs([root], dataset="fakeavceleb")
    finally:
        patch.undo()
    assert len(jobs) == 21544 and records[0]["videos"] == 21544
    return jobs


@pytest.mark.parametrize("linked", ["drop", "keep"])
def test_full_size_fakeavceleb_splits(fakeavceleb_jobs, linked, record_property):
    jobs = fakeavceleb_jobs
    start = time.perf_counter()
    plan = assign_splits(jobs, FRACTIONS, 0, linked=linked)
    seconds = time.perf_counter() - start
    record_property("split_seconds", round(seconds, 2))
    assert seconds < 60  # about 0.3 s measured; this only catches a quadratic blow-up
    kept = len(plan.assignment)
    assert kept + len(plan.dropped) == len(jobs) and not plan.notes
    for name, fraction in zip(("train", "val", "test"), FRACTIONS, strict=True):
        row = plan.counts[name]
        assert row["real"] > 0 and row["fake"] > 0, (name, row)
        assert abs(row["videos"] / kept - fraction) <= 0.02, (name, row, kept)
    owner: dict[str, set[str]] = {}
    for job in jobs:
        if job.sample.id in plan.assignment:
            named = job.sample.identities if linked == "drop" else job.sample.identities[:1]
            for ident in named:
                owner.setdefault(ident, set()).add(plan.assignment[job.sample.id])
    assert len(owner) == 500 and all(len(s) == 1 for s in owner.values())
    if linked == "drop":
        assert sum(r["linked_dropped"] for r in plan.counts.values()) == len(plan.dropped) > 0
    else:
        assert not plan.dropped and sum(r["linked_kept"] for r in plan.counts.values()) > 5000


def test_full_size_random_split_is_stratified(fakeavceleb_jobs):
    plan = assign_splits(fakeavceleb_jobs, FRACTIONS, 0, method="random")
    reals = sum(r["real"] for r in plan.counts.values())
    for name, fraction in zip(("train", "val", "test"), FRACTIONS, strict=True):
        row = plan.counts[name]
        assert abs(row["videos"] / len(fakeavceleb_jobs) - fraction) <= 0.001
        assert abs(row["real"] / reals - fraction) <= 0.002
