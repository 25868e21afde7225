"""--data of the bimodal-deepfake space: a cache, a dataset directory, or nothing (the demo)."""

from __future__ import annotations

import shutil

import pytest

from automm import registry
from automm.data import FeatureCache
from automm.errors import CacheError


@pytest.fixture
def space(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOMM_CACHE_DIR", str(tmp_path / "user"))
    return registry.spaces.get("bimodal-deepfake")


def test_a_cache_is_used_as_is_and_a_dataset_is_extracted_once(space, folder_dataset, folder_cache, tmp_path,
                                                                capsys):
    assert space.prepare_data(str(folder_cache.path)) == folder_cache.path
    out = space.prepare_data(str(folder_dataset[0]))
    assert out.parent == tmp_path / "user" / "extracted" and len(FeatureCache.open(out)) == 3
    assert "extracting features of" in capsys.readouterr().err
    mtime = (out / "manifest.json").stat().st_mtime_ns
    assert space.prepare_data(str(folder_dataset[0])) == out
    assert (out / "manifest.json").stat().st_mtime_ns == mtime  # up to date: not extracted again
    with pytest.raises(CacheError, match="neither a feature cache"):
        space.prepare_data(str(tmp_path / "missing"))


def test_no_data_means_the_demo_corpus_made_once(space, folder_dataset, tmp_path, monkeypatch, capsys):
    made = []

    def fake_generate(out, spec=None, progress=True):  # the real corpus takes a minute; see test_demo
        made.append(out)
        if not out.exists():
            shutil.copytree(folder_dataset[0], out)

    monkeypatch.setattr("automm_deepfake.demo.generate_demo", fake_generate)
    path = space.prepare_data(None)
    assert path == tmp_path / "user" / "demo" / "features" and len(FeatureCache.open(path)) == 3
    assert made == [tmp_path / "user" / "demo" / "corpus"]
    assert "preparing the demo corpus" in capsys.readouterr().err
    assert space.prepare_data(None) == path
    assert "preparing" not in capsys.readouterr().err
