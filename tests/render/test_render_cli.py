"""``automm render``: formats, defaults, --space, and one-line failures that write nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from dotparse import parse_dot

from automm.cli import cli

DATA = Path(__file__).parent / "data"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


@pytest.fixture
def arch_json(tmp_path) -> Path:
    path = tmp_path / "arch.json"
    shutil.copy(DATA / "arch.json", path)
    return path


@pytest.fixture
def no_dot(monkeypatch, tmp_path_factory):
    """A PATH without Graphviz."""
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))


def run(*args: str):
    return CliRunner().invoke(cli, ["render", *map(str, args)])


def assert_one_line_error(result) -> None:
    assert result.exit_code != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("automm: error: "), result.stderr


def files(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


@needs_dot
def test_default_output_is_svg_beside_the_arch(arch_json):
    result = run(arch_json)
    assert result.exit_code == 0, result.output
    svg = arch_json.with_suffix(".svg")
    assert "</svg>" in svg.read_text()
    assert files(arch_json.parent) == {"arch.json", "arch.svg"}


@needs_dot
@pytest.mark.parametrize(("name", "magic"), [("a.png", b"\x89PNG"), ("a.pdf", b"%PDF")])
def test_format_from_suffix(arch_json, name, magic):
    out = arch_json.parent / name
    assert run(arch_json, "-o", out).exit_code == 0
    assert out.read_bytes().startswith(magic)


def test_dot_format_needs_no_graphviz(arch_json, no_dot):
    result = run(arch_json, "--format", "dot", "--omit-unused")
    assert result.exit_code == 0, result.output
    dot = parse_dot(arch_json.with_suffix(".dot").read_text())
    assert "image/1" not in dot.nodes and "image/3" in dot.nodes


def test_missing_dot_writes_the_dot_source_and_fails(arch_json, no_dot):
    result = run(arch_json, "-o", arch_json.parent / "fig.svg")
    assert_one_line_error(result)
    assert "dot" in result.stderr and "fig.dot" in result.stderr
    assert files(arch_json.parent) == {"arch.json", "fig.dot"}
    parse_dot((arch_json.parent / "fig.dot").read_text())


@pytest.mark.parametrize("text", [
    "{not json",
    '{"format": "automm.arch/1", "space": {"name": "bimodal-deepfake"}, "choices": {}}',
    '{"format": "automm.arch/9"}',
])
def test_malformed_arch_json(tmp_path, text):
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    result = run(bad, "--format", "dot")
    assert_one_line_error(result)
    assert "bad.json" in result.stderr
    assert files(tmp_path) == {"bad.json"}


def test_unwritable_output_path(arch_json, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out in (blocker / "sub" / "fig.dot", tmp_path):  # parent is a file; target is a directory
        result = run(arch_json, "-o", out, "--format", "dot")
        assert_one_line_error(result)
        assert "cannot write" in result.stderr
    assert files(tmp_path) == {"arch.json", "file"}


def test_unknown_suffix(arch_json):
    result = run(arch_json, "-o", arch_json.parent / "fig.jpeg")
    assert_one_line_error(result)
    assert "--format" in result.stderr


def test_space_with_options(tmp_path):
    out = tmp_path / "space.dot"
    result = run("--space", "bimodal-deepfake", "--cells", "3", "--steps=1", "--ops", "sum,attention",
                 "--image-taps", "2", "--audio-taps", "1", "-o", out)
    assert result.exit_code == 0, result.output
    dot = parse_dot(out.read_text())
    taps = {n for n in dot.nodes if n.startswith(("image/", "audio/"))}
    assert taps == {"image/1", "image/2", "audio/1"}
    assert dot.nodes["cell/3/step/1"]["label"].split("\\n")[1:] == ["sum", "attention"]
    # cell 3 input slots: every tap and both earlier cells
    assert Counter(t for t, h in dot.edge_pairs() if h == "cell/3/in/1") == Counter(
        [*taps, "cell/1", "cell/2"])


@pytest.mark.parametrize(("args", "message"), [
    (["--bogus", "1"], "--bogus"),
    (["--cells", "two"], "not a valid int"),
    (["--cells"], "needs a value"),
    (["stray"], "unexpected argument"),
])
def test_space_option_errors(tmp_path, args, message):
    result = run("--space", "bimodal-deepfake", *args, "-o", tmp_path / "s.dot")
    assert result.exit_code == 2 and message in result.stderr
    assert files(tmp_path) == set()


def test_space_errors_are_one_line(tmp_path):
    result = run("--space", "bimodal-deepfake", "--ops", "sum,nope", "-o", tmp_path / "s.dot")
    assert_one_line_error(result)
    assert "nope" in result.stderr
    assert_one_line_error(run("--space", "no-such-space", "-o", tmp_path / "s.dot"))


def test_needs_arch_or_space():
    result = run()
    assert result.exit_code == 2 and "ARCH_JSON" in result.stderr


def test_a_huge_string_in_the_arch_is_shortened_in_the_title(arch_json):
    data = json.loads(arch_json.read_text())
    data["strategy"] = {"name": "x" * 2_000_000, "note": "y" * 2_000_000}
    arch_json.write_text(json.dumps(data))
    out = arch_json.parent / "a.dot"
    assert run(arch_json, "-o", out).exit_code == 0
    title = parse_dot(out.read_text()).attrs["label"]
    assert "x" * 59 + "…" in title and "y" * 61 not in title


@pytest.fixture
def fake_dot(monkeypatch, tmp_path_factory):
    """``fake_dot(script)``: a PATH whose ``dot`` is the shell ``script``."""
    def make(script: str) -> None:
        bin_dir = tmp_path_factory.mktemp("fake-dot")
        (bin_dir / "dot").write_text(f"#!/bin/sh\n{script}\n")
        (bin_dir / "dot").chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return make


@pytest.mark.parametrize(("script", "fragment"), [
    ("cat >/dev/null; echo 'Error: syntax error in line 1' >&2; exit 1",
     "dot failed: Error: syntax error in line 1"),
    ("cat >/dev/null; exit 3", "dot failed: exit status 3"),
    ("cat >/dev/null; kill -9 $$", "dot failed: killed by signal 9"),
    ("exec 0<&-; sleep 1; exit 1", "dot failed: Broken pipe"),  # stops reading a large input
])
def test_dot_failures_are_one_line_and_write_nothing(arch_json, fake_dot, monkeypatch, script, fragment):
    if "Broken pipe" in fragment:  # a title longer than a pipe holds
        monkeypatch.setattr("automm.render.dag.TITLE_ITEM_CHARS", 10**7)
        data = json.loads(arch_json.read_text())
        data["strategy"] = {"name": "x" * 1_000_000}
        arch_json.write_text(json.dumps(data))
    fake_dot(script)
    result = run(arch_json, "-o", arch_json.parent / "fig.svg")
    assert_one_line_error(result)
    assert fragment in result.stderr
    assert files(arch_json.parent) == {"arch.json"}


@needs_dot
def test_drawing_to_stdout_and_to_a_closed_pipe(arch_json):
    result = run(arch_json, "-o", "-")
    assert result.exit_code == 0 and result.stdout.rstrip().endswith("</svg>"), result.output
    read, write = os.pipe()
    os.close(read)
    proc = subprocess.run([sys.executable, "-m", "automm", "render", str(arch_json), "-o", "-"],
                          stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write)
    assert proc.returncode != 0
    assert proc.stderr.splitlines() == [
        "automm: error: standard output was closed before everything was written (broken pipe)"]
