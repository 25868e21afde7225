"""Planning an extraction: the videos of the dataset directories (jobs), the protocol they
form, their seeded splits and what makes a split unfit."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from automm import plugins
from automm.data import MediaSample
from automm.data.dataset import detect_layout
from automm.data.splits import SplitPlan, merge_plans, split_samples
from automm.errors import DataError
from automm_media.classes import CLASSES


@dataclass(frozen=True)
class Job:
    """One video to extract: its sample (ids and identities namespaced in mixed runs) and role."""

    sample: MediaSample
    dataset: str
    role: str  # "all" (split train/val/test) | "train" (train/val) | "test"


def list_jobs(roots: Sequence[str | os.PathLike[str]], *, test_roots: Sequence[str | os.PathLike[str]] = (),
              dataset: str | None = None) -> tuple[list[Job], list[dict[str, Any]]]:
    """Videos of every dataset directory and the dataset records for the manifest.

    One directory: ids are paths relative to it. Several (mixed datasets, or ``test_roots``
    for train-on-one / test-on-the-other): ids and identities are prefixed ``<folder name>/``.
    """
    entries = [(Path(r), "train" if test_roots else "all") for r in roots]
    entries += [(Path(r), "test") for r in test_roots]
    tags: list[str] = []
    for root, _ in entries:
        tag = root.resolve().name or "dataset"
        while tag in tags:
            tag += "+"
        tags.append(tag)
    prefix = len(entries) > 1
    jobs: list[Job] = []
    records = []
    owner: dict[Path, Path] = {}  # resolved video path -> the dataset directory that listed it
    for (root, role), tag in zip(entries, tags, strict=True):
        if not root.is_dir():
            raise DataError(f"{root}: no such dataset directory")
        named = next((r for r, _ in entries[:len(records)] if r.resolve() == root.resolve()), None)
        if named is not None:
            raise DataError(f"{root}: dataset directory given twice (also as {named}); each video "
                            "must belong to one split")
        name = dataset or detect_layout(root)
        samples = plugins.datasets.get(name).samples(root)
        if not samples:
            raise DataError(f"{root}: no videos found for layout {name!r}")
        for s in samples:
            video = Path(s.path).resolve()
            if video in owner:
                raise DataError(f"{s.path}: listed by both {owner[video]} and {root}; each video must "
                                "belong to one split (give overlapping dataset directories once)")
            owner[video] = root
            if prefix:
                s = replace(s, id=f"{tag}/{s.id}", identities=tuple(f"{tag}/{i}" for i in s.identities))
            jobs.append(Job(s, tag, role))
        records.append({"name": tag, "layout": name, "root": str(root.resolve()), "role": role,
                        "videos": len(samples),
                        "primary_identity": getattr(plugins.datasets.get(name), "primary_identity", "")})
    return jobs, records


def assign_splits(jobs: Sequence[Job], fractions: Sequence[float], seed: int, *, method: str = "identity",
                  linked: str = "drop") -> SplitPlan:
    """Seeded splits (:func:`automm.data.splits.split_samples`). Role ``all``: train/val/test by
    ``fractions``; role ``train``: train/val in the same proportion; role ``test``: all to test."""
    plans = []
    for role, share in (("all", fractions), ("train", (fractions[0], fractions[1], 0.0)),
                        ("test", (0.0, 0.0, 1.0))):
        samples = [j.sample for j in jobs if j.role == role]
        if samples:
            plans.append(split_samples(samples, share, seed, classes=CLASSES, method=method, linked=linked))
    return merge_plans(plans)


def protocol_of(train: int, test: int) -> str:
    """The protocol of ``train`` training and ``test`` test dataset directories: ``single``,
    ``mixed`` (several datasets pooled) or ``cross`` (train on some, test on others)."""
    return "cross" if test else "mixed" if train > 1 else "single"


def protocol_name(records: Sequence[dict[str, Any]]) -> str:
    """The protocol (:func:`protocol_of`) of the dataset records of :func:`list_jobs`."""
    test = sum(r["role"] == "test" for r in records)
    return protocol_of(len(records) - test, test)


def check_protocol(protocol: str | None, train: Sequence[str], test: Sequence[str]) -> str:
    """The protocol of these dataset directories; a ``protocol`` they do not fit is a one-line error."""
    if not train:
        raise DataError("no dataset directory given (DATASET_DIRS or --train-dataset)")
    found = protocol_of(len(train), len(test))
    if protocol is not None and protocol != found:
        need = {"single": "one dataset directory and no --test-dataset",
                "mixed": "two or more dataset directories (e.g. FakeAVCeleb and SWAN-DF) and no "
                         "--test-dataset",
                "cross": "--train-dataset A --test-dataset B"}[protocol]
        raise DataError(f"--protocol {protocol} needs {need}; got {len(train)} training and "
                        f"{len(test)} test dataset(s)")
    return found


MIN_CLASS_SAMPLES = 10
"""Fewer videos of a class in a split than this get a warning: its metrics are unreliable."""


def split_warnings(samples: Sequence[dict[str, Any]], classes: Sequence[str]) -> list[str]:
    """What makes a split of ``samples`` (records with ``split`` and ``label``, an index into
    ``classes``) unfit for a search or an evaluation: being empty, or holding fewer than
    :data:`MIN_CLASS_SAMPLES` videos of a class."""
    out = []
    for split in ("train", "val", "test"):
        labels = [s["label"] for s in samples if s["split"] == split]
        if not labels:
            out.append(f"the {split} split is empty: add videos or change --fractions")
            continue
        few = [f"{n} {name}" for k, name in enumerate(classes) if (n := labels.count(k)) < MIN_CLASS_SAMPLES]
        if few:
            out.append(f"the {split} split has only {' and '.join(few)} video(s) (fewer than "
                       f"{MIN_CLASS_SAMPLES} of a class), so its metrics are unreliable: add videos "
                       "or change --fractions")
    return out
