"""The random-search baseline: uniform single paths, uniform derivations, logits never trained."""

from __future__ import annotations

from collections import Counter

import torch
from automm_random import RandomStrategy


def test_training_weights_are_uniform_one_hot_draws_per_example(space):
    strategy = RandomStrategy()
    logits = strategy.init_arch_params(space)
    assert strategy.single_path and all(torch.equal(v, torch.zeros_like(v)) for v in logits.values())
    torch.manual_seed(0)
    draws = 6000
    weights = strategy.all_weights(space, logits, training=True, batch=draws)
    for name, choice in space.choices.items():
        w = weights[name].detach()
        k = len(choice.candidates)
        assert w.shape == (draws, k) and torch.equal(w.sum(-1), torch.ones(draws)), name
        torch.testing.assert_close(w.mean(0), torch.full((k,), 1 / k), rtol=0, atol=0.03)


def test_derivations_are_uniform_over_the_valid_architectures(space):
    strategy = RandomStrategy()
    logits = strategy.init_arch_params(space)
    torch.manual_seed(1)
    slots, op = ("cell/1/in/1", "cell/1/in/2"), "cell/1/step/1/op"
    pairs, ops = Counter(), Counter()
    draws = 3000
    for _ in range(draws):
        choices = strategy.derive(space, logits).choices
        pairs[tuple(choices[s] for s in slots)] += 1
        ops[choices[op]] += 1
    k = len(space.choices[slots[0]].candidates)
    assert all(a != b for a, b in pairs) and len(pairs) == k * (k - 1), "every ordered distinct pair"
    assert max(abs(n / draws - 1 / (k * (k - 1))) for n in pairs.values()) < 0.02
    assert len(ops) == len(space.choices[op].candidates)
    assert max(abs(n / draws - 1 / len(ops)) for n in ops.values()) < 0.03
