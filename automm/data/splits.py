"""Train/val/test splits of media samples: by primary identity, or random stratified by label.

``identity``: every video goes to the split of its primary identity (the person shown, see
:class:`~automm.data.MediaSample`). A fake may name other identities (a face or voice donor);
when one of them is the primary identity of a video in another split, the fake is *linked*
across splits. ``linked="drop"`` leaves such fakes out, so no identity of a kept video occurs
in two splits; ``linked="keep"`` keeps them in their primary identity's split (more videos,
donors leak across splits). Identities are dealt to the splits so that the *kept* videos
match the fractions: a group of linked identities no larger than the smallest split stays whole
(nothing of it is dropped); the members of larger groups are dealt one by one and a local search
then moves them while that brings the split sizes closer to the fractions (FakeAVCeleb's fakes
link its whole cast, which grouping alone would put in one split).

``random``: videos are shuffled per label and dealt by the fractions (stratified, seeded).

:func:`identity_disjoint_split` keeps every group of linked identities whole (synthetic caches).
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

from automm.data.dataset import MediaSample
from automm.data.names import SPLITS
from automm.errors import DataError

METHODS = ("identity", "random")
LINKED = ("drop", "keep")
DROP_COST = 1e-4
"""Weight of the dropped fraction in the local search (sizes matter first, then fewer drops)."""
PASSES = 12

H = TypeVar("H", bound=Hashable)


class UnionFind(Generic[H]):
    """Groups of linked items (identities a sample links): ``union`` two, ``find`` a group's root."""

    def __init__(self) -> None:
        self.parent: dict[H, H] = {}

    def find(self, a: H) -> H:
        """The root of ``a``'s group (``a`` itself when never linked)."""
        parent = self.parent
        parent.setdefault(a, a)
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(self, a: H, b: H) -> None:
        """Link ``b``'s group into ``a``'s (the root of ``a`` stays the root)."""
        self.parent[self.find(b)] = self.find(a)


@dataclass
class SplitPlan:
    """Which split each sample goes to, which were dropped, counts per split and notes."""

    method: str
    linked: str | None
    assignment: dict[str, str]
    dropped: dict[str, str] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def record(self, fractions: Sequence[float], seed: int) -> dict[str, Any]:
        """The manifest's ``split`` record."""
        return {"method": self.method, "linked": self.linked, "seed": seed,
                "fractions": [round(f, 6) for f in fractions], "counts": self.counts,
                "notes": list(self.notes)}


def split_samples(samples: Sequence[MediaSample], fractions: Sequence[float] = (0.7, 0.15, 0.15),
                  seed: int = 0, *, classes: Sequence[str], method: str = "identity",
                  linked: str = "drop") -> SplitPlan:
    """Split ``samples`` (see the module docstring; their labels index ``classes``, the names the
    counts and notes use); a zero fraction leaves its split empty."""
    if method not in METHODS:
        raise DataError(f"unknown split method {method!r} (known: {', '.join(METHODS)})")
    if linked not in LINKED:
        raise DataError(f"unknown linked-fake policy {linked!r} (known: {', '.join(LINKED)})")
    if len(fractions) != len(SPLITS) or min(fractions) < 0 or not sum(fractions) > 0:
        raise DataError(f"invalid split fractions {list(fractions)}")
    f = np.asarray(fractions, dtype=np.float64) / sum(fractions)
    labels = np.array([s.label for s in samples], dtype=np.int64)
    if method == "random":
        where, kept, linked_mask = _random(labels, f, seed), np.ones(len(samples), bool), None
    else:
        problem = _IdentityProblem(samples, f, linked == "keep", len(classes))
        where, kept = problem.solve(seed)
        linked_mask = problem.linked(where)
    plan = SplitPlan(method, linked if method == "identity" else None, {})
    for i, s in enumerate(samples):
        (plan.assignment if kept[i] else plan.dropped)[s.id] = SPLITS[where[i]]
    for k, name in enumerate(SPLITS):
        mine = (where == k) & kept
        row = {"videos": int(mine.sum())}
        row |= {c: int((mine & (labels == j)).sum()) for j, c in enumerate(classes)}
        if linked_mask is not None:
            row["linked_kept"] = int((mine & linked_mask).sum())
            row["linked_dropped"] = int(((where == k) & ~kept).sum())
        plan.counts[name] = row
    plan.notes = _notes(plan, f, labels, classes, method, len({s.identity for s in samples}))
    return plan


