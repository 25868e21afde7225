"""Every registered component of every kind, first- or third-party, meets its contract
(like timm's registry-driven tests: a new built-in is tested by being registered)."""

from __future__ import annotations

import pytest

from automm import plugins
from automm.testing import check_backbone, check_dataset, check_fusion_op, check_space, check_strategy


@pytest.mark.parametrize("name", plugins.strategies.list())
def test_strategy(name: str) -> None:
    check_strategy(name)


@pytest.mark.parametrize("name", plugins.fusion_ops.list())
def test_fusion_op(name: str) -> None:
    check_fusion_op(name)


@pytest.mark.parametrize("name", plugins.backbones.list())
def test_backbone(name: str) -> None:
    check_backbone(name)


@pytest.mark.parametrize("name", plugins.spaces.list())
def test_space(name: str) -> None:
    check_space(name)


@pytest.mark.parametrize("name", plugins.datasets.list())
def test_dataset(name: str) -> None:
    if not callable(getattr(plugins.datasets.get(name), "example", None)):
        pytest.skip(f"dataset {name!r} has no example(root) to check on")
    check_dataset(name)


def test_every_first_party_dataset_has_an_example() -> None:
    first_party = [e.name for e in plugins.datasets.entries() if e.plugin == "deepfake"]
    assert first_party and all(callable(getattr(plugins.datasets.get(n), "example", None))
                               for n in first_party)
