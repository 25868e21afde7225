"""Relaxations of the stgs and darts strategies: forward weights, gradients, temperature, noise."""

from __future__ import annotations

import pytest
import torch
from automm_darts import DartsStrategy
from automm_stgs import StgsStrategy

from automm.ir import Choice


@pytest.fixture
def record_rand(monkeypatch: pytest.MonkeyPatch) -> list[torch.Tensor]:
    """Every tensor ``torch.rand`` returns while the test runs."""
    draws: list[torch.Tensor] = []
    real = torch.rand

    def rand(*args, **kwargs):
        u = real(*args, **kwargs)
        draws.append(u)
        return u

    monkeypatch.setattr(torch, "rand", rand)
    return draws


def one_hot_samples(phi: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """The hard Gumbel-max samples ``(M, K)`` that uniform noise ``u`` gives, written out."""
    gumbel = -torch.log(-torch.log(u))
    return torch.nn.functional.one_hot((phi + gumbel).argmax(-1), phi.numel()).float()


def choice(k: int) -> Choice:
    return Choice("c", "op", "op", "n", tuple(f"o{i}" for i in range(k)))


@pytest.mark.parametrize("samples", [1, 4, 20])
def test_max_ensemble_forward_weights_are_the_multi_hot_mask(record_rand, samples):
    torch.manual_seed(samples)
    phi = torch.randn(7) * 2
    w = StgsStrategy(samples=samples).weights(choice(7), phi, training=True)
    (u,) = record_rand
    assert u.shape == (samples, 7)
    mask = one_hot_samples(phi, u).amax(0)
    assert torch.equal(w, mask)
    assert 1 <= w.sum() <= samples


@pytest.mark.parametrize("samples", [1, 5, 20])
def test_mean_ensemble_forward_weights_are_the_sample_frequencies(record_rand, samples):
    torch.manual_seed(samples)
    phi = torch.randn(6)
    w = StgsStrategy(samples=samples, ensemble="mean").weights(choice(6), phi, training=True)
    (u,) = record_rand
    counts = one_hot_samples(phi, u).sum(0)
    torch.testing.assert_close(w, counts / samples, rtol=0, atol=1e-7)
    torch.testing.assert_close(w.sum(), torch.tensor(1.0))


@pytest.mark.parametrize("samples", [1, 20])
def test_all_weights_draws_every_choice_in_one_op(space, record_rand, samples):
    torch.manual_seed(0)
    strategy = StgsStrategy(samples=samples)
    logits = strategy.init_arch_params(space)
    weights = strategy.all_weights(space, logits, training=True)
    widest = max(len(c.candidates) for c in space.choices.values())
    (u,) = record_rand
    assert u.shape == (samples, len(space.choices), widest)
    for row, (name, c) in enumerate(space.choices.items()):
        k = len(c.candidates)
        assert torch.equal(weights[name], one_hot_samples(logits[name].detach(), u[:, row, :k]).amax(0))


@pytest.mark.parametrize("strategy", [StgsStrategy(samples=1), StgsStrategy(samples=15),
                                      StgsStrategy(samples=15, ensemble="mean"),
                                      StgsStrategy(temperature=0.5), DartsStrategy()],
                         ids=["stgs-M1", "stgs-M15", "stgs-mean", "stgs-lambda0.5", "darts"])
def test_gradients_reach_every_logit(space, strategy):
    torch.manual_seed(1)
    logits = strategy.init_arch_params(space)
    weights = strategy.all_weights(space, logits, training=True)
    sum((w * torch.randn_like(w)).sum() for w in weights.values()).backward()
    for name, p in logits.items():
        assert p.grad is not None and (p.grad != 0).all(), name


@pytest.mark.parametrize("ensemble", ["max", "mean"])
def test_straight_through_gradient_is_that_of_the_soft_samples(ensemble):
    strategy = StgsStrategy(samples=8, temperature=2.0, ensemble=ensemble)
    phi = torch.randn(5, requires_grad=True)
    r = torch.randn(5)
    torch.manual_seed(3)
    (strategy.weights(choice(5), phi, training=True) * r).sum().backward()
    torch.manual_seed(3)
    soft, _ = strategy.sample(phi)
    y = soft.amax(0) if ensemble == "max" else soft.mean(0)
    (expected,) = torch.autograd.grad((y * r).sum(), phi)
    torch.testing.assert_close(phi.grad, expected)


def test_small_temperature_makes_soft_samples_one_hot():
    phi = torch.randn(100, 6, generator=torch.Generator().manual_seed(0))

    def one_hot_share(temperature: float) -> float:
        """Share of soft samples within 1e-6 of their hard sample."""
        torch.manual_seed(1)
        soft, hard = StgsStrategy(temperature=temperature, samples=10).sample(phi)
        assert soft.shape == hard.shape == (10, 100, 6)
        return float(((soft - hard).abs().amax(-1) < 1e-6).float().mean())

    shares = [one_hot_share(t) for t in (10.0, 0.1, 1e-3, 1e-5)]
    assert shares[0] == 0.0  # at the default temperature they are soft
    assert shares == sorted(shares) and shares[2] > 0.99 and shares[3] > 0.999


def test_hard_samples_do_not_depend_on_the_temperature():
    phi = torch.randn(4, 9)
    torch.manual_seed(5)
    _, cold = StgsStrategy(temperature=0.01).sample(phi)
    torch.manual_seed(5)
    _, hot = StgsStrategy(temperature=100.0).sample(phi)
    assert torch.equal(cold, hot)


@pytest.mark.parametrize("temperature", [10.0, 0.3])
def test_evaluation_weights_are_deterministic_tempered_softmax(space, temperature):
    strategy = StgsStrategy(temperature=temperature)
    logits = strategy.init_arch_params(space)
    for p in logits.values():
        p.data.normal_()
    state = torch.get_rng_state()
    first = strategy.all_weights(space, logits, training=False)
    second = strategy.all_weights(space, logits, training=False)
    assert torch.equal(torch.get_rng_state(), state), "evaluation must draw no noise"
    for name, c in space.choices.items():
        assert torch.equal(first[name], second[name])
        expected = torch.softmax(logits[name] / temperature, dim=-1)
        torch.testing.assert_close(first[name], expected)
        torch.testing.assert_close(strategy.weights(c, logits[name], training=False), expected)


@pytest.mark.parametrize("training", [True, False])
def test_darts_weights_are_the_softmax(space, training):
    strategy = DartsStrategy()
    logits = strategy.init_arch_params(space)
    for p in logits.values():
        p.data.normal_()
    weights = strategy.all_weights(space, logits, training=training)
    for name, c in space.choices.items():
        expected = torch.softmax(logits[name], dim=-1)
        torch.testing.assert_close(weights[name], expected)
        torch.testing.assert_close(strategy.weights(c, logits[name], training=training), expected)


def test_noise_comes_from_the_global_rng(space):
    strategy = StgsStrategy(samples=3)
    logits = strategy.init_arch_params(space)
    torch.manual_seed(7)
    first = strategy.all_weights(space, logits, training=True)
    state = torch.get_rng_state()
    after = strategy.all_weights(space, logits, training=True)
    torch.manual_seed(7)
    assert all(torch.equal(first[n], w) for n, w in strategy.all_weights(space, logits, True).items())
    torch.set_rng_state(state)
    assert all(torch.equal(after[n], w) for n, w in strategy.all_weights(space, logits, True).items())
