"""Pytest plugin with fixtures and checks for automm plugin authors.

Installed with automm (entry point ``pytest11``), so in any test suite::

    def test_my_op(check_fusion_op):
        check_fusion_op(lambda C, L: MyOp(C))          # or check_fusion_op("my-op")

    def test_with_temporary_op(automm_register):
        automm_register("fusion_ops", "tmp-op", factory)  # removed after the test
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from torch import nn

from automm.registry import REGISTRIES

FusionFactory = Callable[[int, int], nn.Module]


def check_fusion_op(op: str | FusionFactory, C: int = 8, L: int = 4, batch: int = 3) -> nn.Module:
    """Assert the fusion-op contract on tiny shapes; return the module.

    ``factory(C, L)`` builds an ``nn.Module``; ``forward(x, y)`` of two ``(B, C, L)`` tensors
    returns a finite ``(B, C, L)`` tensor; backward gives a finite gradient to every trainable
    parameter; the op also works on other C/L.
    """
    from automm import registry

    factory = registry.fusion_ops.get(op) if isinstance(op, str) else op
    for c, length in ((C, L), (C * 2, L + 1)):
        module = factory(c, length)
        assert isinstance(module, nn.Module), f"factory returned {type(module).__name__}, not nn.Module"
        x = torch.randn(batch, c, length, requires_grad=True)
        y = torch.randn(batch, c, length, requires_grad=True)
        out = module(x, y)
        assert isinstance(out, torch.Tensor), "forward must return a tensor"
        assert out.shape == (batch, c, length), f"output shape {tuple(out.shape)} != {(batch, c, length)}"
        assert torch.isfinite(out).all(), "output has non-finite values"
        if not out.requires_grad:  # a constant op such as zero
            assert not any(p.requires_grad for p in module.parameters()), "parameters get no gradient"
            continue
        (out * torch.randn_like(out)).sum().backward()
        for name, p in module.named_parameters():
            if p.requires_grad:
                assert p.grad is not None, f"parameter {name} gets no gradient"
                assert torch.isfinite(p.grad).all(), f"parameter {name} has a non-finite gradient"
    return module


@pytest.fixture
def automm_register() -> Iterator[Callable[[str, str, Any], None]]:
    """``register(kind, name, obj)`` into an automm registry for the duration of one test.

    ``kind`` is one of ``strategies``, ``fusion_ops``, ``backbones``, ``spaces``, ``datasets``.
    """
    added: list[tuple[str, str]] = []

    def register(kind: str, name: str, obj: Any) -> None:
        REGISTRIES[kind].list()  # load plugins first so they cannot clash later
        REGISTRIES[kind].register(name, obj, plugin="<test>")
        added.append((kind, name))

    yield register
    for kind, name in added:
        REGISTRIES[kind].unregister(name)


@pytest.fixture(name="check_fusion_op")
def check_fusion_op_fixture() -> Callable[..., nn.Module]:
    """The :func:`check_fusion_op` helper as a fixture."""
    return check_fusion_op