def identity_disjoint_split(
    samples: Sequence[MediaSample],
    fractions: Sequence[float] = (0.7, 0.15, 0.15),
    seed: int = 0,
) -> dict[str, str]:
    """Assign each sample id to train/val/test so that no identity is in two splits.

    Identities linked by a sample (e.g. source and target of a face swap) form one
    group; groups are shuffled with ``seed`` and dealt to the splits until each split
    reaches its fraction of the samples.
    """
    linked = UnionFind[str]()
    for s in samples:
        for other in s.identities[1:]:
            linked.union(s.identities[0], other)
    groups: dict[str, list[MediaSample]] = {}
    for s in samples:
        groups.setdefault(linked.find(s.identity), []).append(s)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    total = len(samples)
    targets = [f * total for f in fractions]
    counts = [0.0] * len(SPLITS)
    out: dict[str, str] = {}
    for key in keys:
        # the split furthest below its target takes the next group (a zero fraction takes none)
        k = max((i for i in range(len(SPLITS)) if targets[i] > 0),
                key=lambda i: (targets[i] - counts[i]) / targets[i])
        for s in groups[key]:
            out[s.id] = SPLITS[k]
        counts[k] += len(groups[key])
    return out


def _random(labels: np.ndarray, f: np.ndarray, seed: int) -> np.ndarray:
    """Per label, a seeded shuffle dealt by ``f`` (largest remainders; every positive split gets
    one of each label when there are enough)."""
    rng = np.random.default_rng(seed)
    where = np.zeros(labels.size, dtype=np.int64)
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        sizes = _apportion(rows.size, f)
        where[rows] = np.repeat(np.arange(len(f)), sizes)
    return where


def _apportion(n: int, f: np.ndarray) -> np.ndarray:
    """``n`` items over fractions ``f``: largest remainders, at least one per positive share
    while items last."""
    exact = n * f
    sizes = np.floor(exact).astype(np.int64)
    for k in np.argsort(-(exact - sizes), kind="stable")[: n - sizes.sum()]:
        sizes[k] += 1
    for k in np.flatnonzero((f > 0) & (sizes == 0)):
        donor = int(np.argmax(sizes))
        if sizes[donor] > 1:
            sizes[donor] -= 1
            sizes[k] += 1
    return sizes


