"""Derivation: valid architectures with distinct slots, and BM-NAS's pair rule."""

from __future__ import annotations

import itertools

import pytest
import torch
from automm_bmnas import BmnasStrategy
from automm_darts import DartsStrategy
from automm_stgs import StgsStrategy

from automm import plugins


def build(**config):
    definition = plugins.spaces.get("bimodal-deepfake")
    return definition.build(definition.config_type(**config))


def peaked(space, prefs: dict[str, list[str]]) -> dict[str, torch.Tensor]:
    """Logits where each listed choice ranks the listed candidates first, in order."""
    logits = {n: torch.zeros(len(c.candidates)) for n, c in space.choices.items()}
    for name, ranked in prefs.items():
        cands = space.choices[name].candidates
        for rank, cand in enumerate(ranked):
            logits[name][cands.index(cand)] = 5.0 - rank
    return logits


@pytest.mark.parametrize("name", ["stgs", "darts", "bmnas"])
@pytest.mark.parametrize("config", [{}, {"cells": 3, "steps": 3, "image_taps": 2, "audio_taps": 1}])
def test_derive_gives_a_valid_architecture_with_distinct_slots(name, config):
    space = build(**config)
    strategy = plugins.strategies.get(name)()
    for seed in range(4):
        torch.manual_seed(seed)
        logits = {n: torch.randn(len(c.candidates)) for n, c in space.choices.items()}
        arch = strategy.derive(space, logits)
        arch.validate(space)
        assert list(arch.choices) == list(space.choices)
        assert arch.strategy["name"] == name
        for owner, slots in space.input_groups().items():
            picked = [arch[s.name] for s in slots]
            assert len(set(picked)) == len(picked), (owner, picked)


def test_input_groups_pair_the_slots_of_each_cell_and_step(space):
    groups = {owner: [c.name for c in slots] for owner, slots in space.input_groups().items()}
    assert groups["cell/2"] == ["cell/2/in/1", "cell/2/in/2"]
    assert groups["cell/1/step/2"] == ["cell/1/step/2/in/1", "cell/1/step/2/in/2"]
    assert len(groups) == 2 * (1 + 2)


def test_slots_of_a_cell_take_the_best_distinct_pair(space):
    # both slots of cell/1 prefer image/1; the second slot's runner-up is clearly weaker
    logits = peaked(space, {"cell/1/in/1": ["image/1", "image/2"], "cell/1/in/2": ["image/1", "audio/3"]})
    logits["cell/1/in/2"][space.choices["cell/1/in/2"].candidates.index("image/1")] = 8.0
    arch = DartsStrategy().derive(space, logits)
    assert (arch["cell/1/in/1"], arch["cell/1/in/2"]) == ("image/2", "image/1")


def test_ops_are_derived_by_argmax(space):
    logits = peaked(space, {"cell/1/step/1/op": ["attention"], "cell/2/step/2/op": ["concat-fc"]})
    for strategy in (DartsStrategy(), StgsStrategy(), BmnasStrategy()):
        arch = strategy.derive(space, logits)
        assert arch["cell/1/step/1/op"] == "attention" and arch["cell/2/step/2/op"] == "concat-fc"


def test_bmnas_prefers_a_pair_no_earlier_cell_took(space):
    prefs = {"cell/1/in/1": ["image/1"], "cell/1/in/2": ["audio/1"],
             # cell/2 would also take (image/1, audio/1); its best fresh pair is (image/1, audio/2)
             "cell/2/in/1": ["image/1", "image/2"], "cell/2/in/2": ["audio/1", "audio/2"]}
    logits = peaked(space, prefs)
    logits["cell/2/in/2"][space.choices["cell/2/in/2"].candidates.index("audio/2")] = 4.5
    darts = DartsStrategy().derive(space, logits)
    bmnas = BmnasStrategy().derive(space, logits)
    for arch in (darts, bmnas):
        assert (arch["cell/1/in/1"], arch["cell/1/in/2"]) == ("image/1", "audio/1")
    assert (darts["cell/2/in/1"], darts["cell/2/in/2"]) == ("image/1", "audio/1")
    assert (bmnas["cell/2/in/1"], bmnas["cell/2/in/2"]) == ("image/1", "audio/2")


def test_bmnas_prefers_a_pair_no_earlier_step_of_the_cell_took(space):
    # step/1 can only take {in/1, in/2}; step/2 prefers that pair too, but bmnas moves on
    logits = peaked(space, {"cell/1/step/2/in/1": ["cell/1/in/1", "cell/1/step/1"],
                            "cell/1/step/2/in/2": ["cell/1/in/2", "cell/1/step/1"]})
    logits["cell/1/step/2/in/2"][2] = 4.5  # (in/1, step/1) scores above (step/1, in/2)
    darts = DartsStrategy().derive(space, logits)
    bmnas = BmnasStrategy().derive(space, logits)
    assert {darts["cell/1/step/1/in/1"], darts["cell/1/step/1/in/2"]} == {"cell/1/in/1", "cell/1/in/2"}
    assert (darts["cell/1/step/2/in/1"], darts["cell/1/step/2/in/2"]) == ("cell/1/in/1", "cell/1/in/2")
    assert (bmnas["cell/1/step/2/in/1"], bmnas["cell/1/step/2/in/2"]) == ("cell/1/in/1", "cell/1/step/1")


def test_bmnas_falls_back_to_the_best_taken_pair(space):
    slots = space.input_groups()["cell/1/step/2"]
    logits = peaked(space, {"cell/1/step/2/in/1": ["cell/1/step/1", "cell/1/in/1"],
                            "cell/1/step/2/in/2": ["cell/1/in/1"]})
    strategy = BmnasStrategy()
    every_pair = {frozenset(p) for p in itertools.combinations(slots[0].candidates, 2)}
    best = strategy.derive_slots(slots, logits)
    assert best == {"cell/1/step/2/in/1": "cell/1/step/1", "cell/1/step/2/in/2": "cell/1/in/1"}
    assert strategy.derive_slots(slots, logits, avoid=every_pair) == best
    fresh = strategy.derive_slots(slots, logits, avoid={frozenset(best.values())})
    assert set(fresh.values()) != set(best.values())


def test_stgs_derives_from_softmax_of_the_logits_not_the_tempered_one():
    phi = torch.tensor([0.0, 1.0, 3.0])
    for temperature in (0.1, 10.0):
        torch.testing.assert_close(StgsStrategy(temperature=temperature).probabilities(phi),
                                   torch.softmax(phi, -1))
