"""Fixtures of the reliability tests: a tiny cache, a searched arch.json and an evaluation,
each copied per test so a test may break its copy."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from faults import ACCEPTED, run_cli

from automm.data.synthetic import make_synthetic_cache

TINY = ("--C", "8", "--L", "2", "--cells", "1", "--steps", "1", "--ops", "sum,concat-fc")


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``cache/`` (48 samples), ``run/arch.json`` (1-epoch search) and ``run/eval`` (1 epoch)."""
    root = tmp_path_factory.mktemp("reliability")
    make_synthetic_cache(root / "cache", identities=12, per_identity=4, channels=(8, 8, 8, 8))
    outcome = run_cli(["search", "--data", root / "cache", "--out", root / "run", "--epochs", 1,
                       "--batch-size", 16, *TINY], allow_success=True)
    assert outcome.kind == ACCEPTED, outcome
    outcome = run_cli(["evaluate", root / "run" / "arch.json", "--epochs", 1, "--batch-size", 16],
                      allow_success=True)
    assert outcome.kind == ACCEPTED, outcome
    return root


@pytest.fixture
def copy(pristine: Path, tmp_path: Path) -> Callable[[str], Path]:
    """``copy("cache")``: a private copy of one pristine item (a file or a directory)."""
    def make(name: str) -> Path:
        src, dst = pristine / name, tmp_path / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
        return dst

    return make


@pytest.fixture(scope="session")
def tiny() -> tuple[str, ...]:
    """Space options of a search that takes a fraction of a second: :data:`TINY`."""
    return TINY
