"""Named bad inputs of the fault campaign (issue 16): each gets one error line, never a
traceback, a hang or a silent result."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from faults import (
    ACCEPTED,
    make_fifo,
    nested_json,
    rewrite_checkpoint,
    rewrite_json,
    rewrite_tap,
    run_cli,
    set_at,
)
from faults import expect_clean as assert_clean

from automm.data import FeatureCache, write_cache
from automm.errors import CacheError
from automm.report.build import write_report

# -- arch.json --------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "fragment"), [
    (nested_json(100_000), "nested deeper"),
    ('{"format": NaN}', "NaN is not a JSON number"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_malformed_arch_json(copy, content, fragment):
    arch = copy("run/arch.json")
    arch.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert_clean(["show", arch], str(arch), fragment)


def test_arch_json_fifo_and_device_do_not_hang(tmp_path):
    assert_clean(["show", make_fifo(tmp_path / "arch.json")], "not a regular file")
    assert_clean(["evaluate", "/dev/zero"], "not a regular file")


@pytest.mark.parametrize(("key", "value", "fragment"), [
    ("cells", 1_000_000, "'cells' must be between"),
    ("steps", 100_000, "'steps' must be between"),
    ("C", 10**12, "'C' must be between"),
    ("num_classes", 0, "'num_classes' must be between"),
    ("tap_channels", {"image/1": -3}, "'tap_channels' must be between"),
    ("ops", ["sum"] * 10_000, "more than"),
])
def test_out_of_range_config(copy, key, value, fragment):
    arch = copy("run/arch.json")
    rewrite_json(arch, lambda d: set_at(d, ("space", "config", key), value))
    assert_clean(["show", arch], fragment)
    assert_clean(["render", arch, "-o", arch.with_suffix(".dot")], fragment)


def test_evaluate_refuses_more_classes_than_the_cache(copy):
    arch = copy("run/arch.json")
    rewrite_json(arch, lambda d: set_at(d, ("space", "config", "num_classes"), 3))
    assert_clean(["evaluate", arch, "--data", copy("cache"), "--epochs", 1], "3")

# -- feature cache ----------------------------------------------------------------------


@pytest.mark.parametrize(("keys", "value", "fragment"), [
    (("taps", "image/1", "shape"), None, "field taps.image/1.shape must be"),
    (("taps", "image/1"), {"shape": [8, 2]}, "field taps.image/1.file is missing"),
    (("fingerprint",), 7, "field fingerprint must be"),
    (("taps", "image/1", "file"), "../../x.npy", "outside the cache"),
    (("taps", "image/1", "file"), "/etc/passwd", "outside the cache"),
    (("samples", 0, "label"), 5, "invalid label"),
    (("samples",), [], "field samples must be"),
    (("classes",), ["real", "real"], "distinct"),
])
def test_malformed_manifest(copy, keys, value, fragment):
    cache = copy("cache")
    rewrite_json(cache / "manifest.json", lambda d: set_at(d, keys, value))
    with pytest.raises(CacheError, match=fragment) as info:
        FeatureCache.open(cache)
    assert "\n" not in str(info.value) and str(cache) in str(info.value)


@pytest.mark.parametrize("dtype", [np.float64, np.float16, ">f4"])
def test_other_float_dtypes_are_converted_with_a_note(copy, dtype):
    cache = copy("cache")
    rewrite_tap(cache, "image_1.npy", lambda a: a.astype(dtype))
    opened = FeatureCache.open(cache, verify=False)
    assert opened.arrays["image/1"].dtype == np.dtype(np.float32).newbyteorder("=")
    assert any("converted to native float32" in n for n in opened.notes)


def test_integer_taps_zero_byte_and_fifo_taps_are_errors(copy):
    cache = copy("cache")
    rewrite_tap(cache, "image_1.npy", lambda a: a.astype(np.int8))
    with pytest.raises(CacheError, match="dtype int8"):
        FeatureCache.open(cache)
    (cache / "image_1.npy").write_bytes(b"")
    with pytest.raises(CacheError, match="cannot read tap"):
        FeatureCache.open(cache)
    make_fifo(cache / "image_1.npy")
    with pytest.raises(CacheError, match="not a regular file"):
        FeatureCache.open(cache)


def test_flipped_byte_in_tap_data_is_detected(copy, tiny):
    cache = copy("cache")
    data = bytearray((cache / "audio_2.npy").read_bytes())
    data[-3] ^= 0x40
    (cache / "audio_2.npy").write_bytes(bytes(data))
    with pytest.raises(CacheError, match="fingerprint"):
        FeatureCache.open(cache)
    assert_clean(["search", "--data", cache, "--out", cache.parent / "r", *tiny], "fingerprint")
    FeatureCache.open(cache, verify=False)  # --no-verify skips only the hashing


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_features_stop_with_the_file_and_sample(copy, tiny, bad):
    cache = copy("cache")
    rewrite_tap(cache, "image_2.npy", lambda a: np.where(np.arange(a.size).reshape(a.shape) == 40, bad, a))
    assert_clean(["search", "--data", cache, "--out", cache.parent / "r", *tiny],
                 "image_2.npy", "non-finite", "sample")


def test_a_tap_file_that_is_a_symlink_loop_is_one_line(copy, tiny):
    cache = copy("cache")
    (cache / "audio_2.npy").unlink()
    (cache / "audio_2.npy").symlink_to("audio_2.npy")
    assert_clean(["search", "--data", cache, "--out", cache.parent / "r", *tiny], "audio_2.npy")


def test_half_deleted_cache_is_detected(copy, tiny):
    cache = copy("cache")
    (cache / "audio_4.npy").unlink()
    assert_clean(["search", "--data", cache, "--out", cache.parent / "r", *tiny], "audio_4.npy",
                 "half-deleted")


@pytest.mark.parametrize("verify", [[], ["--no-verify"]])
def test_search_and_evaluate_need_the_same_split_sizes_verified_or_not(copy, tiny, verify):
    cache = copy("cache")
    run = copy("run")

    def one_validation_sample(manifest):
        val = [s for s in manifest["samples"] if s["split"] == "val"]
        for s in val[1:]:
            s["split"] = "train"
        return manifest

    rewrite_json(cache / "manifest.json", one_validation_sample)
    if not verify:  # a consistent cache: its fingerprint covers the splits
        c = FeatureCache.open(cache, verify=False)
        write_cache(cache, {t: np.asarray(a) for t, a in c.arrays.items()}, c.samples, classes=c.classes)
    fragment = "the 'val' split needs at least 2 samples (it has 1)"
    assert_clean(["search", "--data", cache, "--out", cache.parent / "r", *tiny, *verify], fragment)
    assert_clean(["evaluate", run / "arch.json", "--data", cache, "--out", cache.parent / "e", "--epochs", 1,
                  *verify], fragment)

# -- checkpoints ------------------------------------------------------------------------


def _resume(run, eval_dir):
    return ["evaluate", run / "arch.json", "--out", eval_dir, "--epochs", 1, "--batch-size", 16, "--resume"]


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda s: {**s, "network": {k: v[:1] if v.ndim else v for k, v in s["network"].items()}}, "has shape"),
    (lambda s: {**s, "network": {k: v for k, v in list(s["network"].items())[1:]}}, "lacks"),
    (lambda s: {**s, "network": {k: v * float("nan") if v.is_floating_point() else v
                                           for k, v in s["network"].items()}}, "NaN"),
    (lambda s: {**s, "epoch": 7}, "inconsistent checkpoint"),
    (lambda s: {**s, "optimizer": {"state": {}, "param_groups": []}}, "inconsistent checkpoint"),
    (lambda s: {k: v for k, v in s.items() if k != "rng"}, "lacks 'rng'"),
    (lambda s: [1, 2], "not an automm checkpoint"),
    (lambda s: {**s, "best": None}, "best is null after epoch 1"),
])
def test_inconsistent_checkpoints_are_refused_before_loading(copy, change, fragment):
    run = copy("run")
    rewrite_checkpoint(run / "eval" / "checkpoint.pt", change)
    assert_clean(_resume(run, run / "eval"), "checkpoint.pt", fragment)


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda s: {**s, "best": {}}, "field best.epoch is missing"),
    (lambda s: {**s, "best": None, "finished": "max-epochs"}, "without a best epoch"),
    (lambda s: {**s, "best": {**s["best"], "choices": {"x": "y"}}}, "does not exist"),
    (lambda s: {**s, "finished": torch.zeros(1)}, "finished"),
    (lambda s: {**s, "network": {k: v[:1] if v.ndim else v for k, v in s["network"].items()}}, "has shape"),
    (lambda s: {**s, "setup": {**s["setup"], "settings": {"bogus": 1}}}, "unknown setting"),
])
def test_inconsistent_search_checkpoints(copy, change, fragment):
    run = copy("run")
    rewrite_checkpoint(run / "checkpoint.pt", change)
    assert_clean(["search", "--out", run, "--resume"], "checkpoint.pt", fragment)


def test_unsafe_checkpoint_message_never_suggests_unpickling(copy):
    run = copy("run")

    class Payload:
        def __reduce__(self):
            return (os.system, ("true",))

    torch.save({"format": "automm.checkpoint/1", "payload": Payload()}, run / "eval" / "checkpoint.pt")
    stderr = assert_clean(_resume(run, run / "eval"), "unreadable checkpoint")
    assert "weights_only" not in stderr


def test_a_raw_pickle_checkpoint_gives_automm_s_line_and_no_library_warning(copy):
    """torch warns about the pickle protocol before failing; only automm's line may show (run in
    a subprocess: pytest would capture the warning)."""
    run = copy("run")
    (run / "eval" / "checkpoint.pt").write_bytes(pickle.dumps({"epoch": 1}, protocol=4))
    proc = subprocess.run([sys.executable, "-m", "automm", *map(str, _resume(run, run / "eval"))],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert proc.stderr.splitlines()[-1].startswith("automm: error: ")
    assert "unreadable checkpoint" in proc.stderr and "Warning" not in proc.stderr, proc.stderr

# -- options and output paths -----------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["--entropy-tol", "nan"], ["--temperature", "inf"], ["--seed", str(2**64)], ["--epochs", "0"],
    ["--batch-size", "-1"], ["--C", "nan"],
])
def test_bad_option_values(copy, tiny, args):
    assert_clean(["search", "--data", copy("cache"), "--out", "never", *tiny, *args])


def _float_options():
    import click

    from automm.cli import cli

    ctx = click.Context(cli)

    def walk(command, path):
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                yield from walk(command.get_command(ctx, name), [*path, name])
        else:
            yield from ((" ".join(path), p) for p in command.params
                        if isinstance(p.type, click.types.FloatParamType))

    return list(walk(cli, []))


def test_every_float_option_is_the_shared_finite_check():
    from automm.cli._types import FiniteFloat

    options = _float_options()
    assert len(options) >= 8
    assert [(verb, p.opts) for verb, p in options if not isinstance(p.type, FiniteFloat)] == []


@pytest.mark.parametrize("args", [
    ["evaluate", "run/arch.json", "--target-fpr", "nan"],
    ["evaluate", "run/arch.json", "--target-fpr", "1.5"],
    ["sweep", "--gpus-per-trial", "inf"], ["search", "--entropy-tol", "-1"],
    ["extract", "cache", "--min-seconds", "-1"],
])
def test_float_options_out_of_range_or_not_finite_are_refused(copy, monkeypatch, args):
    copy("cache")
    monkeypatch.chdir(copy("run").parent)
    assert_clean([*args, "--out", "never"], args[-2])
    assert not os.path.exists("never")


@pytest.mark.parametrize("temperature", ["1e-45", "1e308"])
def test_a_search_whose_validation_loss_becomes_nan_stops_naming_value_and_epoch(copy, tiny, temperature):
    cache = copy("cache")
    run = cache.parent / "r"
    assert_clean(["search", "--data", cache, "--out", run, *tiny, "--epochs", 2, "--batch-size", 16,
                  "--temperature", temperature], f"{run}: epoch 1: val_loss is not finite")
    assert not (run / "arch.json").exists()


@pytest.mark.parametrize("out", ["", "run\n", "run\x1b[31m"])
def test_an_empty_out_or_one_with_control_characters_is_refused(copy, tiny, out, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_clean(["search", "--data", copy("cache"), "--out", out, *tiny], "--out")
    assert_clean(["extract", "--out", out, tmp_path], "--out")
    assert not (tmp_path / "arch.json").exists() and not (tmp_path / "metrics.jsonl").exists()


def test_extract_refuses_a_non_finite_min_seconds(tmp_path):
    assert_clean(["extract", "--out", tmp_path / "c", tmp_path, "--min-seconds", "nan"], "--min-seconds")


def test_op_names_are_stored_canonical_whatever_their_case(copy, tiny):
    cache = copy("cache")
    run = cache.parent / "r"
    outcome = run_cli(["search", "--data", cache, "--out", run, "--epochs", 1, "--batch-size", 16,
                       *tiny[:-1], "SUM,Concat-FC"], allow_success=True)
    assert outcome.kind == ACCEPTED, outcome
    arch = json.loads((run / "arch.json").read_text())
    assert arch["space"]["config"]["ops"] == ["sum", "concat-fc"]
    assert "SUM" not in json.dumps(arch["choices"]) and "Concat-FC" not in json.dumps(arch["choices"])


def test_out_under_a_regular_file(copy, tiny, tmp_path):
    (tmp_path / "file").write_text("")
    assert_clean(["search", "--data", copy("cache"), "--out", tmp_path / "file" / "run", *tiny],
                 str(tmp_path / "file"))
    run = copy("run")
    assert_clean(["evaluate", run / "arch.json", "--out", tmp_path / "file" / "e"], str(tmp_path / "file"))


@pytest.mark.parametrize("name", ["metrics.jsonl", "eval/metrics.json", "eval/history.jsonl",
                                  "eval/predictions.csv"])
def test_report_refuses_an_optional_file_that_is_a_fifo_instead_of_ignoring_it(copy, name):
    run = copy("run")
    make_fifo(run / name)
    assert_clean(["report", run], f"{run / name}: not a regular file (a FIFO)")


def test_report_escapes_strings_from_user_files(copy):
    run = copy("run")
    rewrite_json(run / "arch.json",
                 lambda d: set_at(d, ("metrics", "x\n# Injected"), "<script>alert(1)</script>"))
    write_report(run, run / "eval")
    report = (run / "report.md").read_text()
    assert "\n# Injected" not in report and "<script>" not in report and "&lt;script&gt;" in report
