"""Dataset layouts: FakeAVCeleb v1.2, SWAN-DF and a generic real/ + fake/ folder.

Every layout lists videos with a label (0 real, 1 fake), the identities involved (the
person shown first: the primary identity that decides the split, ``primary_identity`` says
where it comes from; a fake also names the donor of the face or voice) and a category.
Sample ids are paths relative to the dataset root (file names repeat across folders).
``priority`` orders auto-detection: the most specific layout is tried first.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from automm.data import MediaSample
from automm.errors import DataError

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"})

FAKEAVCELEB_CATEGORIES = {
    "RealVideo-RealAudio": ("A", 0),
    "RealVideo-FakeAudio": ("B", 1),
    "FakeVideo-RealAudio": ("C", 1),
    "FakeVideo-FakeAudio": ("D", 1),
}
"""FakeAVCeleb folder -> (category letter, label)."""

_ID = re.compile(r"id\d+")


def videos_under(folder: Path) -> list[Path]:
    """Video files below ``folder`` (any depth), sorted, hidden files and folders excluded."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def touch(root: Path, *relative: str) -> None:
    """Empty files at ``relative`` paths below ``root`` (layout examples for tests)."""
    for rel in relative:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"")


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


def read_fakeavceleb_meta(path: Path) -> dict[str, dict[str, str]]:
    """``meta_data.csv`` as relative video path -> row.

    The v1.2 header names 9 columns but each row has 10 values: the ``path`` column holds
    the file name and the unnamed last value its directory (``FakeAVCeleb/<type>/...``).
    Rows with exactly the header's width are read as they stand (``path`` is the full path).
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [r for r in csv.reader(f) if any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    if not rows:
        raise DataError(f"{path}: empty metadata file")
    header = [h.strip() for h in rows[0]]
    if "path" not in header:
        raise DataError(f"{path}: no 'path' column in header {','.join(header)}")
    meta = {}
    for line, row in enumerate(rows[1:], start=2):
        values = [c.strip() for c in row]
        record = dict(zip(header, values, strict=False))
        if len(values) == len(header) + 1:
            rel = f"{values[-1].rstrip('/')}/{record['path']}"
        elif len(values) == len(header):
            rel = record["path"]
        else:
            raise DataError(f"{path}: line {line} has {len(values)} values; expected "
                            f"{len(header) + 1} (v1.2) or {len(header)}")
        parts = [p for p in rel.replace("\\", "/").split("/") if p]
        while parts and parts[0] not in FAKEAVCELEB_CATEGORIES:
            parts.pop(0)  # the archive's top folder, e.g. "FakeAVCeleb/"
        meta["/".join(parts)] = record
    return meta


class FakeAVCeleb:
    """FakeAVCeleb v1.2: ``<type>/<race>/<gender>/<id>/<file>.mp4`` and ``meta_data.csv``."""

    description = "FakeAVCeleb v1.2: <type>/<race>/<gender>/<id>/<file>.mp4 + meta_data.csv"
    primary_identity = "the 'source' column of meta_data.csv (else the <id> folder)"
    priority = 20

    def detect(self, root: Path) -> bool:
        return any((root / c).is_dir() for c in FAKEAVCELEB_CATEGORIES)

    def example(self, root: Path) -> None:
        """Two identities, a real and a face-swapped video each (empty files, no metadata)."""
        touch(root, "RealVideo-RealAudio/African/men/id00001/00001.mp4",
              "RealVideo-RealAudio/African/men/id00002/00001.mp4",
              "FakeVideo-RealAudio/African/men/id00001/00001_id00002_faceswap.mp4",
              "FakeVideo-RealAudio/African/men/id00002/00001_id00001_faceswap.mp4")

    def samples(self, root: Path) -> list[MediaSample]:
        meta_file = root / "meta_data.csv"
        meta = read_fakeavceleb_meta(meta_file) if meta_file.is_file() else {}
        out = []
        for category, (_, label) in FAKEAVCELEB_CATEGORIES.items():
            for path in videos_under(root / category):
                rel = path.relative_to(root).as_posix()
                parts = rel.split("/")
                row = meta.get(rel, {})
                listed = [row.get(k, "") for k in ("source", "target1", "target2")]
                others = [v for v in listed + _ID.findall(path.stem) if _ID.fullmatch(v)]
                folder = parts[-2] if len(parts) > 2 else path.stem
                identity = row["source"] if _ID.fullmatch(row.get("source", "")) else folder
                others.append(folder if _ID.fullmatch(folder) else "")
                out.append(MediaSample(rel, path, label, _unique([identity, *others]), category,
                                       row.get("method", "")))
        return out


_PAIR = re.compile(r"^(?P<a>[^_]+?)(?:_to_|_|-)(?P<b>[^_]+)$")


class SwanDF:
    """SWAN-DF as this plugin assumes it (the public release's exact tree may differ)::

        real/<identity>/**/<video>          bona fide SWAN recordings of <identity>
        fake/**/<target>_<source>/**/<video>  deepfakes of <target> with the face (and voice)
                                              of <source>; "<target>_to_<source>" also works

    The pair folder may sit at any depth below ``fake/`` (e.g. ``fake/<model>/<resolution>/``);
    both identities must be folder names under ``real/``. A folder between ``fake/`` and the
    pair folder names the fake's manipulation method (``<model>``); the layout knows no
    categories.
    """

    description = "SWAN-DF: real/<id>/** + fake/**/<target>_<source>/** (assumed layout, see docs)"
    primary_identity = "<identity> below real/; <target> of a fake's <target>_<source> folder"
    priority = 10

    def _pair(self, rel_parts: tuple[str, ...], known: set[str]) -> tuple[str, str, str] | None:
        """The pair of identities and the method (the first folder above the pair's, or "")."""
        for k in range(len(rel_parts) - 1, -1, -1):
            m = _PAIR.match(Path(rel_parts[k]).stem)
            if m and m["a"] in known and m["b"] in known:
                return m["a"], m["b"], rel_parts[0] if k > 0 else ""
        return None

    def example(self, root: Path) -> None:
        """Two identities with a real video each and one deepfake of each by the other."""
        touch(root, "real/alice/1.mp4", "real/bob/1.mp4", "fake/alice_bob/1.mp4", "fake/bob_alice/1.mp4")

    def detect(self, root: Path) -> bool:
        real = root / "real"
        known = {p.name for p in real.iterdir() if p.is_dir()} if real.is_dir() else set()
        if not known:
            return False
        return any(self._pair(p.relative_to(root / "fake").parts, known)
                   for p in videos_under(root / "fake"))

    def samples(self, root: Path) -> list[MediaSample]:
        real = root / "real"
        known = {p.name for p in real.iterdir() if p.is_dir()} if real.is_dir() else set()
        out = []
        for path in videos_under(real):
            rel = path.relative_to(root).as_posix()
            out.append(MediaSample(rel, path, 0, (path.relative_to(real).parts[0],), "real"))
        for path in videos_under(root / "fake"):
            rel = path.relative_to(root).as_posix()
            pair = self._pair(path.relative_to(root / "fake").parts, known)
            if pair is None:
                raise DataError(f"{path}: no <target>_<source> pair of known identities in its path")
            out.append(MediaSample(rel, path, 1, _unique(list(pair[:2])), "fake", pair[2]))
        return out


class RealFakeFolder:
    """``real/`` and ``fake/`` folders with videos at any depth. The identity is the first
    folder below ``real/`` or ``fake/`` (shared by both), or the file name for flat folders."""

    description = "generic: real/** and fake/** (identity = first sub-folder, else file name)"
    primary_identity = "the first folder below real/ or fake/ (else the file name)"
    priority = 0

    def example(self, root: Path) -> None:
        """Two people, a real and a fake video each."""
        touch(root, "real/ann/a.mp4", "real/ben/b.mp4", "fake/ann/c.mp4", "fake/ben/d.mp4")

    def detect(self, root: Path) -> bool:
        return (root / "real").is_dir() and (root / "fake").is_dir()

    def samples(self, root: Path) -> list[MediaSample]:
        out = []
        for label, name in ((0, "real"), (1, "fake")):
            for path in videos_under(root / name):
                parts = path.relative_to(root / name).parts
                identity = parts[0] if len(parts) > 1 else path.stem
                out.append(MediaSample(path.relative_to(root).as_posix(), path, label, (identity,), name))
        return out


LAYOUTS = {"fakeavceleb": FakeAVCeleb, "swan-df": SwanDF, "folder": RealFakeFolder}
