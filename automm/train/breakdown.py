"""Scores per kind of fake: the AUC of each fake category (or manipulation method) against every
real sample of the same split, with counts and a bootstrap interval.

A sample record of the cache names its kind in the optional string fields ``category`` and
``method`` (docs/formats.md); a missing or empty value, or one that is only the sample's class
name (``real``, ``fake``: what layouts without categories record), is unknown, and such fakes
are left out of the groups (and counted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from automm.train.bootstrap import Bootstrap
from automm.train.metrics import roc_auc

GROUP_KEYS = ("category", "method")
"""Sample fields that name the kind of a fake; metrics.json holds ``by_category`` and ``by_method``."""


def known_kind(sample: Mapping[str, Any], key: str, classes: Sequence[str]) -> str | None:
    """``sample[key]`` when it says more than the class name, else None."""
    value = sample.get(key)
    if not isinstance(value, str) or not value.strip() or value in classes:
        return None
    return value


def dataset_layouts(source: Mapping[str, Any]) -> list[str]:
    """The dataset layouts a cache was extracted from (its ``source.dataset.datasets[].layout``)."""
    dataset = source.get("dataset")
    records = dataset.get("datasets") if isinstance(dataset, Mapping) else None
    if not isinstance(records, list):
        return []
    names = (str(r["layout"]) for r in records if isinstance(r, Mapping) and r.get("layout"))
    return list(dict.fromkeys(names))


def breakdown(samples: Sequence[Mapping[str, Any]], scores: ArrayLike, labels: ArrayLike, key: str,
              classes: Sequence[str], bootstrap: Bootstrap, layouts: Sequence[str] = ()) -> dict[str, Any]:
    """AUC of the fakes (label 1) of each known ``key`` value against all reals (label 0) among
    ``samples`` (records in the order of ``scores`` and ``labels``)::

        {"reals": 13, "unknown_fakes": 0, "note": None,
         "groups": {"FakeVideo-RealAudio": {"fakes": 4, "auc": 0.9, "auc_ci": [0.7, 1.0]}, ...}}

    Without any known value ``groups`` is empty and ``note`` says why (naming ``layouts``)."""
    s, y = np.asarray(scores, dtype=np.float64).ravel(), np.asarray(labels).ravel()
    reals = np.flatnonzero(y == 0)
    members: dict[str, list[int]] = {}
    unknown = 0
    for i in np.flatnonzero(y == 1):
        kind = known_kind(samples[i], key, classes)
        if kind is None:
            unknown += 1
        else:
            members.setdefault(kind, []).append(int(i))
    out: dict[str, Any] = {"reals": int(reals.size), "unknown_fakes": unknown, "note": None, "groups": {}}
    if not members:
        where = f" (dataset layout {', '.join(layouts)})" if layouts else ""
        out["note"] = f"the cache records no {key} of its fake samples{where}"
        return out
    for kind in sorted(members):
        rows = np.concatenate([reals, np.asarray(members[kind])])
        sub_s, sub_y = s[rows], y[rows]
        interval = bootstrap.intervals({"auc": lambda i, a=sub_s, b=sub_y: roc_auc(a[i], b[i])}, sub_y)["auc"]
        out["groups"][kind] = {"fakes": len(members[kind]), "auc": roc_auc(sub_s, sub_y),
                               "auc_ci": None if interval is None else list(interval)}
    return out
