"""Pytest plugin with fixtures and checks for automm plugin authors.

Installed with automm (entry point ``pytest11``), so in any test suite::

    def test_my_op(check_fusion_op):
        check_fusion_op(lambda C, L: MyOp(C))          # or check_fusion_op("my-op")

    def test_my_strategy(check_strategy):   # also check_space, check_backbone, check_dataset, check_logger
        check_strategy("my-strategy", temperature=2.0)

    def test_with_temporary_op(automm_register):
        automm_register("fusion_ops", "tmp-op", factory)  # removed after the test
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from torch import nn

from automm.plugins import REGISTRIES

FusionFactory = Callable[[int, int], nn.Module]


def check_fusion_op(op: str | FusionFactory, C: int = 8, L: int = 4, batch: int = 3) -> nn.Module:
    """Assert the fusion-op contract on tiny shapes; return the module.

    ``factory(C, L)`` builds an ``nn.Module``; ``forward(x, y)`` of two ``(B, C, L)`` tensors
    returns a finite ``(B, C, L)`` tensor; backward gives a finite gradient to every trainable
    parameter; the op also works on other C/L.
    """
    from automm import plugins

    factory = plugins.fusion_ops.get(op) if isinstance(op, str) else op
    for c, length in ((C, L), (C * 2, L + 1)):
        module = factory(c, length)
        assert isinstance(module, nn.Module), f"factory returned {type(module).__name__}, not nn.Module"
        x = torch.randn(batch, c, length, requires_grad=True)
        y = torch.randn(batch, c, length, requires_grad=True)
        out = module(x, y)
        assert isinstance(out, torch.Tensor), "forward must return a tensor"
        assert out.shape == (batch, c, length), f"output shape {tuple(out.shape)} != {(batch, c, length)}"
        assert torch.isfinite(out).all(), "output has non-finite values"
        if not out.requires_grad:  # a constant op such as zero
            assert not any(p.requires_grad for p in module.parameters()), "parameters get no gradient"
            continue
        (out * torch.randn_like(out)).sum().backward()
        for name, p in module.named_parameters():
            if p.requires_grad:
                assert p.grad is not None, f"parameter {name} gets no gradient"
                assert torch.isfinite(p.grad).all(), f"parameter {name} has a non-finite gradient"
    return module


def check_strategy(strategy: str | Callable[..., Any], **params: Any) -> None:
    """Assert the strategy contract on a tiny bimodal-deepfake-like space.

    Weights have one entry per candidate in training and evaluation (training weights may have
    one row per example when a batch size is given), evaluation weights are deterministic,
    gradients reach every logit in training, and ``derive`` returns a valid
    architecture; ``state_dict`` round-trips.
    """
    from automm import plugins
    from automm.ir import Tap, build_cell_space
    from automm.ir.space import SpaceConfig
    from automm.strategy import Strategy

    factory = plugins.strategies.get(strategy) if isinstance(strategy, str) else strategy
    strat = factory(**params)
    assert isinstance(strat, Strategy), f"factory returned {type(strat).__name__}, not a Strategy"
    taps = [Tap("a/1", "a", 4), Tap("b/1", "b", 4), Tap("b/2", "b", 4)]
    space = build_cell_space("check", SpaceConfig(), taps, cells=2, steps=2, ops=("x", "y", "z"))
    logits = strat.init_arch_params(space)
    assert set(logits) == set(space.choices), "init_arch_params must give one tensor per choice"
    batch = 3
    for training, size in ((True, None), (True, batch), (False, None), (False, batch)):
        weights = strat.all_weights(space, logits, training, batch=size)
        for name, choice in space.choices.items():
            w, k = weights[name], len(choice.candidates)
            shapes = [(k,), (size, k)] if training and size else [(k,)]
            assert w.shape in shapes, f"{name}: weights of shape {tuple(w.shape)}, expected {shapes}"
            assert torch.isfinite(w).all(), f"{name}: non-finite weights"
    again = strat.all_weights(space, logits, False)
    for name, w in strat.all_weights(space, logits, False).items():
        assert torch.equal(w, again[name]), f"{name}: evaluation weights are not deterministic"
    weights = strat.all_weights(space, logits, True, batch=batch)
    sum((w * torch.randn_like(w)).sum() for w in weights.values()).backward()
    for name, p in logits.items():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"{name}: no gradient reaches the logits"
    arch = strat.derive(space, logits)
    arch.validate(space)
    clone = factory(**params)
    clone.load_state_dict(strat.state_dict())
    assert clone.state_dict() == strat.state_dict(), "state_dict does not round-trip"


def random_architecture(space: Any, seed: int = 0) -> Any:
    """A uniformly random valid :class:`automm.ir.Architecture` of ``space``."""
    import random

    from automm.ir import Architecture

    rng = random.Random(seed)
    picks = {n: rng.choice(c.candidates) for n, c in space.choices.items()}
    return Architecture(space.name, space.config.to_dict(), picks)


def check_space(space: str, **config: Any) -> None:
    """Assert a space builds, its choices are consistent with its graph (every candidate has an
    edge to the choice's node), :class:`automm.nn.FusionNetwork` can read the graph, the supernet
    runs forward and backward on random taps, and a random architecture round-trips through
    arch.json and builds a derived network whose parameters are a subset of the supernet's."""
    from automm import plugins
    from automm.ir import architecture_from_dict
    from automm.ir.space import INPUT
    from automm.nn import FusionNetwork

    definition = plugins.spaces.get(space)
    built = definition.build(definition.config_type(**config))
    assert built.choices, "the space has no choices"
    for choice in built.choices.values():
        assert choice.candidates, f"{choice.name}: no candidates"
        assert choice.node in built.graph, f"{choice.name}: node {choice.node!r} is not in the graph"
        for c in choice.candidates if choice.kind == INPUT else ():
            assert built.graph.has_edge(c, choice.node), f"{choice.name}: no edge {c!r} -> {choice.node!r}"
    taps = {t: torch.randn(3, built.graph.nodes[t]["channels"], 5) for t in built.taps}
    uniform = {n: torch.full((len(c.candidates),), 1 / len(c.candidates))
               for n, c in built.choices.items()}
    supernet = FusionNetwork(built)
    arch = architecture_from_dict(random_architecture(built).to_dict())
    derived = FusionNetwork(built, arch)
    shapes = {k: v.shape for k, v in supernet.state_dict().items()}
    for key, value in derived.state_dict().items():
        assert shapes.get(key) == value.shape, f"derived parameter {key} is not in the supernet"
    for net, weights in ((supernet, uniform), (derived, None)):
        out = net(taps, weights)
        assert out.shape[0] == 3 and torch.isfinite(out).all(), "the network output is not (B, classes)"
        out.sum().backward()


def check_logger(logger: str | Callable[..., Any], run_dir: Any) -> Any:
    """Drive a logger (registered name or factory) through a two-epoch search in ``run_dir`` (a
    temporary directory): settings, epoch records like metrics.jsonl's, result, ``finalize``;
    assert no call raises; return the logger."""
    import warnings
    from pathlib import Path

    from automm import plugins
    from automm.factory import create_space
    from automm.loggers import Logger, LoggerContext, Loggers

    factory = plugins.loggers.get(logger) if isinstance(logger, str) else logger
    made = factory(LoggerContext("search", Path(run_dir), "check"))
    assert isinstance(made, Logger), f"factory returned {type(made).__name__}, not an automm.loggers.Logger"
    followers = Loggers([made])
    space = create_space("bimodal-deepfake", {"C": 8, "L": 2, "cells": 1, "steps": 1})
    setup = {"strategy": {"name": "stgs", "temperature": 10.0},
             "space": {"name": space.name, "config": space.config.to_dict()}, "settings": {"epochs": 2}}
    choices = random_architecture(space).choices
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a logger that raises is switched off with a warning
        with followers.running(setup):
            for epoch in (1, 2):
                followers.log_epoch({
                    "epoch": epoch, "train_loss": 0.7 / epoch, "val_auc": 0.5 + epoch / 10,
                    "temperature": None, "entropy": {"op": 1.0 / epoch},
                    "probabilities": {n: {c: 1 / len(ch.candidates) for c in ch.candidates}
                                      for n, ch in space.choices.items()},
                    "choices": dict(choices)})
            followers.log_result({"val_auc": 0.7, "params": 1000, "stopped": "max-epochs"}, 2)
    return made


def check_backbone(backbone: str | Callable[..., Any], batch: int = 2, **options: Any) -> None:
    """Assert the backbone contract: ``modality``, ``taps`` and ``example_input`` attributes, and a
    forward returning every tap as ``(B, channels, L)``."""
    from automm import plugins

    factory = plugins.backbones.get(backbone) if isinstance(backbone, str) else backbone
    module = factory(**options)
    assert isinstance(module, nn.Module), f"factory returned {type(module).__name__}, not nn.Module"
    for attr in ("modality", "taps", "example_input"):
        assert hasattr(module, attr), f"a backbone needs {attr} (see docs/plugins.md)"
    assert isinstance(module.modality, str) and module.taps, "a backbone needs modality and taps"
    names = [name for name, _ in module.taps]
    assert len(set(names)) == len(names), f"tap names repeat: {names}"
    module.eval()
    with torch.no_grad():
        out = module(module.example_input(batch))
    assert set(out) == {name for name, _ in module.taps}, f"forward returned taps {sorted(out)}"
    for name, channels in module.taps:
        t = out[name]
        assert t.ndim == 3 and t.shape[:2] == (batch, channels), f"{name}: shape {tuple(t.shape)}"
        assert torch.isfinite(t).all(), f"{name}: non-finite features"


def check_dataset(dataset: str | Any, root: Any = None) -> None:
    """Assert a dataset layout detects ``root`` and lists valid, uniquely named samples.

    Without ``root`` the layout writes its own tiny tree with ``example(root)`` into a temporary
    directory; by name, auto-detection (``priority``) must then pick this layout for it.
    """
    import tempfile
    from pathlib import Path

    from automm import plugins
    from automm.data import DatasetLayout
    from automm.data.dataset import detect_layout

    layout = plugins.datasets.get(dataset) if isinstance(dataset, str) else dataset
    assert isinstance(layout, DatasetLayout), "a dataset must have description, detect() and samples()"
    assert isinstance(getattr(layout, "priority", 0), int), "priority must be an int"
    if root is None:
        assert callable(getattr(layout, "example", None)), "without root the layout needs example(root)"
        with tempfile.TemporaryDirectory() as tmp:
            layout.example(Path(tmp))
            check_dataset(layout, tmp)
            if isinstance(dataset, str):
                found = detect_layout(Path(tmp))
                assert found == dataset, f"auto-detection picks {found!r} for the example of {dataset!r}"
        return
    assert layout.detect(Path(root)), f"detect() does not recognise {root}"
    samples = layout.samples(Path(root))
    assert samples, "no samples found"
    ids = [s.id for s in samples]
    assert len(ids) == len(set(ids)), "sample ids must be unique"
    for s in samples:
        assert s.label in (0, 1), f"{s.id}: label {s.label!r}"
        assert s.identities and all(isinstance(i, str) for i in s.identities), f"{s.id}: identities"
        assert Path(s.path).exists(), f"{s.id}: {s.path} does not exist"


@pytest.fixture
def automm_register() -> Iterator[Callable[[str, str, Any], None]]:
    """``register(kind, name, obj)`` into an automm registry for the duration of one test.

    ``kind`` is one of ``strategies``, ``fusion_ops``, ``backbones``, ``spaces``, ``datasets``,
    ``loggers``.
    """
    added: list[tuple[str, str]] = []

    def register(kind: str, name: str, obj: Any) -> None:
        REGISTRIES[kind].list()  # load plugins first so they cannot clash later
        REGISTRIES[kind].register(name, obj, plugin="<test>")
        added.append((kind, name))

    yield register
    for kind, name in added:
        REGISTRIES[kind].unregister(name)


def _as_fixture(check: Callable[..., Any]) -> Any:
    def fixture() -> Callable[..., Any]:
        return check

    fixture.__doc__ = f"The :func:`{check.__name__}` helper as a fixture."
    return pytest.fixture(name=check.__name__)(fixture)


check_fusion_op_fixture = _as_fixture(check_fusion_op)
check_logger_fixture = _as_fixture(check_logger)
check_strategy_fixture = _as_fixture(check_strategy)
check_space_fixture = _as_fixture(check_space)
check_backbone_fixture = _as_fixture(check_backbone)
check_dataset_fixture = _as_fixture(check_dataset)
