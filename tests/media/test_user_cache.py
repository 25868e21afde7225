"""``automm cache ls|rm`` on a temporary user cache: entries with their size, datasets, backbones
and date; rm removes named entries only, never a path outside the cache or one being written."""

from __future__ import annotations

import json
import os
import socket

import numpy as np
import pytest
from automm_deepfake.user_cache import entries
from click.testing import CliRunner

from automm.cli import cli
from automm.data import write_cache
from automm.locking import lock_path


def _cache(path, dataset_root: str, weights: str) -> None:
    samples = [{"id": f"v{i}", "label": i % 2, "identity": f"p{i}", "split": "train"} for i in range(4)]
    source = {"dataset": {"protocol": "single", "datasets": [{"name": "favc", "root": dataset_root}]},
              "backbones": {"image": {"weights": weights, "pretrained": True},
                            "audio": {"weights": "random-init (seed 0)", "pretrained": False}}}
    write_cache(path, {"image/1": np.ones((4, 2, 3))}, samples, source=source, classes=["real", "fake"])


@pytest.fixture
def user_cache(tmp_path, monkeypatch):
    root = tmp_path / "user"
    monkeypatch.setenv("AUTOMM_CACHE_DIR", str(root))
    _cache(root / "extracted" / "FakeAVCeleb-0123456789ab", "/data/FakeAVCeleb", "/w/image.safetensors")
    (root / "extracted" / "SWAN-DF-ba9876543210" / ".partial").mkdir(parents=True)  # extraction unfinished
    (root / "extracted" / "SWAN-DF-ba9876543210" / ".partial" / "x.npz").write_bytes(b"0" * 5000)
    _cache(root / "demo" / "features", "/corpus", "random-init (seed 0)")
    return root


def _run(*args: str):
    return CliRunner().invoke(cli, ["cache", *args])


def test_ls_shows_each_entry_with_size_dataset_backbones_and_date(user_cache):
    listed = {e.name: e for e in entries()}
    assert list(listed) == ["demo", "extracted/FakeAVCeleb-0123456789ab", "extracted/SWAN-DF-ba9876543210"]
    favc = listed["extracted/FakeAVCeleb-0123456789ab"]
    assert favc.datasets == ["/data/FakeAVCeleb"] and favc.date and favc.date.endswith("UTC")
    assert favc.backbones == {"image": "/w/image.safetensors", "audio": "random-init (seed 0)"}
    assert favc.size == sum(f.stat().st_size for f in favc.path.rglob("*") if f.is_file()) > 0
    assert listed["demo"].datasets == ["the demo corpus"]
    swan = listed["extracted/SWAN-DF-ba9876543210"]
    assert swan.date is None and swan.size == 5000
    result = _run("ls")
    assert result.exit_code == 0, result.output
    assert f"automm cache {user_cache}: 3 entries" in result.output
    assert "datasets /data/FakeAVCeleb; backbones image /w/image.safetensors, audio random-init (seed 0)" \
        in result.output
    assert "extracted/SWAN-DF-ba9876543210  4.9 KiB  unfinished (no manifest)" in result.output
    as_json = json.loads(_run("ls", "--json").output)
    assert as_json["root"] == str(user_cache) and len(as_json["entries"]) == 3


def test_rm_removes_named_entries_only_and_refuses_others(user_cache, tmp_path):
    outside = tmp_path / "mine"
    outside.mkdir()
    refused = _run("rm", str(outside))
    assert refused.exit_code == 2 and "not in the automm cache" in refused.output and outside.is_dir()
    unknown = _run("rm", "nope")
    assert unknown.exit_code == 2 and "no such entry" in unknown.output
    removed = _run("rm", "FakeAVCeleb-0123456789ab", str(user_cache / "demo"))
    assert removed.exit_code == 0, removed.output
    assert "removed extracted/FakeAVCeleb-0123456789ab (" in removed.output
    assert "removed demo (" in removed.output
    assert [e.name for e in entries()] == ["extracted/SWAN-DF-ba9876543210"]
    assert [p.name for p in (user_cache / "extracted").iterdir()] == ["SWAN-DF-ba9876543210"]  # no temp left


def test_rm_all_needs_yes_and_a_cache_being_written_is_kept(user_cache):
    unconfirmed = _run("rm", "--all")
    assert unconfirmed.exit_code == 2 and "add --yes" in unconfirmed.output and len(entries()) == 3
    busy_entry = user_cache / "extracted" / "FakeAVCeleb-0123456789ab"  # another live process writes it
    lock_path(busy_entry).write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
    busy = _run("rm", "FakeAVCeleb-0123456789ab")
    lock_path(busy_entry).unlink()
    assert busy.exit_code == 2 and "in use" in busy.output and len(entries()) == 3
    assert _run("rm", "--all", "--yes").exit_code == 0 and entries() == []


@pytest.mark.parametrize("source", [{"dataset": "FakeAVCeleb"}, {"backbones": ["image"]},
                                    {"dataset": {"datasets": "x"}}])
def test_a_manifest_whose_source_does_not_fit_is_listed_without_its_details(user_cache, source):
    manifest = user_cache / "extracted" / "FakeAVCeleb-0123456789ab" / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "source": source}))
    entry = next(e for e in entries() if e.path == manifest.parent)
    assert (entry.datasets, entry.backbones) == ([], {}) and entry.date is not None
    assert _run("ls").exit_code == 0
