"""Splits by primary identity (linked fakes dropped or kept) and random stratified splits."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from automm.data import MediaSample
from automm.data.splits import merge_plans, split_counts, split_samples
from automm.errors import DataError

CLASSES = ("real", "fake")


def linked_cast(identities: int = 10, fakes: int = 5, seed: int = 0) -> list[MediaSample]:
    """One real clip per identity and ``fakes`` fakes each pairing it with a random other
    identity: the linked graph is one component covering the whole cast."""
    rng = random.Random(seed)
    ids = [f"id{i:02d}" for i in range(identities)]
    out = [MediaSample(f"real/{i}", Path(i), 0, (i,)) for i in ids]
    for i in ids:
        for k in range(fakes):
            other = rng.choice([j for j in ids if j != i])
            out.append(MediaSample(f"fake/{i}/{k}", Path(i), 1, (i, other)))
    return out


def where(plan, samples):
    """identity -> set of splits of the kept samples naming it (any role)."""
    out: dict[str, set[str]] = {}
    for s in samples:
        if s.id in plan.assignment:
            for ident in s.identities:
                out.setdefault(ident, set()).add(plan.assignment[s.id])
    return out


@pytest.mark.parametrize("seed", range(4))
def test_a_fully_linked_cast_fills_every_split(seed):
    samples = linked_cast(seed=seed)
    drop = split_samples(samples, classes=CLASSES, seed=seed)
    assert {drop.assignment[s.id] for s in samples if s.id in drop.assignment} == {"train", "val", "test"}
    assert all(len(splits) == 1 for splits in where(drop, samples).values())  # strictly disjoint
    assert len(drop.assignment) + len(drop.dropped) == len(samples) and drop.dropped
    assert sum(r["linked_dropped"] for r in drop.counts.values()) == len(drop.dropped)
    assert all(r["real"] and r["fake"] for r in drop.counts.values()), drop.counts
    keep = split_samples(samples, classes=CLASSES, seed=seed, linked="keep")
    assert not keep.dropped and len(keep.assignment) == len(samples)
    primary: dict[str, set[str]] = {}
    for s in samples:
        primary.setdefault(s.identity, set()).add(keep.assignment[s.id])
    assert all(len(v) == 1 for v in primary.values())
    assert sum(r["linked_kept"] for r in keep.counts.values()) > 0
    assert not drop.notes and not keep.notes


def test_small_linked_groups_stay_whole():
    """Pairs of identities (the small demo corpus's shape: 8 pairs, 64 videos) are dealt whole:
    nothing is dropped to get closer to the fractions."""
    samples = []
    for p in range(8):
        a, b = f"a{p}", f"b{p}"
        for me, other in ((a, b), (b, a)):
            samples.append(MediaSample(f"{me}/real", Path(me), 0, (me,)))
            samples += [MediaSample(f"{me}/fake{k}", Path(me), 1, (me, other)) for k in range(3)]
    plan = split_samples(samples, classes=CLASSES, seed=3)
    assert not plan.dropped
    shares = {k: r["videos"] / len(samples) for k, r in plan.counts.items()}
    assert abs(shares["train"] - 0.7) <= 0.06 and min(shares.values()) > 0


def test_random_split_is_stratified_seeded_and_recorded():
    samples = [MediaSample(f"v{i}", Path("v"), int(i % 10 != 0), ("same",)) for i in range(1000)]
    plan = split_samples(samples, (0.8, 0.1, 0.1), classes=CLASSES, seed=1, method="random")
    assert plan.counts["train"] == {"videos": 800, "real": 80, "fake": 720}
    assert plan.counts["val"] == plan.counts["test"] == {"videos": 100, "real": 10, "fake": 90}
    again = [split_samples(samples, (0.8, 0.1, 0.1), classes=CLASSES, seed=s, method="random")
             for s in (1, 2)]
    assert plan.assignment == again[0].assignment and plan.assignment != again[1].assignment
    record = plan.record((0.8, 0.1, 0.1), 1)
    assert record["method"] == "random" and record["linked"] is None and record["seed"] == 1
    # one live video cannot be everywhere: counts and notes use the class names given
    tiny = split_samples(samples[:5], classes=("live", "spoof"), seed=0, method="random")
    assert sum(r["live"] for r in tiny.counts.values()) == 1
    assert all(r["spoof"] for r in tiny.counts.values())
    assert any("has no live videos" in n for n in tiny.notes)


def test_an_impossible_split_is_one_line_naming_split_reason_and_fix():
    samples = [MediaSample(f"{i}/{k}", Path("v"), k % 2, (i,)) for i in ("x", "y") for k in range(4)]
    plan = split_samples(samples, classes=CLASSES, seed=0)
    empty = [k for k, r in plan.counts.items() if r["videos"] == 0]
    assert len(empty) == 1 and len(plan.notes) == 1
    assert plan.notes[0].startswith(f"split {empty[0]!r} is empty: 2 identities cannot fill 3")
    assert "--split random" in plan.notes[0] and "\n" not in plan.notes[0]
    unwanted = split_samples(samples, (0.5, 0.5, 0.0), classes=CLASSES, seed=0)
    assert unwanted.counts["test"]["videos"] == 0 and not unwanted.notes  # asked for: no note
    with pytest.raises(DataError, match="unknown linked-fake policy 'maybe'"):
        split_samples(samples, classes=CLASSES, linked="maybe")


def test_merge_and_class_counts():
    a = split_samples(linked_cast(6, 2), classes=CLASSES, seed=0)
    b = split_samples([MediaSample("t/1", Path("t"), 0, ("zz",))], (0, 0, 1), classes=CLASSES, seed=0)
    both = merge_plans([a, b])
    assert both.counts["test"]["videos"] == a.counts["test"]["videos"] + 1
    assert both.assignment["t/1"] == "test" and len(both.assignment) == len(a.assignment) + 1
    rows = [{"split": "train", "label": 1}, {"split": "train", "label": 0}, {"split": "test", "label": 1}]
    assert split_counts(rows, ("live", "spoof")) == {
        "train": {"live": 1, "spoof": 1}, "val": {"live": 0, "spoof": 0}, "test": {"live": 0, "spoof": 1}}
