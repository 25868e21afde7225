"""Fixtures of the logger tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from automm.data.synthetic import make_synthetic_cache


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic cache (320 samples, 4 + 4 taps)."""
    return make_synthetic_cache(tmp_path_factory.mktemp("loggers") / "cache", identities=40)
