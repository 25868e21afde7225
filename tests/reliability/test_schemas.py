"""Every field of each file kind's schema, mutated (wrong type, NaN and infinity, out of range,
missing), gives one error line naming the file and the field through the CLI; the files the
real commands write pass their schemas."""

from __future__ import annotations

import json
import os
import socket

import pytest
import torch
from faults import CLEAN, rewrite_checkpoint, run_cli

from automm.data.manifest import SCHEMA as MANIFEST
from automm.errors import AutommError
from automm.ir.architecture import SCHEMA as ARCH
from automm.locking import in_use, lock_path
from automm.run.search import CHECKPOINT_SCHEMA as SEARCH_CHECKPOINT
from automm.schema import field_name, mutated, mutations, problem
from automm.sweep.results import SCHEMA as SWEEP
from automm.train.evaluation_metrics import ROBUSTNESS, read_robustness_file
from automm.train.evaluation_metrics import SCHEMA as METRICS
from automm.train.records import EPOCH
from automm.train.retraining import CHECKPOINT_SCHEMA as EVALUATION_CHECKPOINT


def _json(doc) -> str:
    """``doc`` as JSON text, infinity written as the overflowing number ``1e999`` (which
    parses to infinity: the schema must catch it); NaN stays ``NaN`` (refused when parsed)."""
    return json.dumps(doc).replace("-Infinity", "-1e999").replace("Infinity", "1e999")


def _named(keys, bad) -> str:
    """What the error line must say: the field (NaN: the parser's refusal, before any field)."""
    return "NaN is not a JSON number" if bad != bad else field_name(keys) if keys else "top level"


def test_files_written_by_search_and_evaluate_pass_their_schemas(pristine):
    for path in (pristine / "run" / "arch.json", pristine / "run" / "eval" / "arch.json"):
        assert problem(json.loads(path.read_text()), ARCH) is None, path


def _expect_field_errors(path, doc, spec, command, minimum, *, checkpoint=False):
    """Write each mutation of ``doc`` (by ``spec``) to ``path`` (JSON, or a checkpoint);
    ``command`` must end in one line naming ``path`` and the field."""
    cases = list(mutations(doc, spec))
    assert len(cases) >= minimum
    for keys, bad in cases:
        if checkpoint:
            torch.save(mutated(doc, keys, bad), path)
        else:
            path.write_text(_json(mutated(doc, keys, bad)))
        outcome = run_cli(command, timeout=10)
        field = field_name(keys) if checkpoint else _named(keys, bad)
        assert outcome.kind == CLEAN and str(path) in outcome.stderr and field in outcome.stderr, \
            (keys, bad, outcome)


def test_every_arch_json_field_mutation_is_one_line_naming_the_field(pristine, tmp_path):
    arch = tmp_path / "arch.json"
    doc = json.loads((pristine / "run" / "arch.json").read_text())
    _expect_field_errors(arch, doc, ARCH, ["show", arch], 100)


def test_metrics_json_written_by_evaluate_passes_its_schema(pristine):
    assert problem(json.loads((pristine / "run" / "eval" / "metrics.json").read_text()), METRICS) is None


def test_every_metrics_json_field_mutation_is_one_line_naming_the_field(copy, tmp_path):
    run = copy("run")
    path = run / "eval" / "metrics.json"
    _expect_field_errors(path, json.loads(path.read_text()), METRICS,
                         ["evaluate", "--rerun", run / "eval", "--out", tmp_path / "again"], 100)


def test_every_manifest_field_mutation_is_one_line_naming_the_field(copy, tiny):
    cache = copy("cache")
    doc = json.loads((cache / "manifest.json").read_text())
    assert problem(doc, MANIFEST) is None
    _expect_field_errors(cache / "manifest.json", doc, MANIFEST,
                         ["search", "--data", cache, "--out", cache.parent / "run", *tiny], 40)


def test_a_cache_without_its_manifest_is_named_as_such(copy, tiny):
    cache = copy("cache")
    (cache / "manifest.json").unlink()
    outcome = run_cli(["search", "--data", cache, "--out", cache.parent / "run", *tiny])
    assert outcome.kind == CLEAN and f"{cache / 'manifest.json'}: no such file" in outcome.stderr, outcome


def _resume_evaluation(run):
    return ["evaluate", run / "arch.json", "--out", run / "eval", "--epochs", 1, "--batch-size", 16,
            "--resume"]


def _state(path):
    return torch.load(path, map_location="cpu", weights_only=True)


def test_checkpoints_written_by_search_and_evaluate_pass_their_schemas(pristine):
    assert problem(_state(pristine / "run" / "checkpoint.pt"), SEARCH_CHECKPOINT) is None
    assert problem(_state(pristine / "run" / "eval" / "checkpoint.pt"), EVALUATION_CHECKPOINT) is None


def test_every_search_checkpoint_field_mutation_is_one_line_naming_the_field(copy):
    run = copy("run")
    path = run / "checkpoint.pt"
    _expect_field_errors(path, _state(path), SEARCH_CHECKPOINT, ["search", "--resume", run], 60,
                         checkpoint=True)


