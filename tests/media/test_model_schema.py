"""A model directory (arch.json with the recorded feature extraction, metrics.json) whose fields
are mutated one at a time: ``automm predict`` ends in one line naming the file and the field."""

from __future__ import annotations

import json

from automm_media.predict import MODEL_ARCH
from click.testing import CliRunner
from modelkit import write_evaluation

from automm.cli import cli
from automm.data import FeatureCache
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
