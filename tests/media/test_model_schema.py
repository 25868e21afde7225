"""A model directory (arch.json with the recorded feature extraction, metrics.json) whose fields
are mutated one at a time: ``automm predict`` ends in one line naming the file and the field."""

from __future__ import annotations

import json

import numpy as np
import pytest
from automm_media.predict import MODEL_ARCH
from automm_media.resume import _skipped, up_to_date
from click.testing import CliRunner
from modelkit import write_evaluation

from automm.cli import cli
from automm.data import FeatureCache, write_cache
from automm.schema import field_name, mutated, mutations, problem
from automm.train.evaluation_metrics import SCHEMA as METRICS


def test_every_model_directory_field_mutation_is_one_line_naming_the_field(folder_cache, tmp_path):
    model = tmp_path / "model"
    write_evaluation(FeatureCache.open(folder_cache.path), model)
    for name, spec in (("arch.json", MODEL_ARCH), ("metrics.json", METRICS)):
        path = model / name
        doc = json.loads(path.read_text())
        assert problem(doc, spec) is None
        cases = [(k, b) for k, b in mutations(doc, spec) if b == b and b != float("inf")]  # not in JSON
        assert len(cases) >= 20
        for keys, bad in cases:
            path.write_text(json.dumps(mutated(doc, keys, bad)))
            res = CliRunner().invoke(cli, ["predict", str(model), "x.mp4", "--device", "cpu"])
            lines = res.stderr.strip().splitlines()
            assert res.exit_code == 2 and len(lines) == 1 and f"{path}: " in lines[0], (keys, bad, res.output)
            assert field_name(keys) in lines[0], (keys, bad, lines)
        path.write_text(json.dumps(doc))


def test_a_string_backbones_record_is_named(folder_cache, tmp_path):
    model = tmp_path / "model"
    source = {**FeatureCache.open(folder_cache.path).manifest["source"], "backbones": "resnet"}
    write_evaluation(FeatureCache.open(folder_cache.path), model, source)
    res = CliRunner().invoke(cli, ["predict", str(model), "x.mp4", "--device", "cpu"])
    assert res.exit_code == 2
    assert "field provenance.data.source.backbones must be a JSON object (got 'resnet')" in res.stderr


@pytest.mark.parametrize("source", [{"settings_key": "k", "dataset": "x"}, {"settings_key": 3}, {}])
def test_a_cache_whose_source_is_not_an_extract_record_is_not_up_to_date(tmp_path, source):
    samples = [{"id": str(i), "label": i % 2, "identity": str(i), "split": "train"} for i in range(4)]
    cache = write_cache(tmp_path / "cache", {"image/1": np.zeros((4, 2, 2), np.float32)}, samples,
                        source=source, classes=["real", "fake"])
    assert up_to_date(cache, "k", "listing") is None


def test_a_damaged_skip_record_is_extracted_again(tmp_path):
    (tmp_path / "a.json").write_text('{"id": "a", "kind": 3}')
    (tmp_path / "b.json").write_text('{"id": "b", "path": "b.mp4", "kind": "silent", "reason": "no sound"}')
    assert _skipped(tmp_path / "a.json") is None
    assert _skipped(tmp_path / "b.json")["kind"] == "silent"
