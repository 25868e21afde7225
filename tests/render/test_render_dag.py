"""The Graphviz drawings: exactly the chosen edges and ops, clusters, roles, faded/omitted nodes."""

from __future__ import annotations

import itertools
import json
import random
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from dotparse import parse_dot

from automm.ir import Architecture, Tap, build_cell_space, build_space_for, load_architecture
from automm.ir.space import SearchSpace, SpaceConfig
from automm.render import (
    MODALITY_COLOURS,
    PALETTE,
    ROLE_STYLES,
    architecture_graph,
    space_graph,
    write_graph,
)

DATA = Path(__file__).parent / "data"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")

# The hand-picked choices of tests/render/data/arch.json, written out as the figure must show them.
EXPECTED_EDGES = Counter([
    ("image/3", "cell/1/in/1"), ("audio/2", "cell/1/in/2"),
    ("cell/1/in/1", "cell/1/step/1"), ("cell/1/in/2", "cell/1/step/1"),
    ("cell/1/step/1", "cell/1/step/2"), ("cell/1/in/2", "cell/1/step/2"),
    ("cell/1/step/1", "cell/1"), ("cell/1/step/2", "cell/1"),
    ("cell/1", "cell/2/in/1"), ("image/4", "cell/2/in/2"),
    ("cell/2/in/1", "cell/2/step/1"), ("cell/2/in/2", "cell/2/step/1"),
    ("cell/2/in/1", "cell/2/step/2"), ("cell/2/step/1", "cell/2/step/2"),
    ("cell/2/step/1", "cell/2"), ("cell/2/step/2", "cell/2"),
    ("cell/1", "head"), ("cell/2", "head"),
])
EXPECTED_OPS = {"cell/1/step/1": "attention", "cell/1/step/2": "linear-glu",
                "cell/2/step/1": "concat-fc", "cell/2/step/2": "sum"}
UNUSED_TAPS = {"image/1", "image/2", "audio/1", "audio/3", "audio/4"}


def label_lines(attrs: dict[str, str]) -> list[str]:
    return attrs["label"].split("\\n")


def chosen_edges(arch: Architecture) -> Counter:
    """Every chosen input slot as (selection, consumer) plus the fixed step -> cell -> head edges."""
    space = build_space_for(arch)
    edges = Counter((arch[c.name], c.node) for c in space.choices.values() if c.kind == "input")
    edges.update((u, v) for u, v, d in space.graph.edges(data=True) if d["choice"] is None)
    return edges


@pytest.fixture(scope="module")
def arch() -> Architecture:
    return load_architecture(DATA / "arch.json")


def test_fixed_architecture_has_exactly_the_chosen_edges_and_ops(arch):
    dot = parse_dot(architecture_graph(arch).source)
    assert Counter(dot.edge_pairs()) == EXPECTED_EDGES == chosen_edges(arch)
    steps = {n: a for n, a in dot.nodes.items() if n.split("/")[-2:-1] == ["step"]}
    assert {n: label_lines(a)[-1] for n, a in steps.items()} == EXPECTED_OPS
    assert dot.attrs["rankdir"] == "LR"


def test_clusters_and_roles(arch):
    dot = parse_dot(architecture_graph(arch).source)
    for cell in ("cell/1", "cell/2"):
        cluster = f"cluster_{cell.replace('/', '_')}"
        assert dot.subgraphs[cluster]["label"] == cell.replace("/", " ")
        assert set(dot.members[cluster]) == {f"{cell}/step/1", f"{cell}/step/2", cell}
        assert dot.cluster_of(f"{cell}/in/1") is None  # inputs: an ordered column before the cell
    assert dot.cluster_of("head") is None
    assert dot.nodes["head"]["fillcolor"] == ROLE_STYLES["head"]["fillcolor"]
    assert dot.nodes["cell/1"]["fillcolor"] == ROLE_STYLES["cell"]["fillcolor"]
    assert dot.nodes["cell/2/in/1"]["shape"] == ROLE_STYLES["cell-input"]["shape"]
    assert dot.nodes["image/3"]["fillcolor"] == MODALITY_COLOURS["image"]
    assert dot.nodes["audio/2"]["fillcolor"] == MODALITY_COLOURS["audio"]
    assert dot.cluster_of("image/3") is None  # taps: one ordered column
    assert label_lines(dot.nodes["image/3"]) == ["image 3", "256 ch"]
    assert label_lines(dot.nodes["cell/2/in/1"]) == ["cell 2 in 1"]


