"""The entries of the user cache (``automm cache ls|rm``): the feature caches ``--data
DATASET_DIR`` extracted (``extracted/<name>-<hash>``) and the demo corpus with its features
(``demo``), each with its size, datasets, backbones and date."""

from __future__ import annotations

import os
import stat
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from automm.errors import AutommError, DataError
from automm.fileio import read_json, remove_tree, user_cache_dir
from automm.locking import owned
from automm.schema import list_of, map_of, obj, optional, problem

EXTRACTED = "extracted"
DEMO = "demo"


@dataclass(frozen=True)
class Entry:
    """One entry: ``name`` (its path below the cache root), its size in bytes, the time its
    manifest was written (None: extraction not finished), dataset roots and backbone weights."""

    name: str
    path: Path
    size: int
    date: str | None
    datasets: list[str] = field(default_factory=list)
    backbones: dict[str, str] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The entry as JSON (``automm cache ls --json``)."""
        return {"name": self.name, "path": str(self.path), "bytes": self.size, "date": self.date,
                "datasets": self.datasets, "backbones": self.backbones}


LISTED = obj({"source": optional(obj({
    "dataset": optional(obj({"datasets": optional(list_of(obj()))})),
    "backbones": optional(map_of(obj())),
}))})
"""What the cache listing reads of a manifest (a manifest that does not fit: listed without it)."""

def tree_size(path: Path) -> int:
    """Bytes of the regular files below ``path`` (symlinks not followed)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                info = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            total += info.st_size if stat.S_ISREG(info.st_mode) else 0
    return total


def _entry(name: str, path: Path, manifest: Path, datasets: list[str] | None = None) -> Entry:
    date, found, backbones = None, [], {}
    if manifest.is_file():
        date = datetime.fromtimestamp(manifest.stat().st_mtime, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        try:
            doc = read_json(manifest)
        except AutommError:
            doc = None
        source = doc.get("source", {}) if problem(doc, LISTED) is None else {}  # else: shown without them
        found = [str(d.get("root", d.get("name"))) for d in source.get("dataset", {}).get("datasets", [])]
        backbones = {str(m): str(r.get("weights")) for m, r in source.get("backbones", {}).items()}
    return Entry(name, path, tree_size(path), date, datasets or found, backbones)


def entries(root: Path | None = None) -> list[Entry]:
    """The entries below ``root`` (default: the user cache), demo first, then by name."""
    root = root or user_cache_dir()
    out = []
    demo = root / DEMO
    if demo.is_dir():
        out.append(_entry(DEMO, demo, demo / "features" / "manifest.json", ["the demo corpus"]))
    extracted = root / EXTRACTED
    if extracted.is_dir():
        for path in sorted(extracted.iterdir()):
            if path.is_dir() and not path.is_symlink() and not path.name.startswith("."):
                out.append(_entry(f"{EXTRACTED}/{path.name}", path, path / "manifest.json"))
    return out


def find(text: str, root: Path | None = None) -> Entry:
    """The entry named ``text`` (as ``automm cache ls`` names it, its folder name, or its path);
    anything else, outside the cache root in particular, is an error."""
    root = root or user_cache_dir()
    target = Path(text).expanduser().resolve() if os.sep in text or text in (".", "..") else None
    for entry in entries(root):
        if text in (entry.name, entry.path.name) or target == entry.path.resolve():
            return entry
    if target is not None and not target.is_relative_to(root.resolve()):
        raise DataError(f"{text}: not in the automm cache {root}; refusing to remove it")
    raise DataError(f"{text}: no such entry in the automm cache {root} (automm cache ls lists them)")


def remove(entry: Entry) -> None:
    """Delete ``entry`` unless a live process writes it (one error naming it then)."""
    parts = [entry.path / "features", entry.path / "corpus"] if entry.name == DEMO else [entry.path]
    with ExitStack() as stack:
        for part in parts:
            stack.enter_context(owned(part))
        remove_tree(entry.path)
