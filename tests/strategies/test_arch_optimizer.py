"""The architecture optimiser as configured (coupled vs decoupled weight decay, checked against one
step computed by hand) and what M amounts to at a batch size."""

from __future__ import annotations

import pytest
import torch
from automm_stgs import StgsStrategy

LR, DECAY, GRAD = 3e-3, 1e-3, -1e-4  # a straight-through gradient smaller than decay * logit


def _one_step(**params) -> tuple[torch.optim.Optimizer, float]:
    logit = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))
    opt = StgsStrategy(arch_lr=LR, arch_weight_decay=DECAY, **params).arch_optimizer([logit])
    logit.grad = torch.full((1,), GRAD, dtype=torch.float64)
    opt.step()
    return opt, float(logit.detach())


def test_adam_adds_weight_decay_to_the_gradient_before_normalising():
    opt, value = _one_step(arch_optimizer="adam")
    assert type(opt) is torch.optim.Adam and opt.param_groups[0]["weight_decay"] == DECAY
    coupled = GRAD + DECAY * 1.0  # the L2 term outweighs the gradient: the logit moves to zero
    expected = 1.0 - LR * coupled / (abs(coupled) + 1e-8)  # Adam's first step: lr * g / (|g| + eps)
    assert value == pytest.approx(expected, rel=0, abs=1e-12)
    assert value < 1.0


def test_adamw_decays_the_logit_apart_from_the_normalised_gradient():
    opt, value = _one_step(arch_optimizer="adamw")
    assert type(opt) is torch.optim.AdamW and opt.param_groups[0]["weight_decay"] == DECAY
    expected = 1.0 * (1 - LR * DECAY) - LR * GRAD / (abs(GRAD) + 1e-8)
    assert value == pytest.approx(expected, rel=0, abs=1e-12)
    assert value > 1.0, "the gradient, however small, moves the logit"


@pytest.mark.parametrize(("ensemble", "samples", "batch", "runs"), [
    ("split", 15, 8, 8), ("split", 4, 8, 4), ("split", 8, 8, 8), ("max-soft", 15, 8, 15)])
def test_effective_samples_and_the_note_when_the_batch_caps_m(ensemble, samples, batch, runs):
    strategy = StgsStrategy(ensemble=ensemble, samples=samples)
    assert strategy.search_record(batch) == {"effective_samples": runs}
    notes = strategy.notes(batch)
    if runs < samples:
        assert notes == [f"stgs: samples M={samples} > batch {batch}: each step runs {batch} "
                         "architectures (one per example)"]
    else:
        assert notes == []
