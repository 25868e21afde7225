"""report.html (run, evaluation, comparison) and the leaderboard of ``automm runs``: self-contained
pages, escaped user text, intervals where the evaluation has them, statuses and sorting."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_run_report import add_eval, make_run, write_jsonl

from automm.cli import cli
from automm.locking import owned
from automm.report.html import svg_markup

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def invoke(*args: object):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def page(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@needs_dot
def test_a_run_report_is_one_self_contained_page(tmp_path):
    run = make_run(tmp_path / "run")
    add_eval(run / "eval")
    assert "wrote " + str(run / "report.html") in invoke("report", run).output
    html = page(run / "report.html")
    for figure in ("fig-architecture", "fig-entropy", "fig-training", "fig-roc", "fig-retraining"):
        assert re.search(rf'<figure class="plot" id="{figure}"><svg', html), figure
    assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=\"(?!data:)", html)  # loads nothing
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)) > 100  # the figures' own ids cannot clash
    assert 'href="eval/metrics.json"' in html and 'href="metrics.jsonl"' in html
    assert '<td class="num" data-sort="0.78125">0.7812</td>' in html
    assert "95% interval" not in html  # this evaluation recorded none


def test_user_text_is_escaped(tmp_path):
    run = make_run(tmp_path / "run<i>")
    arch = json.loads((run / "arch.json").read_text())
    arch["strategy"]["note"] = "<script>alert(1)</script>"
    (run / "arch.json").write_text(json.dumps(arch))
    invoke("report", run)
    html = page(run / "report.html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "Report: run&lt;i&gt;" in html


def test_intervals_groups_and_robustness_appear_where_recorded(tmp_path):
    run = make_run(tmp_path / "run")
    evaluation = add_eval(run / "eval")
    metrics = json.loads((evaluation / "metrics.json").read_text())
    metrics.update(test_auc_ci=[0.6, 0.9], distinguishable_from_chance=True,
                   bootstrap={"method": "stratified percentile", "resamples": 2000, "seed": 0},
                   by_category={"reals": 4, "groups": {"FakeVideo-RealAudio": {"fakes": 2, "auc": 0.75,
                                                                                "auc_ci": [0.5, 1.0]}}})
    (evaluation / "metrics.json").write_text(json.dumps(metrics))
    (evaluation / "robustness.json").write_text(json.dumps({"conditions": [
        {"condition": "audio removed", "auc": 0.55, "auc_ci": [0.4, 0.7], "acc": 0.5, "eer": 0.45}],
        "verdict": "the detector relies on audio"}))
    invoke("report", run)
    html = page(run / "report.html")
    test_table = re.search(r'<table id="test-metrics">.*?</table>', html, re.S).group(0)
    assert "<th>95% interval</th>" in test_table and "<td>[0.6, 0.9]</td>" in test_table
    assert "stratified percentile, 2000 resamples" in html and "distinguishable from chance" in html
    assert "FakeVideo-RealAudio" in html and "<td>[0.5, 1]</td>" in html
    assert '<table id="robustness">' in html and "audio removed" in html and "relies on audio" in html
    assert "by_category" not in html  # shown as its own table, not as raw rows


def test_a_comparison_report(tmp_path):
    runs = [make_run(tmp_path / name) for name in ("a", "b")]
    invoke("report", "--compare", *runs, "--out", tmp_path / "cmp")
    html = page(tmp_path / "cmp" / "report.html")
    assert '<figure class="plot" id="fig-entropy-compare"><svg' in html
    assert html.count('href="../a"') == 1 and html.count('href="../b"') == 1


def test_svg_ids_are_scoped():
    svg = '<?xml version="1.0"?><svg><defs><path id="p1"/></defs><use xlink:href="#p1"/>' \
          '<g clip-path="url(#p1)"/></svg>'
    assert svg_markup(svg, "f-") == ('<svg><defs><path id="f-p1"/></defs><use xlink:href="#f-p1"/>'
                                     '<g clip-path="url(#f-p1)"/></svg>')


@pytest.fixture
def runs(tmp_path) -> Path:
    """Runs in each state: finished with an evaluation, interrupted, failed (not finite), a failed
    sweep point, and one that a live process owns."""
    root = tmp_path / "runs"
    done = make_run(root / "done")
    add_eval(done / "eval")
    for name in ("stopped", "nan", "busy", "sweep/points/k=1_seed=0"):
        run = make_run(root / name)
        (run / "arch.json").unlink()
    write_jsonl(root / "nan" / "metrics.jsonl", [{"epoch": 1, "train_loss": None}])
    (root / "sweep" / "sweep.json").write_text("{}")
    write_jsonl(root / "sweep" / "results.jsonl", [{"key": "k=1_seed=0", "status": "failed", "error": "boom",
                                                    "run_dir": "points/k=1_seed=0"}])
    return root


def test_the_leaderboard_lists_every_run_with_its_status(runs):
    with owned(runs / "busy"):
        rows = json.loads(invoke("runs", runs, "--json").output)["runs"]
    status = {r["run"]: (r["kind"], r["status"]) for r in rows}
    assert status == {"busy": ("search", "running"), "done": ("search", "finished"),
                      "done/eval": ("evaluation", "finished"), "nan": ("search", "failed"),
                      "stopped": ("search", "interrupted"), "sweep/points/k=1_seed=0": ("search", "failed")}
    done = next(r for r in rows if r["run"] == "done")
    assert (done["strategy"], done["test_auc"], done["search_val_auc"], done["epochs"]) == ("stgs", 0.78125,
                                                                                          0.912, 3)
    assert done["settings"]["temperature"] == 10


def test_the_leaderboard_sorts_by_any_column(runs):
    shutil.copytree(runs / "done", runs / "better")
    metrics = json.loads((runs / "better" / "eval" / "metrics.json").read_text())
    (runs / "better" / "eval" / "metrics.json").write_text(json.dumps({**metrics, "test_auc": 0.9}))
    rows = json.loads(invoke("runs", runs, "--json", "--sort", "test_auc", "--reverse").output)["runs"]
    assert [r["run"] for r in rows][:4] == ["better", "better/eval", "done", "done/eval"]
    assert all(r["test_auc"] is None for r in rows[4:])
    table = invoke("runs", runs, "--sort", "status").output.splitlines()
    assert table[0].split() == ["run", "kind", "strategy", "settings", "search_val_auc", "test_auc", "params",
                                "epochs", "seconds", "status"]
    assert [line.split()[-1] for line in table[1:]] == sorted(line.split()[-1] for line in table[1:])
    result = CliRunner().invoke(cli, ["runs", str(runs), "--sort", "auc"])
    assert result.exit_code == 2 and "'auc' is not one of" in result.output


def test_the_index_links_each_runs_report(runs):
    invoke("report", runs / "done")
    assert f"wrote {runs / 'index.html'}" in invoke("runs", runs, "--html").output
    html = page(runs / "index.html")
    assert '<a href="done/report.html">done</a>' in html and '<a href="stopped">stopped</a>' in html
    assert '<table class="sortable" id="runs">' in html and html.count("<tr>") == 7  # header + 6 runs
