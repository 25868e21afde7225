"""automm extract: skipped videos with reasons, resumable runs, atomic caches, the CLI."""

from __future__ import annotations

import os

import numpy as np
import pytest
from automm_media.classes import CLASSES
from automm_media.executors import batches, resolve_workers
from automm_media.extract import extract
from automm_media.planning import split_warnings
from click.testing import CliRunner
from videokit import TINY, face_frames, speech, write_video

from automm.cli import cli
from automm.data import FeatureCache
from automm.errors import DataError


def test_broken_videos_are_skipped_with_reasons(folder_dataset, folder_cache):
    _, expected = folder_dataset
    cache = FeatureCache.open(folder_cache.path)
    assert sorted(s["id"] for s in cache.samples) == sorted(k for k, v in expected.items() if v is None)
    skipped = {s["id"]: s for s in cache.manifest["skipped"]}
    assert {k: s["kind"] for k, s in skipped.items()} == {k: v for k, v in expected.items() if v}
    assert all(s["reason"] for s in skipped.values())
    assert cache.taps == {**{f"image/{i}": (c, 4) for i, c in enumerate((64, 128, 256, 512), 1)},
                          **{f"audio/{i}": (c, 4) for i, c in enumerate((64, 128, 256, 512), 1)}}
    assert all(np.isfinite(np.asarray(a)).all() for a in cache.arrays.values())
    assert not (folder_cache.path / ".partial").exists()  # the final write replaced the partial results


def test_source_records_random_init_and_settings(folder_cache):
    source = FeatureCache.open(folder_cache.path).manifest["source"]
    assert source["backbones"]["image"]["weights"] == "random-init (seed 0)"
    assert source["backbones"]["audio"]["weights"] == "random-init (seed 1)"
    assert source["settings"]["frames"] == 2 and source["L"] == 4
    assert source["dataset"]["protocol"] == "single"
    assert source["dataset"]["datasets"][0]["layout"] == "folder"
    assert source["dataset"]["datasets"][0]["primary_identity"].startswith("the first folder")
    split = source["dataset"]["split"]
    assert split["method"] == "identity" and split["linked"] == "drop" and split["seed"] == 0
    assert sum(r["videos"] for r in split["counts"].values()) == 9  # listed videos, before skips


def test_interrupted_run_resumes(folder_dataset, tmp_path):
    root, expected = folder_dataset
    out = tmp_path / "cache"
    seen: list[str] = []

    def interrupt_third(job):
        seen.append(job.sample.id)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # as the second batch of 2 videos starts
        extract([root], out, settings=TINY, device="cpu", progress=False, on_sample=interrupt_third,
                workers=1, batch=2)
    partial = list((out / ".partial").rglob("*.*"))
    assert len(partial) == 2 and not (out / "manifest.json").exists()  # the finished batch kept
    again: list[str] = []
    result = extract([root], out, settings=TINY, device="cpu", progress=False, workers=1, batch=2,
                     on_sample=lambda job: again.append(job.sample.id))
    assert result.resumed == 2 and len(again) == len(expected) - 2 and not set(again) & set(seen[:2])
    assert len(FeatureCache.open(out)) == sum(v is None for v in expected.values())
    third = extract([root], out, settings=TINY, device="cpu", progress=False,
                    on_sample=lambda job: pytest.fail("an up-to-date cache was extracted again"))
    assert third.up_to_date


def _assert_same_cache(result, reference) -> None:
    assert result.extracted == reference.extracted and result.skipped == reference.skipped
    one, two = FeatureCache.open(reference.path), FeatureCache.open(result.path)
    assert one.samples == two.samples
    for tap, arr in one.arrays.items():
        np.testing.assert_allclose(two.arrays[tap], arr, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("workers", "batch"), [(1, 8), (2, 8), (2, 1)])
def test_workers_and_batches_write_the_same_cache(folder_dataset, folder_cache, tmp_path, workers, batch):
    """Batched backbone inference and worker processes give the slow path's cache (one video at
    a time in this process: ``folder_cache``), broken videos in a batch included."""
    result = extract([folder_dataset[0]], tmp_path / "c", settings=TINY, device="cpu", progress=False,
                     workers=workers, batch=batch)
    assert result.workers == workers
    _assert_same_cache(result, folder_cache)


def test_workers_auto_is_every_usable_core(folder_dataset, folder_cache, tmp_path):
    result = extract([folder_dataset[0]], tmp_path / "c", settings=TINY, device="cpu", progress=False)
    assert result.workers == len(os.sched_getaffinity(0))
    _assert_same_cache(result, folder_cache)


@pytest.mark.parametrize(("todo", "workers", "batch", "sizes"), [
    (9, 1, 8, [8, 1]), (9, 2, 8, [5, 4]), (20, 2, 8, [8, 8, 4]), (3, 4, 8, [1, 1, 1]), (0, 2, 8, [])])
def test_batches_feed_every_worker(todo, workers, batch, sizes):
    chunks = batches(list(range(todo)), workers, batch)
    assert [len(c) for c in chunks] == sizes and [i for c in chunks for i in c] == list(range(todo))


