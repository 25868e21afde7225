import json

import numpy as np
import pytest

from automm.data import FeatureCache, MediaSample, identity_disjoint_split, write_cache
from automm.data.cache import reusing_opened
from automm.errors import CacheError

CLASSES = ("real", "fake")


def _samples(n):
    splits = ["train", "val", "test"]
    return [{"id": f"s{i}", "label": i % 2, "identity": f"p{i // 2}", "split": splits[i % 3]}
            for i in range(n)]


def test_write_open_round_trip(tmp_path):
    taps = {"image/1": np.random.rand(6, 4, 3).astype(np.float32), "audio/1": np.random.rand(6, 2, 5)}
    write_cache(tmp_path / "c", taps, _samples(6), classes=CLASSES, source={"dataset": "synthetic"})
    cache = FeatureCache.open(tmp_path / "c")
    assert cache.taps == {"image/1": (4, 3), "audio/1": (2, 5)}
    assert isinstance(cache.arrays["image/1"], np.memmap)
    assert list(cache.indices("val")) == [1, 4]
    batch = cache.batch(np.array([4, 1]))
    assert np.allclose(batch["image/1"].numpy(), taps["image/1"][[4, 1]])
    assert cache.labels.tolist() == [0, 1, 0, 1, 0, 1]
    assert len(cache.fingerprint) == 64


def test_rewrite_replaces_atomically(tmp_path):
    write_cache(tmp_path / "c", {"t/1": np.zeros((6, 1, 1))}, _samples(6), classes=CLASSES)
    write_cache(tmp_path / "c", {"t/2": np.ones((6, 1, 1))}, _samples(6), classes=CLASSES)
    assert set(FeatureCache.open(tmp_path / "c").taps) == {"t/2"}
    assert [p.name for p in tmp_path.iterdir()] == ["c"]


def test_reusing_opened_opens_a_cache_once_until_its_files_change(tmp_path):
    write_cache(tmp_path / "c", {"t/1": np.zeros((6, 1, 1))}, _samples(6), classes=CLASSES)
    opened: dict = {}
    with reusing_opened(opened):
        first = FeatureCache.open(tmp_path / "c", verify=False)
        assert FeatureCache.open(tmp_path / "c" / ".." / "c", verify=False) is first
        verified = FeatureCache.open(tmp_path / "c")  # the unverified one is not taken for it
        assert verified is not first and FeatureCache.open(tmp_path / "c", verify=False) is verified
    assert FeatureCache.open(tmp_path / "c") is not verified  # outside: every open opens
    with reusing_opened(opened):
        assert FeatureCache.open(tmp_path / "c") is verified  # the next point of the same worker
        write_cache(tmp_path / "c", {"t/1": np.ones((6, 1, 1))}, _samples(6), classes=CLASSES)
        rewritten = FeatureCache.open(tmp_path / "c")
        assert rewritten is not verified and rewritten.arrays["t/1"].max() == 1
        np.save(tmp_path / "c" / "t_1.npy", np.full((6, 1, 1), 2, np.float32))  # changed in place
        with pytest.raises(CacheError, match="fingerprint"):
            FeatureCache.open(tmp_path / "c")


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda d: (d / "manifest.json").unlink(), "no such file"),
        (lambda d: (d / "manifest.json").write_text("{"), "invalid JSON"),
        (lambda d: (d / "manifest.json").write_text('{"format": "other"}'), "unsupported cache format"),
        (lambda d: (d / "t_1.npy").unlink(), "cannot read tap"),
    ],
)
def test_broken_cache_errors_name_the_path(tmp_path, break_it, message):
    write_cache(tmp_path / "c", {"t/1": np.zeros((6, 1, 1))}, _samples(6), classes=CLASSES)
    break_it(tmp_path / "c")
    with pytest.raises(CacheError, match=message) as info:
        FeatureCache.open(tmp_path / "c")
    assert str(tmp_path / "c") in str(info.value)


def test_invalid_samples_rejected(tmp_path):
    bad = _samples(2)
    bad[1]["split"] = "holdout"
    with pytest.raises(CacheError, match="unknown split"):
        write_cache(tmp_path / "c", {"t/1": np.zeros((2, 1, 1))}, bad, classes=CLASSES)
    assert not (tmp_path / "c").exists()


def test_missing_taps_is_incompatible(tmp_path):
    write_cache(tmp_path / "c", {"t/1": np.zeros((6, 1, 1))}, _samples(6), classes=CLASSES)
    with pytest.raises(CacheError, match="incompatible cache: missing tap"):
        FeatureCache.open(tmp_path / "c").require_taps(["t/1", "t/2"])
    assert json.loads((tmp_path / "c" / "manifest.json").read_text())["format"] == "automm.cache/1"


def test_identity_disjoint_split_links_fake_identities():
    samples = [MediaSample(f"v{i}", None, i % 2, (f"id{i % 10}",) if i % 2 == 0 else
                           (f"id{i % 10}", f"id{(i + 3) % 10}")) for i in range(200)]
    split = identity_disjoint_split(samples, seed=1)
    owner: dict[str, str] = {}
    for s in samples:
        for ident in s.identities:
            assert owner.setdefault(ident, split[s.id]) == split[s.id]
    assert identity_disjoint_split(samples, seed=1) == split


def test_identity_disjoint_split_fills_every_split():
    samples = [MediaSample(f"v{i}", None, i % 2, (f"id{i % 20}",)) for i in range(100)]
    split = identity_disjoint_split(samples, seed=0)
    counts = {k: list(split.values()).count(k) for k in ("train", "val", "test")}
    assert counts["train"] == 70 and counts["val"] == 15 and counts["test"] == 15
