"""Fixtures of the media tests: a tiny real/ + fake/ dataset with broken videos, and its cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from automm_media.extract import ExtractResult, extract
from videokit import TINY, make_folder_dataset


@pytest.fixture(scope="session")
def folder_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str | None]]:
    """A ``real/`` + ``fake/`` dataset and, per video, the expected skip kind (None: usable)."""
    root = tmp_path_factory.mktemp("media") / "dataset"
    return root, make_folder_dataset(root)


@pytest.fixture(scope="session")
def folder_cache(folder_dataset, tmp_path_factory: pytest.TempPathFactory) -> ExtractResult:
    """The dataset extracted with :data:`TINY` settings on the slow path: in this process, one
    video at a time through the backbones."""
    out = tmp_path_factory.mktemp("media") / "cache"
    return extract([folder_dataset[0]], out, settings=TINY, device="cpu", progress=False, workers=1, batch=1)
