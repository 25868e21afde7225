"""One test per hook: an in-process plugin registers a component through it.

``test_every_hook_has_a_test`` keeps this file complete when a hook is added.
"""

from __future__ import annotations

import inspect
import types

import click
import pytest
import torch
from click.testing import CliRunner

import automm
from automm import hookspecs, plugins
from automm.cli import AutommGroup
from automm.errors import PluginError
from automm.plugins import add_plugin_commands, register_plugin, unregister_plugin
from automm.testing import (
    check_backbone,
    check_dataset,
    check_fusion_op,
    check_logger,
    check_space,
    check_strategy,
)

HOOKS = sorted(n for n, _ in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("automm_"))


@pytest.fixture
def plugin():
    """Build a plugin module from hook functions; unregistered after the test."""
    names = []

    def make(name: str, **hooks):
        module = types.ModuleType(name)
        for hook, fn in hooks.items():
            setattr(module, hook, automm.hookimpl(fn))
        register_plugin(module, name)
        names.append(name)
        return module

    yield make
    for name in names:
        unregister_plugin(name)


def test_every_hook_has_a_test():
    missing = [h for h in HOOKS if f"test_{h}" not in globals()]
    assert missing == []


def test_automm_register_fusion_ops(plugin):
    plugin("doubler", automm_register_fusion_ops=lambda register: register(
        "double-sum", lambda C, L: _Double()))
    assert plugins.fusion_ops.entry("double-sum").plugin == "doubler"
    check_fusion_op("double-sum")


class _Double(torch.nn.Module):
    def forward(self, x, y):
        return 2 * (x + y)


def test_automm_register_strategies(plugin):
    from automm.strategy import Strategy

    class Uniform(Strategy):
        name = "uniform"

        def weights(self, choice, logits, training, batch=None):
            return torch.softmax(logits, dim=-1)

    plugin("uniform-plugin", automm_register_strategies=lambda register: register("uniform", Uniform))
    check_strategy("uniform")


def test_automm_register_backbones(plugin):
    class Tiny(torch.nn.Module):
        modality = "signal"
        taps = (("signal/1", 3),)

        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv1d(1, 3, 3)

        def example_input(self, batch):
            return torch.randn(batch, 1, 10)

        def forward(self, x):
            return {"signal/1": self.conv(x)}

    plugin("tiny-backbone", automm_register_backbones=lambda register: register("tiny", Tiny))
    check_backbone("tiny")


def test_automm_register_spaces(plugin):
    definition = plugins.spaces.get("bimodal-deepfake")
    plugin("alias-space", automm_register_spaces=lambda register: register("bimodal-alias", definition))
    check_space("bimodal-alias", C=4, L=2, cells=1)


def test_automm_register_datasets(plugin, tmp_path):
    from automm.data import MediaSample

    class OneVideo:
        description = "a single video"

        def detect(self, root):
            return (root / "one.mp4").exists()

        def samples(self, root):
            return [MediaSample("one.mp4", root / "one.mp4", 0, ("me",))]

    (tmp_path / "one.mp4").write_bytes(b"")
    plugin("one-video", automm_register_datasets=lambda register: register("one-video", OneVideo()))
    check_dataset("one-video", tmp_path)


def test_automm_register_commands(plugin):
    def add(cli):
        @cli.command("greet")
        def greet():
            click.echo("hi")

    plugin("greeter", automm_register_commands=add)
    group = AutommGroup("automm")
    add_plugin_commands(group)
    assert CliRunner().invoke(group, ["greet"]).output == "hi\n"


def test_automm_prepare_data(plugin, tmp_path):
    from automm.data.prepare import resolve_data

    def prepare(data):
        return tmp_path / "made" if data == "synthetic:small" else None

    plugin("maker", automm_prepare_data=prepare)
    assert resolve_data("synthetic:small") == tmp_path / "made"
    with pytest.raises(automm.errors.CacheError, match="neither a feature cache"):
        resolve_data(str(tmp_path / "missing"))


def test_automm_doctor_checks(plugin):
    from automm.diagnostics import FAIL, OK, Check, run_checks

    plugin("probe-checks", automm_doctor_checks=lambda: [Check("probe", OK, "fine")])
    plugin("broken-checks", automm_doctor_checks=lambda: 1 / 0)
    checks = {c.name: c for c in run_checks()}
    assert checks["probe"].status == OK and checks["probe"].detail == "fine"
    assert checks["checks of plugin broken-checks"].status == FAIL
    assert "ZeroDivisionError" in checks["checks of plugin broken-checks"].detail


def test_automm_describe_source(plugin):
    from automm.report.source import SourceDescription, describe_source

    def describe(source):
        return SourceDescription(dataset="the probe set", random_init=("x",)) if "probe" in source else None

    plugin("probe-source", automm_describe_source=describe)
    sentence = describe_source({"probe": 1}).describe("Searched", "c")
    assert sentence == "Searched on the features of the probe set cached in c."
    assert describe_source({"probe": 1}).random_init == ("x",)
    generic = describe_source({"dataset": "d", "weights": "w"})  # no plugin answers: generic
    assert (generic.describe("Searched"), generic.weights, generic.random_init) == (
        "Searched on the features of the d dataset.", "w", ())


def test_unknown_hook_is_refused():
    module = types.ModuleType("typo")
    module.automm_register_fusion_opz = automm.hookimpl(lambda register: None)
    with pytest.raises(PluginError, match="automm_register_fusion_opz"):
        register_plugin(module, "typo")
    from automm.plugins import plugin_manager

    assert not plugin_manager().has_plugin("typo")


def test_automm_register_loggers(plugin, tmp_path):
    from automm.loggers import Logger, LoggerContext, open_loggers

    class Lines(Logger):
        def __init__(self, context):
            self.path = context.run_dir / f"{context.name}.txt"

        def log_metrics(self, metrics, step):
            with self.path.open("a") as f:
                f.write(f"{step} {metrics.get('val_auc', metrics.get('result/val_auc'))}\n")

    plugin("lines-plugin", automm_register_loggers=lambda register: register("lines", Lines))
    assert plugins.loggers.entry("lines").plugin == "lines-plugin"
    check_logger("lines", tmp_path)
    assert (tmp_path / "check.txt").read_text() == "1 0.6\n2 0.7\n2 0.7\n"  # epochs, then the result
    loggers = open_loggers(["lines"], LoggerContext("evaluate", tmp_path, "run"))
    loggers.log_epoch({"epoch": 3, "val_auc": 0.5, "choices": None})
    assert (tmp_path / "run.txt").read_text() == "3 0.5\n"
