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
def test_max_hard_forward_weights_are_the_multi_hot_mask(record_rand, samples):
    torch.manual_seed(samples)
    phi = torch.randn(7) * 2
    w = StgsStrategy(samples=samples, ensemble="max-hard").weights(choice(7), phi, training=True)
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
    strategy = StgsStrategy(samples=samples, ensemble="max-hard")
    logits = strategy.init_arch_params(space)
    weights = strategy.all_weights(space, logits, training=True)
    widest = max(len(c.candidates) for c in space.choices.values())
    (u,) = record_rand
    assert u.shape == (samples, len(space.choices), widest)
    for row, (name, c) in enumerate(space.choices.items()):
        k = len(c.candidates)
        assert torch.equal(weights[name], one_hot_samples(logits[name].detach(), u[:, row, :k]).amax(0))


@pytest.mark.parametrize("strategy", [StgsStrategy(samples=1), StgsStrategy(samples=15),
                                      StgsStrategy(samples=15, ensemble="max-soft"),
                                      StgsStrategy(samples=15, ensemble="max-hard"),
                                      StgsStrategy(samples=15, ensemble="mean"),
                                      StgsStrategy(temperature=0.5), DartsStrategy()],
                         ids=["stgs-M1", "stgs-M15", "stgs-max-soft", "stgs-max-hard", "stgs-mean",
                              "stgs-lambda0.5", "darts"])
def test_gradients_reach_every_logit(space, strategy):
    torch.manual_seed(1)
    logits = strategy.init_arch_params(space)
    weights = strategy.all_weights(space, logits, training=True, batch=64)
    sum((w * torch.randn_like(w)).sum() for w in weights.values()).backward()
    for name, p in logits.items():
        assert p.grad is not None and (p.grad != 0).all(), name


@pytest.mark.parametrize("ensemble", ["max-hard", "max-soft", "mean"])
def test_straight_through_gradient_is_that_of_the_soft_samples(ensemble):
    strategy = StgsStrategy(samples=8, temperature=2.0, ensemble=ensemble)
    phi = torch.randn(5, requires_grad=True)
    r = torch.randn(5)
    torch.manual_seed(3)
    (strategy.weights(choice(5), phi, training=True) * r).sum().backward()
    torch.manual_seed(3)
    soft, _ = strategy.sample(phi)
    y = soft.mean(0) if ensemble == "mean" else soft.amax(0)
    (expected,) = torch.autograd.grad((y * r).sum(), phi)
    torch.testing.assert_close(phi.grad, expected)


@pytest.mark.parametrize("samples", [1, 7, 15])
def test_max_soft_runs_the_argmax_of_the_largest_soft_sample(record_rand, samples):
    torch.manual_seed(samples)
    phi = torch.randn(5) * 2
    strategy = StgsStrategy(samples=samples, temperature=3.0, ensemble="max-soft")
    w = strategy.weights(choice(5), phi, training=True)
    (u,) = record_rand
    soft = torch.softmax((phi - torch.log(-torch.log(u))) / 3.0, dim=-1)
    assert torch.equal(w, torch.nn.functional.one_hot(soft.amax(0).argmax(), 5).float())


