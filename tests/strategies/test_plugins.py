"""The strategy plugins: registration, options, parameters, state, optimisers, the supernet."""

from __future__ import annotations

import io

import pytest
import torch
import torch.nn.functional as F
from automm_bmnas import BmnasStrategy
from automm_darts import DartsStrategy
from automm_stgs import StgsStrategy

from automm import plugins
from automm.errors import AutommError
from automm.nn import FusionNetwork


def test_registry_has_the_three_strategies_from_their_plugins():
    for name, cls in (("stgs", StgsStrategy), ("darts", DartsStrategy), ("bmnas", BmnasStrategy)):
        entry = plugins.strategies.entry(name)
        assert entry.obj.load() is cls and entry.plugin == name
        assert cls.name == name == entry.obj.name
        assert entry.obj.options == cls.options, "options known before import must be the class's"


def test_stgs_options_and_record():
    options = {o.name: (o.type, o.default) for o in StgsStrategy.options}
    assert options == {"temperature": (float, 10.0), "samples": (int, 15), "ensemble": (str, "split"),
                       "arch_optimizer": (str, "adamw"), "arch_lr": (float, 0.03),
                       "arch_weight_decay": (float, 1e-3)}
    assert StgsStrategy(temperature="2.5", samples=3, arch_lr="0.01").record() == {
        "name": "stgs", "temperature": 2.5, "samples": 3, "ensemble": "split",
        "arch_optimizer": "adamw", "arch_lr": 0.01, "arch_weight_decay": 1e-3}


@pytest.mark.parametrize(("cls", "lr"), [(DartsStrategy, 3e-3), (BmnasStrategy, 3e-4)])
def test_baselines_have_only_the_architecture_optimiser_options_at_their_settings(cls, lr):
    assert {o.name: o.default for o in cls.options} == {
        "arch_optimizer": "adam", "arch_lr": lr, "arch_weight_decay": 1e-3}


@pytest.mark.parametrize(("name", "params", "message"), [
    ("stgs", {"temprature": 1.0}, "temprature"),
    ("darts", {"temperature": 1.0}, "temperature"),
    ("stgs", {"temperature": 0.0}, "temperature must be > 0"),
    ("stgs", {"samples": 0}, "samples must be >= 1"),
    ("stgs", {"ensemble": "median"}, "ensemble must be one of split, max-soft, max-hard, mean"),
    ("darts", {"arch_optimizer": "sgd"}, "arch_optimizer must be one of adam, adamw"),
    ("stgs", {"arch_lr": 0.0}, "arch_lr must be a finite number > 0"),
    ("bmnas", {"arch_lr": float("nan")}, "arch_lr must be a finite number > 0"),
    ("stgs", {"arch_weight_decay": -1e-3}, "arch_weight_decay must be a finite number >= 0"),
    ("darts", {"arch_weight_decay": float("inf")}, "arch_weight_decay must be a finite number >= 0"),
])
def test_bad_parameters_are_clear_errors(name, params, message):
    with pytest.raises(AutommError, match=message):
        plugins.strategies.get(name)(**params)


def test_state_dict_round_trips_through_a_weights_only_file(space):
    strategy = StgsStrategy(temperature=3.0, samples=4, ensemble="mean")
    buffer = io.BytesIO()
    torch.save(strategy.state_dict(), buffer)
    buffer.seek(0)
    clone = StgsStrategy()
    clone.load_state_dict(torch.load(buffer, weights_only=True))
    assert clone.params == strategy.params
    logits = clone.init_arch_params(space)
    torch.manual_seed(0)
    expected = strategy.all_weights(space, logits, training=True)
    torch.manual_seed(0)
    assert all(torch.equal(w, expected[n]) for n, w in clone.all_weights(space, logits, True).items())
    with pytest.raises(AutommError, match="samples"):
        clone.load_state_dict({"params": {"samples": 0}})


def test_bmnas_optimisers():
    params = [torch.nn.Parameter(torch.zeros(3))]
    arch = BmnasStrategy().arch_optimizer(params)
    assert isinstance(arch, torch.optim.Adam)
    group = arch.param_groups[0]
    assert (group["lr"], group["betas"], group["weight_decay"]) == (3e-4, (0.5, 0.999), 1e-3)
    opt, sched = BmnasStrategy().weight_optimizer(params, epochs=7)
    assert isinstance(opt, torch.optim.Adam)
    assert isinstance(sched, torch.optim.lr_scheduler.CosineAnnealingWarmRestarts)
    lrs = []
    for _ in range(4):
        lrs.append(opt.param_groups[0]["lr"])
        sched.step()
    assert lrs[0] == lrs[1] == lrs[3] == 1e-3 > lrs[2]  # restarts after 1, then 2 epochs


@pytest.mark.parametrize("name", ["stgs", "darts"])
def test_supernet_trains_on_strategy_weights(space, name):
    torch.manual_seed(0)
    strategy = plugins.strategies.get(name)(samples=3) if name == "stgs" else DartsStrategy()
    logits = strategy.init_arch_params(space)
    net = FusionNetwork(space)
    taps = {t: torch.randn(4, space.graph.nodes[t]["channels"], 6) for t in space.taps}
    out = net(taps, strategy.all_weights(space, logits, training=True))
    assert out.shape == (4, 2)
    F.cross_entropy(out, torch.tensor([0, 1, 0, 1])).backward()
    assert all(p.grad is not None and (p.grad != 0).any() for p in logits.values())