def test_unused_taps_are_faded_or_omitted(arch):
    faded = parse_dot(architecture_graph(arch).source)
    dashed = {n for n, a in faded.nodes.items() if "dashed" in a.get("style", "")}
    assert dashed == UNUSED_TAPS
    omitted = parse_dot(architecture_graph(arch, omit_unused=True).source)
    assert set(omitted.nodes) == set(faded.nodes) - UNUSED_TAPS
    assert Counter(omitted.edge_pairs()) == EXPECTED_EDGES


def test_dead_cell_input_is_faded_with_its_edge(arch):
    choices = dict(arch.choices) | {"cell/2/step/1/in/2": "cell/2/in/1"}  # cell/2/in/2 now unused
    dot = parse_dot(architecture_graph(arch.replace(choices=choices)).source)
    assert "dashed" in dot.nodes["cell/2/in/2"]["style"]
    assert "dashed" in dot.nodes["image/4"]["style"]
    styles = {(t, h): a.get("style") for t, h, a in dot.edges}
    assert styles[("image/4", "cell/2/in/2")] == "dashed"
    assert Counter(dot.edge_pairs())[("cell/2/in/1", "cell/2/step/1")] == 2  # both slots drawn


def test_three_cells_three_steps():
    arch = load_architecture(DATA / "arch_3x3.json")
    dot = parse_dot(architecture_graph(arch).source)
    assert Counter(dot.edge_pairs()) == chosen_edges(arch)
    assert {s for s in dot.subgraphs if s.startswith("cluster_cell")} == {
        "cluster_cell_1", "cluster_cell_2", "cluster_cell_3"}
    ops = {n: label_lines(a)[-1] for n, a in dot.nodes.items() if "/step/" in n}
    assert ops == {c[: -len("/op")]: v for c, v in arch.choices.items() if c.endswith("/op")}
    assert len(ops) == 9


def test_other_modalities_get_palette_colours():
    taps = [Tap("text/1", "text", 16), Tap("depth/1", "depth", 8), Tap("image/1", "image", 4)]
    space = build_cell_space("toy", SpaceConfig(), taps, cells=1, steps=1, ops=("sum",))
    choices = {"cell/1/in/1": "text/1", "cell/1/in/2": "depth/1", "cell/1/step/1/in/1": "cell/1/in/1",
               "cell/1/step/1/in/2": "cell/1/in/2", "cell/1/step/1/op": "sum"}
    arch = Architecture("toy", {}, choices)
    dot = parse_dot(architecture_graph(arch, space).source)
    assert dot.nodes["text/1"]["fillcolor"] == PALETTE[0]
    assert dot.nodes["depth/1"]["fillcolor"] == PALETTE[1]
    assert dot.invisible_pairs()[0] == ("text/1", "depth/1")
    assert "head" in dot.nodes and "num_classes" not in dot.nodes["head"]["label"]


def test_space_graph_has_every_candidate_edge_and_the_op_pool(arch):
    space = build_space_for(arch)
    dot = parse_dot(space_graph(space).source)
    assert set(dot.edge_pairs()) == set(space.graph.edges)
    assert len(dot.edge_pairs()) == space.graph.number_of_edges()
    pool = list(space.config.ops)
    for step in space.nodes_of("step"):
        assert label_lines(dot.nodes[step])[1:] == pool


