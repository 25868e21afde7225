"""Dataset layouts (FakeAVCeleb v1.2 with its CSV quirk, SWAN-DF, folder) and the split protocols."""

from __future__ import annotations

from pathlib import Path

import pytest
from automm_deepfake.datasets import FakeAVCeleb, RealFakeFolder, SwanDF, read_fakeavceleb_meta
from automm_media.planning import assign_splits, check_protocol, list_jobs, protocol_name

from automm.data.dataset import detect_layout
from automm.errors import DataError

HEADER = "source,target1,target2,method,category,type,race,gender,path"
RACES = [("African", "men"), ("Asian (East)", "women"), ("Caucasian (European)", "men")]


def fakeavceleb_tree(root: Path, identities: int = 12) -> list[str]:
    """A FakeAVCeleb v1.2 tree of empty .mp4 files and its meta_data.csv (9 names, 10 values a row).

    Every identity has 00001.mp4 (real) and fakes whose names carry a second identity, so file
    names repeat across folders. Returns the relative paths.
    """
    rows, rels = [HEADER], []
    ids = [f"id{i:05d}" for i in range(identities)]
    for i, ident in enumerate(ids):
        race, gender = RACES[i % len(RACES)]
        other = ids[i ^ 1]
        for category, letter, method, name, t1 in (
                ("RealVideo-RealAudio", "A", "real", "00001.mp4", "-"),
                ("RealVideo-FakeAudio", "B", "rtvc", "00001_fake.mp4", "-"),
                ("FakeVideo-RealAudio", "C", "faceswap", f"00001_{other}_faceswap.mp4", other),
                ("FakeVideo-FakeAudio", "D", "fsgan-wav2lip", f"00001_2_{other}_wavtolip.mp4", other)):
            folder = f"{category}/{race}/{gender}/{ident}"
            (root / folder).mkdir(parents=True, exist_ok=True)
            (root / folder / name).write_bytes(b"")
            rows.append(f"{ident},{t1},-,{method},{letter},{category},{race},{gender},{name},"
                        f"FakeAVCeleb/{folder}")
            rels.append(f"{folder}/{name}")
    (root / "meta_data.csv").write_text("\n".join(rows) + "\n")
    return rels


def test_fakeavceleb_csv_quirk_and_repeated_file_names(tmp_path):
    rels = fakeavceleb_tree(tmp_path)
    meta = read_fakeavceleb_meta(tmp_path / "meta_data.csv")
    assert sorted(meta) == sorted(rels)  # the 10th value (directory) + the 'path' value (file name)
    samples = FakeAVCeleb().samples(tmp_path)
    assert sorted(s.id for s in samples) == sorted(rels) and len({s.id for s in samples}) == len(rels)
    assert sum(s.id.endswith("/00001.mp4") for s in samples) == 12  # one name, twelve folders
    by_id = {s.id: s for s in samples}
    swap = by_id["FakeVideo-RealAudio/African/men/id00000/00001_id00001_faceswap.mp4"]
    assert swap.identity == "id00000"  # the 'source' column
    assert swap.label == 1 and swap.identities == ("id00000", "id00001")
    real = by_id["RealVideo-RealAudio/African/men/id00000/00001.mp4"]
    assert real.label == 0 and real.identities == ("id00000",) and real.category == "RealVideo-RealAudio"


def test_no_identity_crosses_splits(tmp_path):
    fakeavceleb_tree(tmp_path, identities=20)
    jobs, records = list_jobs([tmp_path])
    assert records[0]["layout"] == "fakeavceleb"
    for seed in range(5):
        splits = assign_splits(jobs, (0.7, 0.15, 0.15), seed).assignment
        assert set(splits.values()) == {"train", "val", "test"}
        where: dict[str, set[str]] = {}
        for job in jobs:
            for ident in job.sample.identities if job.sample.id in splits else ():  # donors count too
                where.setdefault(ident, set()).add(splits[job.sample.id])
        assert all(len(s) == 1 for s in where.values()), where
    plan = assign_splits(jobs, (0.7, 0.15, 0.15), 1)
    assert plan.assignment == assign_splits(jobs, (0.7, 0.15, 0.15), 1).assignment


def test_malformed_metadata_row_is_one_clear_error(tmp_path):
    fakeavceleb_tree(tmp_path, identities=2)
    with open(tmp_path / "meta_data.csv", "a") as f:
        f.write("id00009,-,-,real\n")
    with pytest.raises(DataError, match=r"meta_data.csv: line 10 has 4 values"):
        FakeAVCeleb().samples(tmp_path)


