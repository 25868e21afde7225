"""A space plugin with a topology build_cell_space cannot make (three modalities, steps that read
taps directly, cells of different sizes, a step outside any cell, free node and choice names)
searches, derives, evaluates, shows and renders with no change to the core."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from automm.cli import cli
from automm.data import write_cache
from automm.errors import ArchitectureError
from automm.ir import INPUT, OP, Architecture, Choice, SearchSpace, SpaceConfig, SpaceDefinition
from automm.nn import FusionNetwork
from automm.testing import check_space
from automm.train.steps import inherit_weights, one_hot_weights

TAPS = {"eye-lo": ("vision", 4), "eye-hi": ("vision", 6), "ear": ("sound", 5), "words": ("text", 3)}


@dataclass(frozen=True)
class TriConfig(SpaceConfig):
    C: int = 8
    L: int = 2
    ops: tuple[str, ...] = ("sum", "concat-fc", "linear-glu")
    num_classes: int = 2
    tap_channels: dict[str, int] = field(default_factory=dict)


class TriSpace(SpaceDefinition):
    """Block ``mix`` (3 steps reading taps directly), block ``fuse`` (1 step over 2 picked inputs),
    a free step ``omega`` and the head ``verdict`` over ``mix`` and ``omega``."""

    config_type = TriConfig

    def build(self, config: SpaceConfig) -> SearchSpace:
        assert isinstance(config, TriConfig)
        g = nx.DiGraph()
        choices: list[Choice] = []
        taps = list(TAPS)
        for tap, (modality, channels) in TAPS.items():
            g.add_node(tap, kind="tap", modality=modality, channels=config.tap_channels.get(tap, channels))

        def pick(node: str, pool: list[str], **attrs: str) -> None:
            g.add_node(node, kind="cell-input", **attrs)
            choices.append(Choice(f"{node}?", INPUT, "pick", node, tuple(pool)))
            g.add_edges_from((u, node, {"choice": f"{node}?"}) for u in pool)

        def step(node: str, pools: list[list[str]], **attrs: str) -> None:
            g.add_node(node, kind="step", **attrs)
            for k, pool in enumerate(pools):
                choices.append(Choice(f"{node}<{k}", INPUT, "reads", node, tuple(pool)))
                g.add_edges_from((u, node, {"choice": f"{node}<{k}"}) for u in pool)
            choices.append(Choice(f"{node}!", OP, "op", node, config.ops))

        def block(node: str, members: list[str]) -> None:
            g.add_node(node, kind="cell")
            g.add_edges_from((m, node, {"choice": None}) for m in members)

        step("alpha", [taps, taps], cell="mix")
        step("beta", [taps, ["alpha"]], cell="mix")
        step("gamma", [["alpha", "beta"], taps], cell="mix")
        block("mix", ["alpha", "beta", "gamma"])
        pick("p1", [*taps, "mix"], cell="fuse")
        pick("p2", [*taps, "mix"], cell="fuse")
        step("delta", [["p1", "p2"], ["p1", "p2"]], cell="fuse")
        block("fuse", ["delta"])
        step("omega", [["fuse", "mix"], taps])
        g.add_node("verdict", kind="head", num_classes=config.num_classes)
        g.add_edges_from((u, "verdict", {"choice": None}) for u in ("mix", "omega"))
        return SearchSpace("tri-modal", config, g, choices)


@pytest.fixture
def tri(automm_register) -> TriSpace:
    definition = TriSpace()
    automm_register("spaces", "tri-modal", definition)
    return definition


def _planted_cache(path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 96
    labels = rng.integers(0, 2, n)
    arrays = {t: rng.normal(size=(n, ch, 3)).astype(np.float32) for t, (_, ch) in TAPS.items()}
    arrays["words"][:, 0, :] += 3.0 * (2 * labels[:, None] - 1)
    splits = ["train"] * 64 + ["val"] * 16 + ["test"] * 16
    samples = [{"id": f"s{i}", "label": int(labels[i]), "identity": f"p{i}", "split": splits[i]}
               for i in range(n)]
    return write_cache(path, arrays, samples, source={"weights": "synthetic"}, classes=("real", "fake"))


def test_the_space_passes_check_space(tri) -> None:
    check_space("tri-modal", C=4, L=3)


@pytest.mark.parametrize("seed", range(2))
def test_supernet_with_one_hot_weights_is_the_derived_network(tri, seed: int) -> None:
    space = tri.build(TriConfig(C=6, L=3))
    rng = random.Random(seed)
    arch = Architecture(space.name, space.config.to_dict(),
                        {n: rng.choice(c.candidates) for n, c in space.choices.items()})
    torch.manual_seed(seed)
    supernet = FusionNetwork(space)
    for p in supernet.parameters():
        p.data.normal_(0, 0.5)
    derived = inherit_weights(FusionNetwork(space, arch), supernet)
    assert any(k.startswith("steps.omega.") for k in derived.state_dict())
    taps = {t: torch.randn(4, ch, 5) for t, (_, ch) in TAPS.items()}
    supernet.eval()
    derived.eval()
    with torch.no_grad():
        torch.testing.assert_close(supernet(taps, one_hot_weights(space, arch)), derived(taps),
                                   rtol=1e-5, atol=1e-6)


def test_search_derive_show_render_evaluate_through_the_cli(tri, tmp_path: Path) -> None:
    cache = _planted_cache(tmp_path / "cache")
    run = tmp_path / "run"
    runner = CliRunner()
    res = runner.invoke(cli, ["search", "--space", "tri-modal", "--strategy", "stgs", "--data", str(cache),
                              "--out", str(run), "--epochs", "2", "--batch-size", "32", "--device", "cpu",
                              "--no-progress"])
    assert res.exit_code == 0, res.output + str(res.exception)
    arch = json.loads((run / "arch.json").read_text())
    assert set(arch["choices"]) == set(tri.build(TriConfig()).choices)
    shown = runner.invoke(cli, ["show", str(run / "arch.json")])
    assert shown.exit_code == 0, shown.output
    assert "mix       inputs -" in shown.output and f"omega   {arch['choices']['omega!']}(" in shown.output
    drawn = runner.invoke(cli, ["render", str(run / "arch.json"), "--out", str(tmp_path / "a.dot")])
    assert drawn.exit_code == 0, drawn.output
    dot = (tmp_path / "a.dot").read_text()
    assert "omega -> verdict" in dot and "mix -> verdict" in dot
    res = runner.invoke(cli, ["evaluate", str(run / "arch.json"), "--out", str(tmp_path / "eval"),
                              "--epochs", "2", "--batch-size", "32", "--device", "cpu", "--no-progress"])
    assert res.exit_code == 0, res.output + str(res.exception)
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert 0.0 <= metrics["test_acc"] <= 1.0


def test_a_node_of_an_unknown_kind_is_one_line_naming_it(tri) -> None:
    space = tri.build(TriConfig())
    space.graph.nodes["beta"]["kind"] = "gate"
    with pytest.raises(ArchitectureError, match="node 'beta' has kind 'gate'"):
        FusionNetwork(space)


def test_a_step_without_an_op_choice_is_one_line(tri) -> None:
    space = tri.build(TriConfig())
    del space.choices["omega!"]
    with pytest.raises(ArchitectureError, match="step node 'omega': has 2 input choice"):
        FusionNetwork(space)