def test_every_evaluation_checkpoint_field_mutation_is_one_line_naming_the_field(copy):
    run = copy("run")
    path = run / "eval" / "checkpoint.pt"
    _expect_field_errors(path, _state(path), EVALUATION_CHECKPOINT, _resume_evaluation(run), 60,
                         checkpoint=True)


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda s: {**s, "epoch": 100}, "epoch 100 of a 1-epoch run"),
    (lambda s: {**s, "history": s["history"] * 2}, "epoch 1 with 2 history records"),
    (lambda s: {**s, "history": [{**s["history"][0], "epoch": 3}]}, "history[0] is epoch 3"),
    (lambda s: {**s, "best": {**s["best"], "epoch": 2}}, "best epoch 2 after the last epoch 1"),
])
@pytest.mark.parametrize("kind", ["search", "evaluation"])
def test_checkpoints_must_agree_with_their_epoch_budget_and_history(copy, kind, change, fragment):
    run = copy("run")
    path = run / "checkpoint.pt" if kind == "search" else run / "eval" / "checkpoint.pt"
    rewrite_checkpoint(path, change)
    outcome = run_cli(["search", "--resume", run] if kind == "search" else _resume_evaluation(run))
    assert outcome.kind == CLEAN and f"{path}: inconsistent checkpoint: {fragment}" in outcome.stderr, outcome


def test_an_unfinished_search_at_its_last_epoch_is_refused(copy):
    run = copy("run")
    rewrite_checkpoint(run / "checkpoint.pt", lambda s: {**s, "finished": None})
    outcome = run_cli(["search", "--resume", run])
    assert outcome.kind == CLEAN and "epoch 1 of a 1-epoch run, not finished" in outcome.stderr, outcome


def test_every_sweep_json_field_mutation_is_one_line_naming_the_field(tmp_path):
    axis = {"name": "temperature", "kind": "strategy", "values": [5, 10]}
    doc = {"format": "automm.sweep/1", "axes": [axis], "options": {}, "config": {}, "search": {},
           "evaluate": {}}
    (tmp_path / "sweep").mkdir()
    _expect_field_errors(tmp_path / "sweep" / "sweep.json", doc, SWEEP, ["report", tmp_path / "sweep"], 20)


def test_a_results_row_of_the_wrong_type_names_its_line(tmp_path):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "sweep.json").write_text(json.dumps({"format": "automm.sweep/1", "axes": []}))
    (sweep / "results.jsonl").write_text('{"key": "a"}\n[1]\n')
    outcome = run_cli(["report", sweep])
    assert outcome.kind == CLEAN, outcome
    assert "results.jsonl: line 2: top level must be a JSON object" in outcome.stderr


@pytest.mark.parametrize("text", ['{"pid": 1e999, "host": "h"}', '{"pid": "12", "host": "h"}', '[1]',
                                  '{"pid": 1}', '{"pid": true, "host": "h"}'])
def test_a_lock_file_that_does_not_fit_its_schema_is_stale(tmp_path, text):
    (tmp_path / "run").mkdir()
    lock_path(tmp_path / "run").write_text(text)
    assert not in_use(tmp_path / "run")
    lock_path(tmp_path / "run").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
    assert in_use(tmp_path / "run")


def test_epoch_records_written_by_search_and_evaluate_pass_their_schema(pristine):
    for path in (pristine / "run" / "metrics.jsonl", pristine / "run" / "eval" / "history.jsonl"):
        records = [json.loads(line) for line in path.read_text().splitlines()]
        assert records and all(problem(r, EPOCH) is None for r in records), path


def test_an_epoch_record_of_the_wrong_type_names_the_file_line_and_field(copy):
    run = copy("run")
    lines = (run / "metrics.jsonl").read_text().splitlines()
    record = json.loads(lines[0])
    record["entropy"] = {**record["entropy"], "op": "high"}
    (run / "metrics.jsonl").write_text(json.dumps(record) + "\n")
    outcome = run_cli(["report", run])
    assert outcome.kind == CLEAN, outcome
    line = f"{run / 'metrics.jsonl'}:1: field entropy.op must be a finite number (got 'high')"
    assert line in outcome.stderr


def test_every_robustness_json_field_mutation_is_one_line_naming_the_field(tmp_path):
    ci = [0.4, 0.7]
    condition = {"condition": "audio removed (zeroed)", "modality": "audio", "perturbation": "zero",
                 "level": None, "auc": 0.55, "auc_ci": ci, "acc": 0.5, "acc_ci": ci, "eer": 0.45,
                 "eer_ci": ci}
    doc = {"format": "automm.robustness/1", "split": "test", "samples": 12, "bootstrap": {},
           "noise_levels": [0.5], "noise": "gaussian", "modalities": {"audio": ["audio/1"]},
           "conditions": [condition], "removal_drop": {"audio": 0.1}, "lean_margin": 0.05,
           "leans_on": ["audio"], "verdict": "leans on audio"}
    path = tmp_path / "robustness.json"
    cases = list(mutations(doc, ROBUSTNESS))
    assert len(cases) >= 60
    for keys, bad in cases:
        path.write_text(_json(mutated(doc, keys, bad)))
        with pytest.raises(AutommError) as info:
            read_robustness_file(path)
        message = str(info.value)
        assert f"{path}: " in message and _named(keys, bad) in message, (keys, bad, message)
