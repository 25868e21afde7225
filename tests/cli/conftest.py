"""Fixtures of the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from automm.data.synthetic import make_synthetic_cache

TINY_ARGS = ("--C", "16", "--L", "2", "--cells", "1", "--steps", "1", "--ops", "sum,linear-glu,concat-fc")
"""Space options of a search that takes a fraction of a second per epoch."""


@pytest.fixture(scope="session")
def tiny_args() -> tuple[str, ...]:
    """:data:`TINY_ARGS`."""
    return TINY_ARGS


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic cache (320 samples, 4 + 4 taps)."""
    return make_synthetic_cache(tmp_path_factory.mktemp("cli") / "cache", identities=40)
