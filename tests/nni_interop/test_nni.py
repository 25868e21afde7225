"""The NNI plugin: without NNI it is listed as unavailable; with it, automm <-> NNI architectures
round-trip over every choice and NNI's one-shot strategies write normal automm run directories.

The tests that need NNI skip only where it is not installed (CI installs ``automm[nni]``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from automm import plugins
from automm.cli import cli
from automm.data.synthetic import make_synthetic_cache
from automm.errors import ArchitectureError
from automm.ir import Architecture, SearchSpace, load_architecture
from automm.ir.architecture import build_space_for
from automm.ir.space import INPUT
from automm.nn import FusionNetwork

TINY = ("--C", "16", "--L", "2", "--cells", "1", "--steps", "1", "--ops", "sum,linear-glu,concat-fc")
WITHOUT_NNI = "import sys; sys.modules['nni'] = None"
"""Prepended to a subprocess: ``import nni`` fails and ``find_spec('nni')`` finds nothing."""


def nni_or_skip() -> None:
    pytest.importorskip("nni", reason="NNI is not installed (pip install 'automm[nni]'); CI installs it")


def automm(*code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "\n".join(code)], capture_output=True, text=True,
                          timeout=300, env=os.environ.copy())


def test_the_plugin_is_declared_as_entry_point_nni():
    names = {ep.name: ep.value for ep in entry_points(group="automm")}
    assert names.get("nni") == "automm_nni", (
        'pyproject.toml needs nni = "automm_nni" under [project.entry-points.automm] (then reinstall)')


def test_without_nni_the_plugin_is_unavailable_and_everything_else_works():
    out = automm(WITHOUT_NNI, "from automm.cli import main", "main(['plugins'])")
    assert out.returncode == 0, out.stderr
    assert re.search(r"^\s*nni\s+unavailable: needs automm\[nni\]$", out.stdout, re.M), out.stdout
    assert "warning" not in out.stderr
    loaded = re.findall(r"^\s*(\S+)\s+loaded$", out.stdout, re.M)
    assert {"fusion", "deepfake", "stgs", "darts", "bmnas"} <= set(loaded)
    out = automm(WITHOUT_NNI, "from automm.cli import main", "main(['nni', 'export', 'bimodal-deepfake'])")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "automm: error: no command 'nni'; it may belong to a plugin that is not loaded: nni (unavailable) "
        "(see automm plugins)"]


def test_doctor_reports_the_unavailable_plugin_with_its_fix():
    out = automm(WITHOUT_NNI, "from automm.diagnostics import check_plugins",
                 "print([(c.status, c.detail, c.fix) for c in check_plugins() if c.name == 'plugin nni'])")
    assert out.returncode == 0, out.stderr
    assert "not loaded: needs automm[nni]" in out.stdout and "install" in out.stdout


def test_help_of_nni_commands_loads_neither_torch_nor_nni():
    nni_or_skip()
    out = automm("import sys",
                 "from automm.cli import cli",
                 "for args in (['--help'], ['nni', '--help'], ['nni', 'search', '--help'], "
                 "['nni', 'export', '--help']):",
                 "    try:",
                 "        cli.main(args, standalone_mode=False)",
                 "    except SystemExit:",
                 "        pass",
                 "print([m for m in ('torch', 'nni', 'pytorch_lightning') if m in sys.modules])")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def _spaces() -> list[SearchSpace]:
    definition = plugins.spaces.get("bimodal-deepfake")
    small = definition.config_type(C=8, L=2, cells=2, steps=2, ops=("sum", "attention", "concat-fc"),
                                   image_taps=2, audio_taps=3)
    return [definition.build(definition.default_config()), definition.build(small)]


@pytest.mark.parametrize("index", [0, 1], ids=["default-space", "small-space"])
def test_every_choice_round_trips_automm_nni_automm(index):
    nni_or_skip()
    from automm_nni import to_architecture, to_model_space, to_sample

    space = _spaces()[index]
    mutables = to_model_space(space).simplify()
    assert sorted(mutables) == sorted(space.choices)  # one mutable per choice, labelled by its name
    base = {name: c.candidates[0] for name, c in space.choices.items()}
    checked = 0
    for name, choice in space.choices.items():
        kind = "CategoricalMultiple" if choice.kind == INPUT else "Categorical"
        assert type(mutables[name]).__name__ == kind
        for candidate in choice.candidates:
            arch = Architecture(space.name, space.config.to_dict(), {**base, name: candidate})
            sample = to_sample(arch, space)
            mutables[name].validate(sample)  # a value NNI's own mutable accepts
            back = to_architecture(space, sample)
            assert dict(back.choices) == dict(arch.choices)
            assert json.loads(json.dumps(sample)) == sample  # the sample is plain JSON
            checked += 1
    assert checked == sum(len(c.candidates) for c in space.choices.values())


def test_the_frozen_nni_model_computes_the_derived_network():
    nni_or_skip()
    from automm_nni import to_architecture, to_model_space

    space = _spaces()[1]
    model_space = to_model_space(space)
    torch.manual_seed(0)
    sample = {label: mutable.random() for label, mutable in model_space.simplify().items()}
    arch = to_architecture(space, sample)
    derived = FusionNetwork(space, arch).eval()
    frozen = model_space.freeze(sample).eval()
    # A frozen LayerChoice is its chosen op: cells.0.steps.1.<op>.w is cells.0.steps.1.w there.
    state = {re.sub(r"(steps\.[^.]+)\.[^.]+\.", r"\1.", k): v for k, v in derived.state_dict().items()}
    missing = set(state) - set(frozen.state_dict())
    assert not missing, missing
    frozen.load_state_dict(state, strict=False)
    taps = {t: torch.randn(3, space.graph.nodes[t]["channels"], 5) for t in space.taps}
    torch.testing.assert_close(frozen(taps), derived(taps))


def test_a_bad_sample_is_one_line_error():
    nni_or_skip()
    from automm_nni import to_architecture

    space = _spaces()[1]
    with pytest.raises(ArchitectureError, match="no value for 'cell/1/in/1'"):
        to_architecture(space, {})
    sample = {name: [0] if c.kind == INPUT else "sum" for name, c in space.choices.items()}
    with pytest.raises(ArchitectureError, match=r"'cell/1/in/1': \[99\] is not \[index\]"):
        to_architecture(space, {**sample, "cell/1/in/1": [99]})
    with pytest.raises(ArchitectureError, match="'cell/1/step/1/op': 'nope' is not one of"):
        to_architecture(space, {**sample, "cell/1/step/1/op": "nope"})


@pytest.fixture(scope="module")
def tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_synthetic_cache(tmp_path_factory.mktemp("nni") / "cache", identities=15, per_identity=6)


@pytest.mark.parametrize("strategy", ["darts", "gumbel", "random", "enas"])
def test_nni_search_writes_a_normal_run_directory(strategy, tiny_cache, tmp_path):
    nni_or_skip()
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["nni", "search", "--strategy", strategy, "--data", str(tiny_cache),
                                      "--out", str(out), "--epochs", "1", "--batch-size", "16", *TINY])
    assert result.exit_code == 0, result.output
    assert "epoch 1/1" in result.output
    arch = load_architecture(out / "arch.json")
    assert arch.strategy["name"] == f"nni-{strategy}" and arch.strategy["epochs"] == 1
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 1 and records[0]["choices"] == dict(arch.choices)
    assert 0 <= records[0]["derived_val_acc"] <= 1
    assert arch.metrics["val_acc"] == records[0]["derived_val_acc"]
    assert (records[0]["temperature"] is not None) == (strategy == "gumbel")
    for verb in (["show", str(out / "arch.json")], ["report", str(out)]):
        shown = CliRunner().invoke(cli, verb)
        assert shown.exit_code == 0, shown.output
    exported = CliRunner().invoke(cli, ["nni", "export", str(out / "arch.json")])
    assert exported.exit_code == 0, exported.output
    from automm_nni import to_architecture

    back = to_architecture(build_space_for(arch), json.loads(exported.output))
    assert dict(back.choices) == dict(arch.choices)
    again = CliRunner().invoke(cli, ["nni", "search", "--data", str(tiny_cache), "--out", str(out), *TINY])
    assert again.exit_code != 0 and f"{out}: already holds a search; choose another --out" in again.output


@pytest.mark.parametrize("strategy", ["darts", "gumbel"])
def test_differentiable_strategies_derive_from_the_argmax_of_nni_logits(strategy):
    """Planted logits decide the architecture (Gumbel-noised probabilities would not, reliably)."""
    nni_or_skip()
    from automm_nni import NniSettings, to_model_space
    from automm_nni.search import derive, make_strategy
    from nni.nas.oneshot.pytorch.supermodule.base import BaseSuperNetModule

    space = _spaces()[1]
    supernet = make_strategy(strategy, NniSettings()).mutate_model(to_model_space(space))
    modules = [m for m in supernet.modules() if isinstance(m, BaseSuperNetModule)]
    assert {m.label for m in modules} == set(space.choices)
    planted = {}
    with torch.no_grad():
        for m in modules:
            alpha = next(iter(m.arch_parameters()))
            k = len(space.choices[m.label].candidates) - 1 - len(planted) % 2  # last or second to last
            alpha.copy_(torch.arange(alpha.numel()).float().eq(k).float() * 5)
            planted[m.label] = space.choices[m.label].candidates[k]

    class OneShot:
        def supernet_modules(self):
            return modules

    arch = derive(space, strategy, OneShot())
    ops = {n: v for n, v in planted.items() if space.choices[n].kind != INPUT}
    assert {n: arch[n] for n in ops} == ops
    for slots in space.input_groups().values():
        names = [c.name for c in slots]
        if len({planted[n] for n in names}) == len(names):  # distinct planted picks are kept
            assert [arch[n] for n in names] == [planted[n] for n in names]
