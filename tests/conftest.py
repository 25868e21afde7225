"""Shared test helpers."""

from __future__ import annotations

import random

import pytest
import torch

from automm import registry
from automm.ir import Architecture, SearchSpace


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


def random_architecture(space: SearchSpace, seed: int = 0) -> Architecture:
    """A uniformly random valid architecture of ``space``."""
    rng = random.Random(seed)
    choices = {n: rng.choice(c.candidates) for n, c in space.choices.items()}
    return Architecture(space.name, space.config.to_dict(), choices)