@pytest.mark.parametrize(("samples", "batch"), [(4, 10), (15, 8), (1, 5), (3, 3)])
def test_split_gives_each_group_of_the_batch_its_own_one_hot_architecture(record_rand, samples, batch):
    torch.manual_seed(samples + batch)
    phi = torch.randn(3, 6)  # three choices, drawn together
    w = StgsStrategy(samples=samples, ensemble="split").relax(phi, training=True, batch=batch)
    (u,) = record_rand
    architectures = min(samples, batch)
    assert u.shape == (architectures, 3, 6), "one draw per architecture (M > batch: one per example)"
    assert w.shape == (batch, 3, 6)
    hard = torch.nn.functional.one_hot((phi - torch.log(-torch.log(u))).argmax(-1), 6).float()
    groups = [b * architectures // batch for b in range(batch)]
    for b, m in enumerate(groups):
        assert torch.equal(w[b], hard[m]), f"example {b} must run architecture {m}"
    sizes = torch.bincount(torch.tensor(groups))
    assert len(sizes) == architectures and sizes.max() - sizes.min() <= 1, "groups of nearly equal size"


def test_split_gradient_is_the_mean_of_the_groups_straight_through_estimates():
    strategy = StgsStrategy(samples=4, temperature=2.0, ensemble="split")
    phi = torch.randn(6, requires_grad=True)
    r = torch.randn(8, 6)
    torch.manual_seed(11)
    (strategy.relax(phi, training=True, batch=8) * r).sum().backward()
    torch.manual_seed(11)
    soft, _ = strategy.sample(phi, 4)
    per_example = soft[torch.arange(8) * 4 // 8]
    (expected,) = torch.autograd.grad((per_example * r).sum(), phi)
    torch.testing.assert_close(phi.grad, expected)


def test_the_default_reading_is_single_path(space):
    """Every example goes through exactly one candidate of every choice, as in the derived network."""
    strategy = StgsStrategy()
    assert strategy.params["samples"] == 15 and strategy.params["temperature"] == 10.0
    logits = strategy.init_arch_params(space)
    torch.manual_seed(0)
    for batch in (1, 8, 40):
        weights = strategy.all_weights(space, logits, training=True, batch=batch)
        for name, w in weights.items():
            w = w.expand(batch, -1) if w.dim() == 1 else w
            assert w.shape[0] == batch
            assert torch.equal(w.detach().sum(-1), torch.ones(batch)), name
            assert torch.equal((w.detach() == 1).sum(-1), torch.ones(batch, dtype=torch.long)), name


@pytest.mark.parametrize("ensemble", ["split", "max-soft"])
def test_single_path_readings_keep_both_inputs_of_a_node_apart(space, ensemble):
    """The BM-NAS defect: one mixture fed to both inputs. With uniform logits, the two input slots
    of a step pick the same candidate about 1/K of the time, not always."""
    strategy = StgsStrategy(ensemble=ensemble)
    logits = strategy.init_arch_params(space)
    torch.manual_seed(0)
    slot1, slot2 = "cell/1/step/1/in/1", "cell/1/step/1/in/2"
    k = len(space.choices[slot1].candidates)
    same = 0
    for _ in range(200):
        w = strategy.all_weights(space, logits, training=True, batch=1)
        same += int(torch.equal(w[slot1].detach().reshape(-1), w[slot2].detach().reshape(-1)))
    assert abs(same / 200 - 1 / k) < 0.15


@pytest.mark.parametrize("ensemble", ["split", "max-soft", "max-hard", "mean"])
def test_hard_sample_frequencies_match_the_architecture_probabilities(ensemble):
    """Gumbel-max: with M = 1 every reading draws candidate i with probability softmax(phi)_i
    (split: M = batch, one architecture per example, each an M = 1 draw)."""
    phi = torch.tensor([1.5, 0.2, -0.4, 0.9, -2.0])
    draws = 20000
    strategy = StgsStrategy(samples=draws if ensemble == "split" else 1, ensemble=ensemble)
    torch.manual_seed(0)
    if ensemble == "split":
        w = strategy.relax(phi, training=True, batch=draws)
    else:
        w = torch.stack([strategy.relax(phi, training=True) for _ in range(draws)])
    frequencies = w.detach().mean(0)
    torch.testing.assert_close(frequencies, torch.softmax(phi, -1), rtol=0, atol=0.012)


def test_max_is_the_old_name_of_max_hard():
    strategy = StgsStrategy(ensemble="max")
    assert strategy.params["ensemble"] == "max-hard"
    assert strategy.record()["ensemble"] == "max-hard"


def test_architecture_optimiser_defaults_learn_and_the_papers_setting_is_one_command_away():
    opt = StgsStrategy().arch_optimizer([torch.nn.Parameter(torch.zeros(3))])
    group = opt.param_groups[0]
    assert type(opt) is torch.optim.AdamW, "default: decoupled weight decay"
    assert (group["lr"], group["weight_decay"], group["betas"]) == (0.03, 1e-3, (0.9, 0.999))
    paper = StgsStrategy(arch_optimizer="adam", arch_lr=3e-3).arch_optimizer(
        [torch.nn.Parameter(torch.zeros(3))])
    assert type(paper) is torch.optim.Adam
    assert (paper.param_groups[0]["lr"], paper.param_groups[0]["weight_decay"],
            paper.param_groups[0]["betas"]) == (3e-3, 1e-3, (0.9, 0.999))
    darts = DartsStrategy().arch_optimizer([torch.nn.Parameter(torch.zeros(3))])
    assert type(darts) is torch.optim.Adam and darts.param_groups[0]["betas"] == (0.5, 0.999), \
        "darts keeps its own settings"


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
def test_evaluation_weights_are_the_architecture_probabilities(space, temperature):
    """Eq. 15: no noise, no temperature: softmax(phi) itself."""
    strategy = StgsStrategy(temperature=temperature)
    logits = strategy.init_arch_params(space)
    for p in logits.values():
        p.data.normal_()
    state = torch.get_rng_state()
    first = strategy.all_weights(space, logits, training=False)
    second = strategy.all_weights(space, logits, training=False, batch=5)
    assert torch.equal(torch.get_rng_state(), state), "evaluation must draw no noise"
    for name, c in space.choices.items():
        assert torch.equal(first[name], second[name])
        expected = torch.softmax(logits[name], dim=-1)
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
    first = strategy.all_weights(space, logits, training=True, batch=4)
    state = torch.get_rng_state()
    after = strategy.all_weights(space, logits, training=True, batch=4)
    torch.manual_seed(7)
    assert all(torch.equal(first[n], w) for n, w in strategy.all_weights(space, logits, True, 4).items())
    torch.set_rng_state(state)
    assert all(torch.equal(after[n], w) for n, w in strategy.all_weights(space, logits, True, 4).items())