class _IdentityProblem:
    """Identities -> splits, each sample in its primary identity's split, as arrays."""

    def __init__(self, samples: Sequence[MediaSample], f: np.ndarray, keep: bool, classes: int) -> None:
        self.f, self.keep = f, keep
        names = sorted({s.identity for s in samples})
        index = {name: i for i, name in enumerate(names)}
        self.names = names
        self.primary = np.array([index[s.identity] for s in samples], dtype=np.int64)
        others = [sorted({index[i] for i in s.identities[1:] if i in index} - {index[s.identity]})
                  for s in samples]
        width = max((len(o) for o in others), default=0)
        self.others = np.full((len(samples), max(width, 1)), -1, dtype=np.int64)
        for row, o in enumerate(others):
            self.others[row, : len(o)] = o
        self.labels = np.array([s.label for s in samples], dtype=np.int64)
        self.num_classes = max(classes, int(self.labels.max(initial=0)) + 1)
        self.present = np.bincount(self.labels, minlength=self.num_classes) > 0
        touch: list[list[int]] = [[] for _ in names]
        for row in range(len(samples)):
            touch[self.primary[row]].append(row)
            for o in others[row]:
                touch[o].append(row)
        self.touch = [np.array(t, dtype=np.int64) for t in touch]
        self.others_of = others

    def status(self, assign: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Split and kept flag of ``rows`` under ``assign``."""
        where = assign[self.primary[rows]]
        if self.keep:
            return where, np.ones(rows.size, dtype=bool)
        o = self.others[rows]
        return where, ((assign[np.maximum(o, 0)] == where[:, None]) | (o < 0)).all(axis=1)

    def linked(self, where: np.ndarray) -> np.ndarray:
        """Samples naming a primary identity of another split."""
        o = self.others
        assign = np.zeros(len(self.names), dtype=np.int64)
        assign[self.primary] = where
        return ((assign[np.maximum(o, 0)] != where[:, None]) & (o >= 0)).any(axis=1)

    def counts(self, where: np.ndarray, kept: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """``(splits, classes)`` counts of the kept samples among ``rows`` (default: all)."""
        k = self.num_classes
        labels = self.labels if rows is None else self.labels[rows]
        return np.bincount(where[kept] * k + labels[kept], minlength=len(SPLITS) * k
                           ).reshape(len(SPLITS), k).astype(np.float64)

    def cost(self, counts: np.ndarray) -> float:
        """Squared deviation of the split shares from the fractions, plus penalties for empty
        splits and missing classes, plus a little for every dropped sample."""
        total = counts.sum()
        if total == 0:
            return float("inf")
        sizes = counts.sum(axis=1)
        wanted = self.f > 0
        cost = float(((sizes / total - self.f) ** 2).sum())
        cost += float((wanted & (sizes == 0)).sum())
        cost += 0.25 * float((wanted[:, None] & self.present[None, :] & (counts == 0)).sum())
        return cost + DROP_COST * (1.0 - total / self.labels.size)

    def solve(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Deal, then improve by single-identity moves; returns (split, kept) per sample."""
        rng = random.Random(seed)
        assign, movable = self._deal(rng)
        rows = np.arange(self.labels.size)
        where, kept = self.status(assign, rows)
        counts = self.counts(where, kept)
        best = self.cost(counts)
        order = movable
        targets = np.flatnonzero(self.f > 0)
        for _ in range(PASSES):
            rng.shuffle(order)
            improved = False
            for u in order:
                t = self.touch[u]
                if t.size == 0:
                    continue
                old_where, old_kept = where[t], kept[t]
                before = self.counts(old_where, old_kept, t)
                home = assign[u]
                choice = None
                for k in targets:
                    if k == home:
                        continue
                    assign[u] = k
                    new_where, new_kept = self.status(assign, t)
                    trial = self.cost(counts - before + self.counts(new_where, new_kept, t))
                    if trial < best - 1e-12:
                        best, choice = trial, (k, new_where, new_kept)
                assign[u] = home
                if choice is not None:
                    assign[u] = choice[0]
                    counts += self.counts(choice[1], choice[2], t) - before
                    where[t], kept[t] = choice[1], choice[2]
                    improved = True
            if not improved:
                break
        return where, kept

    def _deal(self, rng: random.Random) -> tuple[np.ndarray, list[int]]:
        """Greedy start: units (linked groups no larger than the smallest split whole, members of
        larger ones alone) in seeded order, each to the split furthest below its share of the
        samples kept so far. Returns the assignment and the identities the search may move."""
        n_ids = len(self.names)
        linked = UnionFind[int]()
        for p, others in zip(self.primary, self.others_of, strict=True):
            for o in others:
                linked.union(int(p), o)
        groups: dict[int, list[int]] = {}
        for u in range(n_ids):
            groups.setdefault(linked.find(u), []).append(u)
        size = np.bincount(self.primary, minlength=n_ids)
        limit = float(self.f[self.f > 0].min()) * self.labels.size
        units, movable = [], []
        for members in sorted(groups.values()):
            if size[members].sum() <= limit:
                units.append(members)
            else:
                units.extend([u] for u in members)
                movable.extend(members)
        rng.shuffle(units)
        pending = np.array([1 + len(o) for o in self.others_of], dtype=np.int64)
        assign = np.full(n_ids, -1, dtype=np.int64)
        filled = np.zeros(len(SPLITS))
        targets = np.flatnonzero(self.f > 0)
        for unit in units:
            total = filled.sum() + size[unit].sum()
            k = int(max(targets, key=lambda j: (self.f[j] * total - filled[j], -j)))
            assign[unit] = k
            for u in unit:
                for row in self.touch[u]:
                    pending[row] -= 1
                    if pending[row] == 0:
                        w, ok = self.status(assign, np.array([row]))
                        filled[w[0]] += float(ok[0])
        return assign, movable


def _notes(plan: SplitPlan, f: np.ndarray, labels: np.ndarray, classes: Sequence[str], method: str,
           identities: int) -> list[str]:
    """One line per split left empty (or without a class) although its fraction is positive."""
    notes = []
    present = {classes[j] for j in np.unique(labels) if j < len(classes)}
    wanted = int((f > 0).sum())
    for k, name in enumerate(SPLITS):
        row = plan.counts[name]
        if f[k] == 0:
            continue
        if row["videos"] == 0:
            if method == "random":
                why = f"{labels.size} videos cannot fill {wanted} splits"
                fix = "add videos or set its fraction to 0"
            elif identities < wanted:
                why = f"{identities} identities cannot fill {wanted} identity-disjoint splits"
                fix = "use --split random, add identities, or set its fraction to 0"
            else:
                why = "every video of its identities links to an identity in another split"
                fix = "use --linked keep or --split random, or raise its fraction"
            notes.append(f"split {name!r} is empty: {why}; {fix}")
            continue
        missing = sorted(present - {c for c in classes if row.get(c)})
        if missing:
            notes.append(f"split {name!r} has no {' or '.join(missing)} videos: AUC and EER are "
                         "undefined on it; change --split-seed or the fractions, or use --split random")
    return notes


def split_counts(rows: Sequence[Mapping[str, Any]], classes: Sequence[str]) -> dict[str, dict[str, int]]:
    """Per split, the number of samples of each class (``rows`` are manifest sample records,
    ``classes`` the cache's class names)."""
    out = {s: {c: 0 for c in classes} for s in SPLITS}
    for r in rows:
        out[r["split"]][classes[r["label"]]] += 1
    return out


def merge_plans(plans: Sequence[SplitPlan]) -> SplitPlan:
    """One plan of several disjoint sets of samples (e.g. the train side and the test side of a
    cross-dataset protocol): assignments joined, counts added, notes kept."""
    out = SplitPlan(plans[0].method, plans[0].linked, {})
    for plan in plans:
        out.assignment.update(plan.assignment)
        out.dropped.update(plan.dropped)
        out.notes.extend(plan.notes)
        for name, row in plan.counts.items():
            mine = out.counts.setdefault(name, {})
            for key, value in row.items():
                mine[key] = mine.get(key, 0) + value
    return out
