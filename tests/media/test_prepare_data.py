"""--data: a cache, a dataset directory, or nothing (the demo), the latter two prepared by the
deepfake plugin's automm_prepare_data; with plugin media blocked they say they need it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from automm_deepfake.data import first_run_estimate
from automm_deepfake.demo import DemoSpec

from automm.data import FeatureCache
from automm.data.prepare import resolve_data
from automm.errors import CacheError


class _Prepare:
    prepare_data = staticmethod(resolve_data)


@pytest.fixture
def space(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOMM_CACHE_DIR", str(tmp_path / "user"))
    return _Prepare()


def test_a_cache_is_used_as_is_and_a_dataset_is_extracted_once(space, folder_dataset, folder_cache, tmp_path,
                                                                capsys):
    assert space.prepare_data(str(folder_cache.path)) == folder_cache.path
    out = space.prepare_data(str(folder_dataset[0]))
    assert out.parent == tmp_path / "user" / "extracted" and len(FeatureCache.open(out)) == 3
    said = capsys.readouterr().err
    assert f"extracting features of {folder_dataset[0].resolve()} into {out} (once) with randomly " \
           "initialised backbones" in said and "automm cache ls" in said
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
    said = capsys.readouterr().err
    cores = len(os.sched_getaffinity(0))
    guess = first_run_estimate(DemoSpec().videos, cores, ["corpus", "extraction", "search"])
    assert f"preparing the demo corpus in {tmp_path / 'user' / 'demo'} (once): about " \
           f"{sum(guess.values()):.0f} s on {cores} idle core(s) (corpus {guess['corpus']:.0f} s, " in said
    assert re.search(r"automm: first run: corpus \d+\.\d s, extraction \d+\.\d s; the search follows", said)
    assert space.prepare_data(None) == path
    assert "preparing" not in capsys.readouterr().err


def test_the_first_run_estimate_shares_the_work_out_over_the_cores():
    one, two = (first_run_estimate(120, cores, ["corpus", "extraction", "search"]) for cores in (1, 2))
    assert all(two[s] < one[s] for s in ("corpus", "extraction")) and two["search"] == one["search"]
    assert list(first_run_estimate(120, 2, ["extraction", "search"])) == ["extraction", "search"]


def test_with_media_blocked_datasets_and_the_demo_say_they_need_it(folder_dataset, tmp_path):
    code = ("from automm.data.prepare import resolve_data\n"
            "import sys\n"
            "for data in (sys.argv[1], None):\n"
            "    try:\n"
            "        resolve_data(data)\n"
            "    except Exception as exc:\n"
            "        print(type(exc).__name__, exc)\n")
    env = {**os.environ, "AUTOMM_DISABLE_PLUGINS": "media", "AUTOMM_CACHE_DIR": str(tmp_path / "user")}
    out = subprocess.run([sys.executable, "-c", code, str(folder_dataset[0])], capture_output=True,
                         text=True, env=env, timeout=120)
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 2, out.stdout + out.stderr
    assert "extracting features of" in lines[0] and "needs plugin 'media'" in lines[0]
    assert "demo corpus" in lines[1] and "needs plugin 'media'" in lines[1]
