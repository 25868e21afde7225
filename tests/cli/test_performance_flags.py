"""``--precision bf16`` and ``--compile``: a tiny search (and evaluation) runs with each on the CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner, Result

from automm import plugins
from automm.cli import cli
from automm.nn import FusionNetwork
from automm.train.steps import weight_update


def _run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("flags", [pytest.param(("--precision", "bf16"), id="bf16"),
                                   pytest.param(("--compile",), id="compile", marks=pytest.mark.slow)])
def test_a_tiny_search_runs_with_each_performance_flag(cache_dir: Path, tiny_args: tuple[str, ...],
                                                       tmp_path: Path, flags: tuple[str, ...]) -> None:
    run = tmp_path / "run"
    result = _run("search", "--data", cache_dir, "--out", run, "--epochs", 1, "--batch-size", 32,
                  "--device", "cpu", *tiny_args, *flags)
    assert result.exit_code == 0, result.output
    settings = torch.load(run / "checkpoint.pt", weights_only=True)["setup"]["settings"]
    assert (settings["precision"], settings["compile"]) == (
        ("bf16", False) if "bf16" in flags else ("fp32", True))
    assert json.loads((run / "arch.json").read_text())["metrics"]["val_auc"] is not None
    if "bf16" in flags:
        result = _run("evaluate", run / "arch.json", "--epochs", 1, "--precision", "bf16")
        assert result.exit_code == 0, result.output
        assert json.loads((run / "eval" / "metrics.json").read_text())["test_auc"] is not None


@pytest.mark.parametrize("hard", [False, True])
def test_bf16_steps_compute_in_bfloat16(hard: bool) -> None:
    definition = plugins.spaces.get("bimodal-deepfake")
    space = definition.build(definition.config_type(C=8, L=2, cells=1, steps=2))
    net = FusionNetwork(space).train()
    strategy = plugins.strategies.get("stgs")(samples=3)
    weights = strategy.all_weights(space, strategy.init_arch_params(space), training=True, batch=6)
    taps = {t: torch.randn(6, space.graph.nodes[t]["channels"], 4) for t in space.taps}
    optimizer = torch.optim.Adam(net.parameters())
    before = [p.detach().clone() for p in net.parameters()]
    loss, logits = weight_update(net, optimizer, taps, torch.randint(0, 2, (6,)),
                                 {k: v.detach() for k, v in weights.items()}, F.cross_entropy,
                                 hard=hard, precision="bf16")
    assert logits.dtype == torch.bfloat16 and loss.dtype == torch.float32 and torch.isfinite(loss)
    assert all(p.dtype == torch.float32 for p in net.parameters())
    assert any(not torch.equal(a, p) for a, p in zip(before, net.parameters(), strict=True))