@needs_dot
def test_parser_agrees_with_graphviz(arch, tmp_path):
    """Graphviz's own parse (dot -Tjson) gives the same nodes, labels and edges as ours."""
    source = architecture_graph(arch).source
    rendered = json.loads(subprocess.run(["dot", "-Tjson"], input=source, capture_output=True,
                                         text=True, check=True).stdout)
    names = {o["_gvid"]: o["name"] for o in rendered["objects"] if "nodes" not in o}
    ours = parse_dot(source)
    assert {names[o["_gvid"]]: o["label"] for o in rendered["objects"] if "nodes" not in o} == {
        n: a["label"] for n, a in ours.nodes.items()}
    assert Counter((names[e["tail"]], names[e["head"]]) for e in rendered["edges"]
                   if e.get("style") != "invis") == EXPECTED_EDGES


@needs_dot
def test_svg_renders(arch, tmp_path):
    out = write_graph(architecture_graph(arch), tmp_path / "arch.svg")
    text = out.read_text()
    assert text.lstrip().startswith("<?xml") and "</svg>" in text
    assert "attention" in text and "concat&#45;fc" in text


def _natural_columns(space: SearchSpace) -> list[list[str]]:
    """Taps by modality then stage, and each cell's inputs: the columns drawn top to bottom."""
    return [space.taps] + [[f"{c}/in/{k}" for k in (1, 2)] for c in space.nodes_of("cell")]


def _natural_sequence(space: SearchSpace) -> list[tuple[str, str]]:
    """Steps and cells left to right: step k before step k+1, cell k before cell k+1's inputs."""
    cells = space.nodes_of("cell")
    steps = [(f"{c}/step/{k}", f"{c}/step/{k + 1}") for c in cells for k in range(1, space.config.steps)]
    return steps + [(a, f"{b}/in/1") for a, b in itertools.pairwise(cells)]


@pytest.mark.parametrize("name", ["arch.json", "arch_3x3.json"])
def test_dot_source_orders_taps_inputs_steps_and_cells(name):
    arch = load_architecture(DATA / name)
    space = build_space_for(arch)
    for graph in (architecture_graph(arch), space_graph(space)):
        dot = parse_dot(graph.source)
        ranked = {s for s, a in dot.subgraphs.items() if a.get("rank") == "same"}
        assert len(ranked) == len(_natural_columns(space))
        chains = [list(itertools.pairwise(c)) for c in _natural_columns(space)]
        assert dot.invisible_pairs() == [p for c in chains for p in c] + _natural_sequence(space)
        assert not any(dot.cluster_of(n) for c in _natural_columns(space) for n in c)


def test_space_taps_are_ordered_by_modality_then_stage():
    taps = [Tap("audio/1", "audio", 4), Tap("image/1", "image", 4), Tap("audio/2", "audio", 4)]
    space = build_cell_space("toy", SpaceConfig(), taps, cells=1, steps=1, ops=("sum",))
    dot = parse_dot(space_graph(space).source)
    assert dot.invisible_pairs()[:2] == [("audio/1", "audio/2"), ("audio/2", "image/1")]


@needs_dot
@pytest.mark.parametrize("name", ["arch.json", "arch_3x3.json"])
def test_layout_follows_the_natural_order(name):
    """Graphviz's own layout (dot -Tplain) of the space and of random architectures: columns top
    to bottom, steps and cells left to right, in natural order."""
    arch = load_architecture(DATA / name)
    space = build_space_for(arch)
    rng = random.Random(0)
    archs = [arch] + [arch.replace(choices={c.name: rng.choice(c.candidates) for c in space.choices.values()})
                      for _ in range(6)]
    for graph in [space_graph(space)] + [architecture_graph(a) for a in archs]:
        plain = subprocess.run(["dot", "-Tplain"], input=graph.source, capture_output=True, text=True,
                               check=True).stdout
        pos = {p[1].strip('"'): (float(p[2]), float(p[3]))
               for p in map(str.split, plain.splitlines()) if p[0] == "node"}
        for column in _natural_columns(space):
            xs = {pos[n][0] for n in column}
            assert len(xs) == 1, column
            assert [pos[n][1] for n in column] == sorted((pos[n][1] for n in column), reverse=True), column
        for tail, head in _natural_sequence(space):
            assert pos[tail][0] < pos[head][0], (tail, head)
