"""The fusion-op check catches a wrong op; the paper's ops compute Table 1 (every registered op is
checked in tests/core/test_registry_contracts.py)."""

import pytest
import torch

from automm import plugins
from automm.testing import check_fusion_op


def test_check_catches_wrong_shape():
    class Bad(torch.nn.Module):
        def forward(self, x, y):
            return torch.cat([x, y], dim=1)

    with pytest.raises(AssertionError, match="output shape"):
        check_fusion_op(lambda C, L: Bad())


def test_paper_ops_compute_table_1():
    x, y = torch.randn(2, 4, 3), torch.randn(2, 4, 3)
    ops = {n: plugins.fusion_ops.get(n)(4, 3) for n in ("zero", "sum", "attention")}
    assert torch.equal(ops["zero"](x, y), torch.zeros_like(x))
    assert torch.allclose(ops["sum"](x, y), x + y)
    attn = torch.softmax(x.transpose(1, 2) @ y / 2.0, dim=-1)  # (B, Lq, Lk), sqrt(C) = 2
    assert torch.allclose(ops["attention"](x, y), (attn @ y.transpose(1, 2)).transpose(1, 2), atol=1e-6)
