import copy
import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automm.cli import cli
from automm.errors import ArchitectureError, AutommError
from automm.ir import Architecture, architecture_from_dict, load_architecture, save_architecture
from automm.testing import random_architecture


def test_round_trip_identical(space, tmp_path):
    arch = random_architecture(space, seed=3).replace(
        strategy={"name": "stgs", "temperature": 10.0, "samples": 15, "seed": 0},
        metrics={"val_auc": 0.75, "params": 1234}, provenance={"automm": "0.1.0"})
    path = tmp_path / "arch.json"
    save_architecture(arch, path)
    again = load_architecture(path)
    assert again == arch
    assert again.to_dict() == arch.to_dict()
    assert json.loads(path.read_text())["format"] == "automm.arch/1"


def test_architecture_is_frozen(space):
    arch = random_architecture(space)
    with pytest.raises(TypeError):
        arch.choices["cell/1/in/1"] = "image/1"  # type: ignore[index]


def _doc(space):
    return random_architecture(space, seed=1).to_dict()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="automm.arch/0"), "unsupported format"),
        (lambda d: d["space"].update(name="no-such-space"), "unknown space 'no-such-space'"),
        (lambda d: d["choices"].update({"cell/9/in/1": "image/1"}), "does not exist"),
        (lambda d: d["choices"].update({"cell/1/in/1": "cell/2"}), "is not a candidate"),
        (lambda d: d["choices"].update({"cell/1/step/1/op": "convolution"}), "is not a candidate"),
        (lambda d: d["choices"].pop("cell/2/step/2/op"), "missing choice"),
        (lambda d: d["space"]["config"].update(cells="two"), "must be an integer"),
        (lambda d: d.update(extra=1), "unknown key"),
    ],
)
def test_malformed_documents(space, mutate, message):
    doc = _doc(space)
    mutate(doc)
    with pytest.raises(AutommError, match=message):
        architecture_from_dict(doc)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"format": "x"}', "unsupported format"),
        ("[]", "top level must be a JSON object"),
    ],
)
def test_show_malformed_file_is_one_line_exit_2(tmp_path, content, message):
    path = tmp_path / "arch.json"
    path.write_text(content)
    result = CliRunner().invoke(cli, ["show", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and message in lines[0]


def test_show_missing_file(tmp_path):
    result = CliRunner().invoke(cli, ["show", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_show_summary(space, tmp_path):
    arch = random_architecture(space, seed=5).replace(strategy={"name": "darts"}, metrics={"val_acc": 0.5})
    save_architecture(arch, tmp_path / "a.json")
    result = CliRunner().invoke(cli, ["show", str(tmp_path / "a.json")])
    assert result.exit_code == 0, result.output
    assert f"cell/1    inputs {arch['cell/1/in/1']}, {arch['cell/1/in/2']}" in result.output
    assert arch["cell/2/step/2/op"] in result.output and "strategy  name=darts" in result.output
    as_json = CliRunner().invoke(cli, ["show", str(tmp_path / "a.json"), "--json"])
    assert json.loads(as_json.output) == arch.to_dict()


def test_show_prints_no_python_reprs(space, tmp_path):
    arch = random_architecture(space, seed=5).replace(
        strategy={"name": "stgs", "temperature": 10.0},
        metrics={"val_auc": 0.123456, "test_auc": None,
                 "class_counts": {"train": {"real": 32, "fake": 48}, "val": {"real": 8, "fake": 12}}})
    save_architecture(arch, tmp_path / "a.json")
    result = CliRunner().invoke(cli, ["show", str(tmp_path / "a.json")])
    assert result.exit_code == 0, result.output
    assert not set("[]{}'") & set(result.output), result.output
    assert "ops=" + ",".join(arch.config["ops"]) in result.output
    assert "val_auc=0.1235, test_auc=n/a, class_counts=train (real 32, fake 48), val (real 8, fake 12)" in (
        result.output)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
def test_any_valid_architecture_round_trips(space, seed):
    arch = random_architecture(space, seed)
    assert architecture_from_dict(json.loads(json.dumps(arch.to_dict()))) == arch


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_loader_never_crashes_on_mutations(space, data):
    """Any mutation of a valid document either loads or raises ArchitectureError-like AutommError."""
    doc = copy.deepcopy(_doc(space))
    path = data.draw(st.sampled_from([
        ("format",), ("space",), ("space", "name"), ("space", "config"), ("space", "config", "C"),
        ("space", "config", "ops"), ("choices",), ("choices", "cell/1/in/2"), ("strategy",), ("metrics",)]))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(json_values)
    try:
        arch = architecture_from_dict(doc)
    except AutommError:
        return
    assert isinstance(arch, Architecture)


def test_selection_error_names_candidates(space):
    doc = _doc(space)
    doc["choices"]["cell/1/step/1/in/1"] = "image/1"
    with pytest.raises(ArchitectureError, match="candidates: cell/1/in/1, cell/1/in/2"):
        architecture_from_dict(doc)
