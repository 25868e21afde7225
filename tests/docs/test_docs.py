"""The docs stay true: CLI reference, one plugin-guide section per hook, executable examples."""

from __future__ import annotations

import inspect
import re
import sys
import types
from pathlib import Path

from automm import hookspecs
from automm.cli._reference import render_reference
from automm.plugins import plugin_infos, register_plugin, unregister_plugin
from automm.testing import check_logger, check_strategy

DOCS = Path(__file__).parents[2] / "docs"
HOOKS = sorted(n for n, _ in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("automm_"))


def _without_unavailable_plugins(reference: str) -> str:
    """The reference less the command groups of plugins not loaded here for want of an optional
    extra (``automm nni`` without ``automm[nni]``): docs/cli.md documents every extra."""
    names = "|".join(re.escape(p.name) for p in plugin_infos() if p.status == "unavailable")
    if not names:
        return reference
    sections = re.split(r"(?m)^(?=## )", reference)
    kept = "".join(s for s in sections if not re.match(rf"## automm ({names})\b", s))
    return re.sub(rf"(?m)^  ({names}) .*\n", "", kept)  # its line in the root command list


def test_cli_reference_is_current():
    assert _without_unavailable_plugins((DOCS / "cli.md").read_text()) == render_reference(), (
        "docs/cli.md is stale: python -m automm.cli._reference > docs/cli.md (with every extra installed)")


def test_every_hook_has_a_plugin_guide_section():
    headings = set(re.findall(r"^## (\S+)$", (DOCS / "plugins.md").read_text(), re.M))
    assert [h for h in HOOKS if h not in headings] == []


def example(name: str) -> str:
    text = (DOCS / "plugins.md").read_text()
    match = re.search(rf"<!-- example: {name} -->\n```python\n(.*?)```", text, re.S)
    assert match, f"no example {name!r} in docs/plugins.md"
    return match.group(1)


def test_strategy_example_from_the_guide_works():
    module = types.ModuleType("guide_strategy")
    exec(compile(example("strategy"), "docs/plugins.md", "exec"), module.__dict__)
    register_plugin(module, "guide-strategy")
    try:
        check_strategy("annealed-softmax", temperature=3.0)
        strategy = module.AnnealedSoftmax(temperature=2.0, decay=0.5)
        strategy.on_epoch_end(0)
        assert strategy.current == 1.0
    finally:
        unregister_plugin("guide-strategy")


def test_logger_example_from_the_guide_works(tmp_path, monkeypatch):
    """The MLflow logger of the guide against a stand-in ``mlflow`` module that records its calls."""
    calls = []
    mlflow = types.ModuleType("mlflow")
    for name in ("set_experiment", "start_run", "log_params", "log_metrics", "log_dict", "end_run"):
        setattr(mlflow, name, lambda *args, _name=name, **kwargs: calls.append((_name, args, kwargs)))
    monkeypatch.setitem(sys.modules, "mlflow", mlflow)
    module = types.ModuleType("guide_logger")
    exec(compile(example("logger"), "docs/plugins.md", "exec"), module.__dict__)
    register_plugin(module, "guide-logger")
    try:
        check_logger("mlflow", tmp_path)
    finally:
        unregister_plugin("guide-logger")
    epoch = ["log_metrics", "log_dict"]
    assert [c[0] for c in calls] == ["set_experiment", "start_run", "log_params", *epoch * 2, "log_metrics",
                                     "end_run"]
    assert calls[1][2] == {"run_name": "check/search"} and calls[-1][1] == ("FINISHED",)
    assert calls[3][1:] == (({"train_loss": 0.7, "val_auc": 0.6, "entropy/op": 1.0},), {"step": 1})
