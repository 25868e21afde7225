"""automm export: TorchScript and ONNX detectors that score as automm predict EVAL_DIR does, in
automm and in processes that import only torch, or only onnxruntime and numpy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from modelkit import write_evaluation

from automm.cli import cli
from automm.data import FeatureCache

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

FORMATS = {"torchscript": "detector.pt", "onnx": "detector.onnx"}


def invoke(*args: object) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def evaluation(folder_cache, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "eval"
    write_evaluation(FeatureCache.open(folder_cache.path), out)
    return out


@pytest.fixture(scope="module")
def exported(evaluation) -> dict[str, Path]:
    files = {}
    for fmt, name in FORMATS.items():
        files[fmt] = evaluation.parent / name
        res = invoke("export", evaluation, "--format", fmt, "-o", files[fmt])
        assert res.exit_code == 0, res.output
        assert f"automm predict --model {files[fmt]} VIDEO..." in res.stdout
    return files


@pytest.fixture(scope="module")
def videos(folder_dataset, folder_cache) -> list[str]:
    root, _ = folder_dataset
    return [str(root / s["id"]) for s in FeatureCache.open(folder_cache.path).samples]


@pytest.fixture(scope="module")
def reference(evaluation, videos) -> dict:
    """``automm predict EVAL_DIR --json`` of the usable videos."""
    res = invoke("predict", evaluation, *videos, "--json", "--device", "cpu")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_exported_detector_scores_and_labels_as_predict_does(fmt, exported, reference, videos, evaluation):
    res = invoke("predict", "--model", exported[fmt], *videos, "--json", "--device", "cpu")
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    want_p = [p["p_fake"] for p in reference["predictions"]]
    got_p = [p["p_fake"] for p in got["predictions"]]
    assert np.abs(np.subtract(got_p, want_p)).max() <= 1e-4
    metrics = json.loads((evaluation / "metrics.json").read_text())
    recorded = metrics["thresholds"]["eer"]["threshold"]
    assert got["threshold"]["value"] == reference["threshold"]["value"] == recorded
    assert [p["label"] for p in got["predictions"]] == [p["label"] for p in reference["predictions"]]
    assert got["backbones"] == reference["backbones"]


@pytest.mark.slow
def test_the_sidecar_describes_inputs_taps_classes_and_threshold(exported, evaluation, folder_cache):
    cache = FeatureCache.open(folder_cache.path)
    side = json.loads(Path(f"{exported['onnx']}.json").read_text())
    assert side["model_format"] == "onnx" and side["classes"] == ["real", "fake"]
    assert [(i["name"], i["shape"]) for i in side["inputs"]] == [
        ("image", ["batch", 2, 3, 64, 64]), ("audio", ["batch", 1, 257, 300])]
    assert side["inputs"][0]["model_normalisation"]["mean"] == pytest.approx([0.485, 0.456, 0.406])
    assert {t.split("/")[0] for t in side["taps"]} == {"image", "audio"}  # the taps the network reads
    assert all(shape == list(cache.taps[t]) for t, shape in side["taps"].items())
    pre = side["preprocessing"]
    assert (pre["frames"], pre["crop"], pre["min_seconds"]) == (2, 64, 1.0)
    audio = pre["audio"]
    assert (audio["sample_rate"], audio["n_fft"], audio["hop_length"]) == (16000, 512, 160)
    assert side["threshold"]["point"] == "eer" and side["evaluation"]["dir"] == str(evaluation.resolve())
    assert all(b["pretrained"] is False for b in side["backbones"].values())
    torchscript = json.loads(Path(f"{exported['torchscript']}.json").read_text())
    assert {**torchscript, "model_format": "onnx"} == side


TORCH_ONLY = """
import json, sys, torch
model = torch.jit.load(sys.argv[1])
x = torch.load(sys.argv[2], weights_only=True)
p = model(x["image"], x["audio"])
assert not [m for m in sys.modules if m.split(".")[0] in ("automm", "automm_media", "onnxruntime")]
print(json.dumps(p.tolist()))
"""
ORT_ONLY = """
import json, sys, numpy, onnxruntime
session = onnxruntime.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
meta = json.loads(session.get_modelmeta().custom_metadata_map["automm"])
feed = {i["name"]: numpy.load(f"{sys.argv[2]}.{i['name']}.npy") for i in meta["inputs"]}
p = session.run(["p_fake"], feed)[0]
assert not [m for m in sys.modules if m.split(".")[0] in ("automm", "automm_media", "torch")]
print(json.dumps(p.tolist()))
"""


@pytest.mark.slow
def test_a_fresh_process_with_only_torch_or_onnxruntime_gets_the_same_scores(exported, reference, videos,
                                                                             tmp_path):
    from automm_media.exported import ExportedDetector

    model = ExportedDetector(exported["torchscript"], device="cpu")
    inputs = [model.preprocess(v) for v in videos]
    batch = {m: torch.cat([x[m] for x in inputs]) for m in model.modalities}
    torch.save(batch, tmp_path / "inputs.pt")
    for m, t in batch.items():
        np.save(tmp_path / f"inputs.{m}.npy", t.numpy())
    want = [p["p_fake"] for p in reference["predictions"]]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for script, fmt, data in ((TORCH_ONLY, "torchscript", "inputs.pt"), (ORT_ONLY, "onnx", "inputs")):
        run = subprocess.run([sys.executable, "-c", script, str(exported[fmt]), str(tmp_path / data)],
                             capture_output=True, text=True, env=env, timeout=300)
        assert run.returncode == 0, run.stderr
        assert np.abs(np.subtract(json.loads(run.stdout), want)).max() <= 1e-4, fmt


@pytest.mark.slow
def test_an_exported_file_carries_every_recorded_threshold(exported, evaluation, videos):
    res = invoke("predict", "--model", exported["onnx"], videos[0], "--threshold", "target-fpr", "--json")
    assert res.exit_code == 0, res.output
    recorded = json.loads((evaluation / "metrics.json").read_text())["thresholds"]["target_fpr"]
    chosen = json.loads(res.stdout)["threshold"]
    assert (chosen["point"], chosen["value"], chosen["target"]) == ("target-fpr", recorded["threshold"], 0.05)


def test_predict_labels_at_the_recorded_threshold_or_the_given_one(evaluation, videos, reference):
    recorded = json.loads((evaluation / "metrics.json").read_text())["thresholds"]["eer"]["threshold"]
    assert reference["threshold"]["point"] == "eer" and reference["threshold"]["value"] == recorded
    assert [p["label"] for p in reference["predictions"]] == [
        "fake" if p["p_fake"] >= recorded else "real" for p in reference["predictions"]]
    res = invoke("predict", evaluation, *videos, "--threshold", "0", "--device", "cpu")
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert [line.split()[1] for line in lines] == ["fake"] * len(videos)
    assert "threshold 0.0000 (given)" in res.stderr


def test_exporting_what_is_not_an_evaluation_is_one_line_and_writes_nothing(folder_cache, tmp_path):
    out = tmp_path / "d.onnx"
    res = invoke("export", folder_cache.path, "--format", "onnx", "-o", out)
    assert res.exit_code == 2 and "not an evaluation directory" in res.output
    assert len(res.output.strip().splitlines()) == 1 and not list(tmp_path.iterdir())


def test_missing_backbone_weights_are_one_line_and_write_nothing(folder_cache, tmp_path):
    cache = FeatureCache.open(folder_cache.path)
    source = json.loads(json.dumps(cache.manifest["source"]))
    source["settings"]["weights"] = [["image", str(tmp_path / "gone.safetensors")]]
    write_evaluation(cache, tmp_path / "eval", source)
    res = invoke("export", tmp_path / "eval", "--format", "torchscript", "-o", tmp_path / "d.pt")
    assert res.exit_code == 2, res.output
    assert "gone.safetensors" in res.output and "no such file" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eval"]


@pytest.mark.slow
def test_a_failing_onnx_export_is_one_line_and_leaves_no_file(evaluation, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("Unsupported: ONNX export of operator frobnicate\nmore detail")

    monkeypatch.setattr(torch.onnx, "export", broken)
    res = invoke("export", evaluation, "--format", "onnx", "-o", tmp_path / "d.onnx")
    assert res.exit_code == 2, res.output
    assert res.output.strip() == ("automm: error: ONNX export failed: RuntimeError: Unsupported: ONNX export "
                                  "of operator frobnicate")
    assert not list(tmp_path.iterdir())


def test_a_file_that_is_no_exported_detector_is_one_line(tmp_path):
    bad = tmp_path / "x.onnx"
    bad.write_bytes(b"not a model")
    res = invoke("predict", "--model", bad, "v.mp4")
    assert res.exit_code == 2 and "x.onnx: cannot load as an exported onnx detector" in res.output


def test_the_pooling_matrix_is_adaptive_average_pooling():
    from automm_media.export import pooling_matrix

    x = torch.randn(2, 3, 75)
    for size in (1, 4, 16, 75, 100):
        want = torch.nn.functional.adaptive_avg_pool1d(x, size)
        torch.testing.assert_close(x @ pooling_matrix(75, size), want)


def _nan_weights(fmt: str, src: Path, dst: Path) -> None:
    """Copy the exported detector ``src`` to ``dst`` with every floating-point weight NaN."""
    if fmt == "onnx":
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(src))
        for init in model.graph.initializer:
            arr = numpy_helper.to_array(init)
            if arr.dtype.kind == "f":
                init.CopyFrom(numpy_helper.from_array(np.full_like(arr, np.nan), init.name))
        onnx.save(model, str(dst))
    else:
        extra = {"automm.json": ""}
        module = torch.jit.load(str(src), _extra_files=extra)
        with torch.no_grad():
            for p in module.parameters():
                p.fill_(float("nan"))
        torch.jit.save(module, str(dst), _extra_files=extra)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_exported_detector_with_nan_weights_is_refused(fmt, exported, videos, tmp_path):
    bad = tmp_path / FORMATS[fmt]
    _nan_weights(fmt, exported[fmt], bad)
    res = invoke("predict", "--model", bad, videos[0], "--device", "cpu")
    assert res.exit_code == 2 and "nan" not in res.stdout.lower(), res.output
    assert res.stderr.strip().splitlines() == [res.stderr.strip()] and f"{bad}: " in res.stderr
    assert "NaN or infinite" in res.stderr
