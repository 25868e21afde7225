"""FiLM fusion for automm: y modulates x feature-wise (Perez et al., 2018).

film(x, y) = gamma(y) * x + beta(y), with gamma and beta linear maps of y over channels,
applied at every position. Inputs and output are ``(B, C, L)``.
"""

from __future__ import annotations

import torch
from torch import nn

import automm


class FiLM(nn.Module):
    """Feature-wise linear modulation of x conditioned on y."""

    def __init__(self, C: int, L: int) -> None:
        super().__init__()
        self.to_gamma_beta = nn.Conv1d(C, 2 * C, kernel_size=1)
        nn.init.zeros_(self.to_gamma_beta.weight)
        with torch.no_grad():  # start as the identity on x: gamma = 1, beta = 0
            self.to_gamma_beta.bias.copy_(torch.cat([torch.ones(C), torch.zeros(C)]))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.to_gamma_beta(y).chunk(2, dim=1)
        return gamma * x + beta


@automm.hookimpl
def automm_register_fusion_ops(register) -> None:
    """Register ``film``."""
    register("film", FiLM)