def test_layouts_are_detected(tmp_path):
    fav, swan, folder = tmp_path / "fav", tmp_path / "swan", tmp_path / "folder"
    fakeavceleb_tree(fav, identities=2)
    for rel in ("real/00001/s1/v.mp4", "real/00002/v.mp4", "fake/dfl/160/00001_00002/v.mp4",
                "fake/dfl/256/00002_to_00001/w.mp4"):
        (swan / rel).parent.mkdir(parents=True, exist_ok=True)
        (swan / rel).write_bytes(b"")
    for rel in ("real/a.mp4", "real/bob/x/y.mp4", "fake/bob/z.MP4", "fake/.hidden/q.mp4", "fake/notes.txt"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(b"")
    assert [detect_layout(p) for p in (fav, swan, folder)] == ["fakeavceleb", "swan-df", "folder"]
    swan_samples = {s.id: s for s in SwanDF().samples(swan)}
    assert swan_samples["fake/dfl/160/00001_00002/v.mp4"].identities == ("00001", "00002")
    assert swan_samples["fake/dfl/256/00002_to_00001/w.mp4"].identities == ("00002", "00001")
    assert swan_samples["real/00001/s1/v.mp4"].identities == ("00001",)
    folder_samples = {s.id: (s.label, s.identity) for s in RealFakeFolder().samples(folder)}
    assert folder_samples == {"real/a.mp4": (0, "a"), "real/bob/x/y.mp4": (0, "bob"),
                              "fake/bob/z.MP4": (1, "bob")}
    with pytest.raises(DataError, match="not a known dataset layout") as info:
        detect_layout(tmp_path)
    assert "--dataset" not in str(info.value)  # only extract has it: it adds the hint


def test_protocols_mixed_and_cross_dataset(tmp_path):
    a, b = tmp_path / "a" / "FakeAVCeleb", tmp_path / "b" / "FakeAVCeleb"
    fakeavceleb_tree(a, identities=8)
    fakeavceleb_tree(b, identities=6)
    jobs, records = list_jobs([a, b])
    assert protocol_name(records) == "mixed"
    assert [r["name"] for r in records] == ["FakeAVCeleb", "FakeAVCeleb+"]  # same folder names, distinct tags
    assert len({j.sample.id for j in jobs}) == len(jobs)
    assert {j.sample.identity.split("/")[0] for j in jobs} == {"FakeAVCeleb", "FakeAVCeleb+"}
    jobs, records = list_jobs([a], test_roots=[b])
    assert protocol_name(records) == "cross"
    splits = assign_splits(jobs, (0.7, 0.15, 0.15), 0).assignment
    assert {splits[j.sample.id] for j in jobs if j.role == "test"} == {"test"}
    assert {splits.get(j.sample.id, "val") for j in jobs if j.role == "train"} == {"train", "val"}


def test_primary_identity_is_the_source_column(tmp_path):
    fakeavceleb_tree(tmp_path, identities=2)
    meta = tmp_path / "meta_data.csv"
    meta.write_text(meta.read_text().replace("id00000,id00001,-,faceswap", "id00007,id00001,-,faceswap"))
    by_id = {s.id: s for s in FakeAVCeleb().samples(tmp_path)}
    swap = by_id["FakeVideo-RealAudio/African/men/id00000/00001_id00001_faceswap.mp4"]
    assert swap.identity == "id00007" and set(swap.identities) == {"id00007", "id00000", "id00001"}


def test_protocol_names_are_checked():
    assert check_protocol(None, ["a"], []) == "single" and check_protocol("mixed", ["a", "b"], []) == "mixed"
    assert check_protocol("cross", ["a"], ["b"]) == "cross"
    with pytest.raises(DataError, match=r"--protocol cross needs --train-dataset A --test-dataset B"):
        check_protocol("cross", ["a"], [])
    with pytest.raises(DataError, match=r"--protocol mixed needs two or more"):
        check_protocol("mixed", ["a"], [])
    with pytest.raises(DataError, match="no dataset directory given"):
        check_protocol(None, [], ["b"])


def _folder(root: Path) -> Path:
    for name in ("real/ann/a.mp4", "real/ann/b.mp4", "fake/bob/c.mp4", "fake/bob/d.mp4"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")
    return root


@pytest.mark.parametrize("overlap", [
    lambda a, b: ([a, a], ()), lambda a, b: ([a], [a]), lambda a, b: ([a, a / "."], ()),
    lambda a, b: ([a, b], ()),
])
def test_a_video_is_never_listed_twice_so_never_lands_in_two_splits(tmp_path, overlap):
    a, b = _folder(tmp_path / "a"), _folder(tmp_path / "b")
    (b / "fake/bob/d.mp4").unlink()
    (b / "fake/bob/d.mp4").symlink_to(a / "real/ann/a.mp4")  # the same video under another name
    roots, test_roots = overlap(a, b)
    with pytest.raises(DataError, match=r"given twice|listed by both"):
        list_jobs(roots, test_roots=test_roots)
    assert len(list_jobs([a], test_roots=[_folder(tmp_path / "c")])[0]) == 8
