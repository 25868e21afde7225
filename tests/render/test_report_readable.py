"""Issue 17: print-resolution PNGs, legends off the data, one architecture file shared by
``render`` and ``report``, a report.md for a human, random-init read from ``pretrained``."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image
from test_run_report import DATA, LABELS, SCORES, add_eval, images, report, write_jsonl

from automm.cli import cli
from automm.report import build, figures
from automm.report.build import random_init_backbones
from automm.report.compare import compare_runs

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
EPOCHS = [{"epoch": e, "train_loss": 1 / e, "train_acc": 0.5, "val_loss": 1.2 / e, "val_acc": 0.6,
           "val_auc": 0.7, "derived_val_acc": 0.65, "derived_val_auc": 0.75,
           "entropy": {"cell-input": 2 - e / 10, "step-input": 1 - e / 20, "op": 1.5 - e / 10}}
          for e in range(1, 11)]


def arch_doc(backbones: dict | None = None) -> dict:
    """tests/render/data/arch.json, with ``backbones`` as its cache's source.backbones if given."""
    doc = json.loads((DATA / "arch.json").read_text())
    if backbones is not None:
        doc["provenance"]["data"]["source"]["backbones"] = backbones
    return doc


@pytest.fixture
def run(tmp_path) -> Path:
    """A search run directory with 10 epochs of metrics."""
    directory = tmp_path / "run"
    directory.mkdir()
    shutil.copy(DATA / "arch.json", directory / "arch.json")
    write_jsonl(directory / "metrics.jsonl", EPOCHS)
    return directory


def add_eval_arch(run: Path) -> Path:
    """RUN/eval as `automm evaluate` writes it, with its arch.json (other data, search_data)."""
    evaluation = add_eval(run / "eval")
    doc = arch_doc()
    doc["provenance"]["search_data"] = copy.deepcopy(doc["provenance"]["data"])
    doc["provenance"]["data"]["path"] = "/data/test_cache"
    doc["provenance"]["data"]["source"]["dataset"] = "fakeavceleb"
    (evaluation / "arch.json").write_text(json.dumps(doc))
    metrics = json.loads((evaluation / "metrics.json").read_text())
    metrics |= {"class_counts": {"train": {"real": 30, "fake": 34}, "test": {"real": 10, "fake": 10}},
                "data": {"path": "/data/test_cache", "fingerprint": "ab" * 32}}
    (evaluation / "metrics.json").write_text(json.dumps(metrics))
    return evaluation


@needs_dot
def test_every_png_is_print_resolution(run):
    add_eval_arch(run)
    assert report(run).exit_code == 0
    assert compare_runs([run, run], run / "compare")
    pngs = [*run.glob("*.png"), *(run / "compare").glob("*.png")]
    expected = {"arch.png", "entropy.png", "training.png", "roc.png", "eval-training.png"}
    assert {p.name for p in pngs} >= expected
    for png in pngs:
        with Image.open(png) as image:
            dpi = image.info.get("dpi", (0, 0))
            assert min(round(d) for d in dpi) >= 300 or image.width >= 2000, (png.name, dpi, image.size)
            if png.stem.endswith("-column"):  # one column of a paper: 3.5 in at 300 dpi
                assert image.width == 1050, png.name
            else:
                assert image.width >= 1300, png.name  # at least 4.3 in wide at 300 dpi
                assert png.with_name(png.stem + "-column.png").is_file() or png.name == "arch.png", png.name
            if png.name != "arch.png":
                assert png.with_suffix(".pdf").read_bytes().startswith(b"%PDF"), png.name  # vector beside


def test_legends_sit_outside_the_axes(monkeypatch, tmp_path):
    saved: list[Figure] = []
    save = figures._save

    def keep(fig: Figure, out):
        saved.append(fig)
        return save(fig, out)

    monkeypatch.setattr(figures, "_save", keep)
    figures.entropy_figure(EPOCHS, tmp_path / "entropy.png")
    figures.training_figure(EPOCHS, tmp_path / "training.png", title="search")
    figures.roc_figure(SCORES, LABELS, tmp_path / "roc.png")
    long = "a-run-with-a-rather-long-name-20250101-120000 (stgs split, M=15, λ=10)"
    figures.entropy_compare_figures({long: EPOCHS, "short (darts)": EPOCHS[:5]}, tmp_path)
    assert len(saved) == 14  # each wide and one column wide
    for fig in saved:
        fig.canvas.draw()
        assert [ax.get_legend() for ax in fig.axes] == [None] * len(fig.axes)
        (legend,) = fig.legends
        box = legend.get_window_extent()
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and fig.bbox.y0 <= box.y0
        for ax in fig.axes:
            assert not box.overlaps(ax.get_tightbbox()), ax.get_title()  # not over data nor labels


def test_proxy_handles_share_the_legend_below(tmp_path):
    fig = figures._figure(2)
    fig.axes[0].plot([1, 2], [3, 4], label="drawn")
    fig.axes[1].plot([1, 2], [4, 3])
    legend = figures.legend_below(fig, [Line2D([], [], color="red", label="proxy")])
    assert [t.get_text() for t in legend.get_texts()] == ["drawn", "proxy"]
    figures._save(fig, tmp_path / "f.png")
    assert fig.legends == [legend]  # _save adds no second legend


