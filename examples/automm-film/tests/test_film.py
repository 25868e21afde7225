import torch
from automm_film import FiLM


def test_film_contract(check_fusion_op):
    check_fusion_op("film")


def test_film_starts_as_identity_on_x():
    x, y = torch.randn(2, 6, 3), torch.randn(2, 6, 3)
    assert torch.allclose(FiLM(6, 3)(x, y), x)


def test_film_is_conditioned_on_y():
    op = FiLM(4, 2)
    torch.nn.init.normal_(op.to_gamma_beta.weight)
    x = torch.randn(1, 4, 2)
    assert not torch.allclose(op(x, torch.zeros(1, 4, 2)), op(x, torch.ones(1, 4, 2)))