@pytest.mark.parametrize("value", [0, -1, "two", 1.5])
def test_a_bad_worker_count_is_refused(value):
    with pytest.raises(DataError, match="invalid worker count"):
        resolve_workers(value)


@pytest.mark.slow
def test_ray_actors_write_the_same_cache(folder_dataset, folder_cache, tmp_path):
    ray = pytest.importorskip("ray", reason="needs the extra automm[ray] (CI installs it)")
    try:
        result = extract([folder_dataset[0]], tmp_path / "c", settings=TINY, device="cpu", progress=False,
                         workers=2, executor="ray")
    finally:
        ray.shutdown()
    _assert_same_cache(result, folder_cache)


def test_an_unknown_executor_is_refused(folder_dataset, tmp_path):
    with pytest.raises(DataError, match="unknown executor 'dask'"):
        extract([folder_dataset[0]], tmp_path / "c", settings=TINY, device="cpu", progress=False,
                executor="dask")


def test_refuses_to_replace_a_directory_that_is_not_a_cache(folder_dataset, tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(DataError, match="not a feature cache"):
        extract([folder_dataset[0]], tmp_path, settings=TINY, device="cpu", progress=False)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_truncated_files_with_the_index_first_decode_what_remains(tmp_path):
    good = write_video(tmp_path / "src.mp4", face_frames(20), speech(2.0), faststart=True)
    root = tmp_path / "data"
    data = good.read_bytes()
    for name, fraction in (("cut80", 0.8), ("cut40", 0.4), ("cut20", 0.2)):
        path = root / ("real" if name == "cut80" else "fake") / name / f"{name}.mp4"
        path.parent.mkdir(parents=True)
        path.write_bytes(data[: int(len(data) * fraction)])
    result = extract([root], tmp_path / "cache", settings=TINY, device="cpu", progress=False)
    kinds = {s["id"]: s["kind"] for s in result.skipped}
    assert kinds == {"fake/cut40/cut40.mp4": "too-short", "fake/cut20/cut20.mp4": "unreadable"}
    assert [s["id"] for s in FeatureCache.open(result.path).samples] == ["real/cut80/cut80.mp4"]


def test_cli_summary_lists_skips(folder_dataset, tmp_path):
    root, _ = folder_dataset
    res = CliRunner().invoke(cli, ["extract", str(root), "--out", str(tmp_path / "c"), "--frames", "2",
                                   "--crop", "64", "--positions", "4", "--device", "cpu", "--quiet"])
    assert res.exit_code == 0, res.output
    assert "3 of 9 videos" in res.output
    workers = len(os.sched_getaffinity(0))
    assert f"with {workers} worker(s) (stages summed over the workers: decode " in res.output
    for kind in ("no-audio", "silent", "no-face", "too-short", "unreadable"):
        assert f": {kind}: " in res.output
    assert "random-init (seed 0)" in res.output and "not pretrained" in res.output
    assert "split identity (seed 0, linked fakes drop): train " in res.output
    assert "warning: the train split has only" in res.output  # 3 videos in all
    assert res.output.splitlines()[-2:] == ["next:", f"  automm search --data {tmp_path / 'c'}"]


def test_split_warnings_name_empty_and_tiny_splits():
    samples = ([{"split": "train", "label": k % 2} for k in range(40)]
               + [{"split": "val", "label": 0}] * 12 + [{"split": "val", "label": 1}] * 9)
    warnings = split_warnings(samples, CLASSES)
    assert len(warnings) == 2
    assert warnings[0].startswith("the val split has only 9 fake video(s) (fewer than 10")
    assert warnings[1] == "the test split is empty: add videos or change --fractions"
    samples += [{"split": "val", "label": 1}, *[{"split": "test", "label": k % 2} for k in range(20)]]
    assert split_warnings(samples, CLASSES) == []


def test_cli_errors_are_one_line(tmp_path):
    res = CliRunner().invoke(cli, ["extract", str(tmp_path / "missing"), "--out", str(tmp_path / "c")])
    assert res.exit_code == 2 and "no such dataset directory" in res.output
    res = CliRunner().invoke(cli, ["extract", str(tmp_path), "--out", str(tmp_path / "c"),
                                   "--dataset", "nope"])
    assert res.exit_code == 2 and "unknown dataset 'nope'" in res.output
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(cli, ["extract", str(tmp_path / "empty"), "--out", str(tmp_path / "c")])
    assert res.exit_code == 2
    assert res.output.strip().endswith("(known: fakeavceleb, swan-df, folder); pass --dataset NAME")
    res = CliRunner().invoke(cli, ["extract", "--protocol", "cross", "--train-dataset", str(tmp_path),
                                   "--out", str(tmp_path / "c")])
    assert res.exit_code == 2 and res.output.count("\n") == 1
    assert "--protocol cross needs --train-dataset A --test-dataset B" in res.output
    for bad in ("0", "all"):
        res = CliRunner().invoke(cli, ["extract", str(tmp_path), "--out", str(tmp_path / "c"),
                                       "--workers", bad])
        assert res.exit_code == 2 and f"'{bad}': expected a number >= 1 or auto" in res.output
