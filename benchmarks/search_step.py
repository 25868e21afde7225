"""Time one weight step and one architecture step of the search on the bimodal-deepfake space.

Prints, per configuration and strategy, the median step times (ms) and the parameter counts of
the supernet and of the fusion network derived from the initial logits (seed 0). Random tap tensors of
ResNet-34 stage widths at L positions stand in for the feature cache.

- weight step: weights from ``all_weights(training=True, batch=B)`` with logits not needing grad, forward,
  cross-entropy, backward, step of the strategy's weight optimiser (Adam) on the network weights
  (:func:`automm.train.bilevel.weight_update`; single-path readings run only the chosen candidates);
- architecture step: weights from the logits (grad on), forward, cross-entropy, backward into the
  logits only (no gradients of network weights), step of the strategy's architecture optimiser.

Usage: ``python benchmarks/search_step.py [--device cpu|cuda] [--repeats 20] [--threads 2]
[--keep-denormals]`` (on CUDA the times include a synchronisation after every step).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from automm import plugins
from automm.nn import FusionNetwork, count_parameters
from automm.train.bilevel import weight_update
from automm.train.device import resolve_device

CONFIGS = (  # (label, space config, batch)
    ("C=128 L=8 taps 4+4 B=96", {"C": 128, "L": 8, "image_taps": 4, "audio_taps": 4}, 96),
    ("C=192 L=16 taps 4+2 B=8", {"C": 192, "L": 16, "image_taps": 4, "audio_taps": 2}, 8),
)
REFERENCE = {  # BM-NAS reference fusion classes, median weight / arch step ms (issue 14)
    "cpu": {CONFIGS[0][0]: (122.0, 199.0), CONFIGS[1][0]: (25.9, 34.0)},
    "cuda": {CONFIGS[0][0]: (23.3, 28.3), CONFIGS[1][0]: (16.5, 18.6)},
}
"""The reference's step times (2 CPU cores; an H100): the ``x ref`` columns are reference time over
this time (above 1: faster than the reference)."""
STRATEGIES = (
    *((f"stgs {ensemble} M={m}", "stgs", {"samples": m, "ensemble": ensemble})
      for ensemble in ("split", "max-soft", "max-hard", "mean") for m in (1, 20)),
    ("darts", "darts", {}),
)
"""Every stgs reading at M = 1 and M = 20 (the cost of a step must not grow with M), and darts."""


def _median_ms(step: Callable[[], None], repeats: int, device: torch.device, warmup: int = 3) -> float:
    def synced() -> None:
        step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        synced()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        synced()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def bench(config: dict, batch: int, strategy_name: str, params: dict, repeats: int,
          device: torch.device, full: bool = False) -> tuple[float, float, int, int, float]:
    """(weight ms, arch ms, derived params, supernet params, CPU use) for one configuration.

    CPU use is the process's CPU time over wall time times threads while stepping: well below
    1 means other processes took the cores and the times are inflated.
    """
    torch.manual_seed(0)
    definition = plugins.spaces.get("bimodal-deepfake")
    space = definition.build(definition.config_type(**config))
    strategy = plugins.strategies.get(strategy_name)(**params)
    logits = strategy.init_arch_params(space)
    derived = FusionNetwork(space, strategy.derive(space, logits))
    logits = {k: nn.Parameter(v.detach().to(device)) for k, v in logits.items()}
    net = FusionNetwork(space).to(device).train()
    taps = {t: torch.randn(batch, space.graph.nodes[t]["channels"], space.config.L, device=device)
            for t in space.taps}
    labels = torch.randint(0, 2, (batch,), device=device)
    w_opt, _ = strategy.weight_optimizer(list(net.parameters()), epochs=1)
    a_opt = strategy.arch_optimizer(list(logits.values()))
    arch_inputs = list(logits.values())
    hard = strategy.single_path and not full

    def weight_step() -> None:
        with torch.no_grad():
            weights = strategy.all_weights(space, logits, training=True, batch=batch)
        weight_update(net, w_opt, taps, labels, weights, F.cross_entropy, hard=hard)

    def arch_step() -> None:
        weights = strategy.all_weights(space, logits, training=True, batch=batch)
        loss = F.cross_entropy(net(taps, weights), labels)
        a_opt.zero_grad(set_to_none=True)
        loss.backward(inputs=arch_inputs)
        a_opt.step()

    cpu, wall = time.process_time(), time.perf_counter()
    w_ms = _median_ms(weight_step, repeats, device)
    a_ms = _median_ms(arch_step, repeats, device)
    use = (time.process_time() - cpu) / ((time.perf_counter() - wall) * torch.get_num_threads())
    return w_ms, a_ms, count_parameters(derived), count_parameters(net), use


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:k]")
    parser.add_argument("--repeats", type=int, default=20, help="timed steps per measurement")
    parser.add_argument("--only", default=None, help="run only strategies whose label contains this")
    parser.add_argument("--full-weight-steps", action="store_true",
                        help="weight steps on the full supernet, every candidate on every example "
                             "(as before single-path routing)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--keep-denormals", action="store_true",
                        help="do not flush denormal floats to zero (slow: saturated attention "
                             "softmaxes and tiny Adam moments produce them)")
    args = parser.parse_args()
    # before the first parallel op, so that the OpenMP worker threads inherit the flag
    flush = not args.keep_denormals and torch.set_flush_denormal(True)
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    header = f"{'config':<26} {'strategy':<20} {'weight ms':>10} {'x ref':>6} {'arch ms':>9} {'x ref':>6} " \
             f"{'derived params':>15} {'supernet params':>16} {'cpu use':>8}"
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{args.threads} threads"
    print(f"torch {torch.__version__}, {where}, median of {args.repeats} steps, "
          f"denormals {'flushed' if flush else 'kept'}"
          f"{', full weight steps' if args.full_weight_steps else ''}")
    print(header)
    print("-" * len(header))
    for label, config, batch in CONFIGS:
        for name, strategy, params in STRATEGIES:
            if args.only and args.only not in name:
                continue
            w_ms, a_ms, derived, supernet, use = bench(config, batch, strategy, params, args.repeats, device,
                                                       args.full_weight_steps)
            ref_w, ref_a = REFERENCE["cuda" if device.type == "cuda" else "cpu"][label]
            print(f"{label:<26} {name:<20} {w_ms:>10.1f} {ref_w / w_ms:>6.2f} {a_ms:>9.1f} "
                  f"{ref_a / a_ms:>6.2f} {derived:>15,} {supernet:>16,} {use:>8.0%}", flush=True)


if __name__ == "__main__":
    main()
