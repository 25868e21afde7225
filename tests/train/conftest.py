"""Fixtures of the training tests: small synthetic caches with a planted signal."""

from __future__ import annotations

from pathlib import Path

import pytest

from automm.data.synthetic import make_synthetic_cache

PLANTED = ("image/3", "audio/2")


@pytest.fixture(scope="session")
def planted() -> tuple[str, str]:
    """The image tap and the audio tap that carry the signal of :func:`planted_cache`."""
    return PLANTED


@pytest.fixture(scope="session")
def tiny_config() -> dict:
    """A space config small enough for searches of a few seconds. The op pool leaves out zero
    and attention, which cannot express the planted XOR of the two taps: with them a search
    can pick the right taps and still not reach a high AUC in a short retraining."""
    return {"C": 16, "L": 2, "cells": 1, "steps": 1, "ops": ["sum", "linear-glu", "concat-fc"]}


@pytest.fixture(scope="session")
def planted_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """800 samples (480 train) whose label is the XOR of latents planted in image/3 and audio/2."""
    return make_synthetic_cache(tmp_path_factory.mktemp("planted") / "cache", identities=100,
                                signal=PLANTED, seed=0)


@pytest.fixture(scope="session")
def shuffled_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The planted cache with its labels shuffled: nothing predicts them."""
    return make_synthetic_cache(tmp_path_factory.mktemp("shuffled") / "cache", identities=100,
                                signal=PLANTED, shuffle_labels=True, seed=0)


@pytest.fixture(scope="session")
def sum_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Like :func:`planted_cache`, but the label is the sign of the sum of the two latents: each
    planted tap predicts it in part, so a single-path search (one candidate per example) has a
    first-order signal to follow, which the XOR of :func:`planted_cache` withholds."""
    return make_synthetic_cache(tmp_path_factory.mktemp("sum") / "cache", identities=100,
                                signal=PLANTED, signal_kind="sum", seed=0)