@needs_dot
def test_report_and_render_draw_one_architecture_file(run):
    rendered = CliRunner().invoke(cli, ["render", str(run / "arch.json")])
    assert rendered.exit_code == 0, rendered.output
    svg = (run / "arch.svg").read_bytes()
    result = report(run)
    assert result.exit_code == 0, result.output
    assert "arch.svg" in images((run / "report.md").read_text())
    assert (run / "arch.svg").read_bytes() == svg  # the same drawing, not a second one
    assert f"wrote {run / 'arch.svg'}" in result.output and (run / "arch.png").is_file()
    assert not list(run.glob("architecture*"))
    png = CliRunner().invoke(cli, ["render", str(run / "arch.json"), "--format", "png"])
    assert png.exit_code == 0 and png.output.strip() == f"wrote {run / 'arch.png'}"


def test_without_dot_the_report_links_the_renderers_dot_file(run, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))
    assert report(run).exit_code == 0
    assert "[arch.dot](arch.dot)" in (run / "report.md").read_text() and (run / "arch.dot").is_file()


def links(markdown: str) -> list[str]:
    """Targets of the links and images of ``markdown``."""
    return re.findall(r"\]\(([^)]+)\)", markdown)


@needs_dot
def test_report_md_reads_as_sentences_and_tables(run):
    add_eval_arch(run)
    assert report(run).exit_code == 0
    md = (run / "report.md").read_text()
    assert ("Searched on the features of the demo dataset cached in /data/cache, extracted by the "
            "image backbone resnet34 (randomly initialised) and the audio backbone resnet34 "
            "(randomly initialised).") in md
    assert "Evaluated on the features of the fakeavceleb dataset cached in /data/test_cache" in md
    assert "> **The image and audio backbones were randomly initialised, not pretrained.**" in md
    assert "{" not in md and "}" not in md and "provenance" not in md  # no JSON, no file-format keys
    assert ("| class_counts | real | fake |\n| --- | --- | --- |\n| train | 30 | 34 |\n"
            "| test | 10 | 10 |") in md
    assert "| data: path | /data/test_cache |" in md
    targets = links(md)
    assert {"arch.svg", "arch.png", "entropy.png", "roc.png"} <= set(targets)
    for target in targets:  # relative to the run folder, and there
        assert not Path(target).is_absolute() and ".." not in target and (run / target).is_file(), target


def test_same_evaluation_features_are_said_once(run):
    evaluation = add_eval(run / "eval")
    shutil.copy(run / "arch.json", evaluation / "arch.json")
    assert report(run).exit_code == 0
    md = (run / "report.md").read_text()
    assert "Evaluated on the same features." in md and md.count("randomly initialised, not") == 1


def test_random_init_comes_from_pretrained_false():
    backbones = {
        "image": {"name": "resnet34", "weights": "/models/image.pt", "pretrained": False},
        "audio": {"name": "resnet34", "weights": "/models/random-init.pt", "pretrained": True},
        "depth": {"name": "tiny", "weights": "/models/depth.pt"},
    }
    provenance = arch_doc(backbones)["provenance"]
    assert random_init_backbones(provenance) == ["image"]
    provenance["search_data"] = {"source": {"backbones": {"depth": {"pretrained": False}}}}
    assert random_init_backbones(provenance) == ["image", "depth"]


def test_random_init_text_only_for_caches_without_pretrained():
    legacy = arch_doc()["provenance"]  # backbones record weights "random-init", no `pretrained`
    assert random_init_backbones(legacy) == ["image", "audio"]
    no_records = {"data": {"source": {"weights": "random-init (seed 0)"}}}
    assert random_init_backbones(no_records) == [""]
    assert build._random_init_warning([""]).startswith("> **The backbones were randomly initialised")
    assert random_init_backbones({"data": {"source": {"backbones": {}}}, "note": "random-init"}) == []


def test_report_warns_from_pretrained_false(run):
    (run / "arch.json").write_text(json.dumps(arch_doc({
        "image": {"name": "resnet34", "weights": "/models/image.pt", "pretrained": True},
        "audio": {"name": "wav2vec", "weights": "seeded 3", "pretrained": False}})))
    assert report(run).exit_code == 0
    md = (run / "report.md").read_text()
    assert "> **The audio backbone was randomly initialised, not pretrained.**" in md
    assert "image backbone resnet34 (pretrained weights image.pt)" in md


def test_dataset_records_of_every_cache_format_read_as_words():
    from automm.report.source import describe_source

    def dataset(record):
        return describe_source({"dataset": record}).dataset

    assert dataset("demo") == "the demo dataset"
    mixed = {"protocol": "mixed", "datasets": [{"name": "favc"}, {"name": "swan"}]}
    assert dataset(mixed) == "the datasets favc and swan (protocol mixed)"
    assert dataset({"protocol": "single", "datasets": [{"name": "corpus"}]}) == "the dataset corpus"
    assert dataset({"protocol": "single"}) == ""
