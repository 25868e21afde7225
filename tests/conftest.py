"""Shared test helpers."""

from __future__ import annotations

import pytest
import torch

from automm import registry
from automm.ir import SearchSpace


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """Tiny networks run fastest (and steadiest on shared cores) on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def space() -> SearchSpace:
    """The bimodal-deepfake space with a tiny config."""
    definition = registry.spaces.get("bimodal-deepfake")
    return definition.build(definition.config_type(C=8, L=4))
