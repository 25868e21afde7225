"""examples/automm-film: installed with pip, its op is listed, searched with, and chosen."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from automm.data.synthetic import make_synthetic_cache

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).parents[2] / "examples" / "automm-film"
TINY = ["--C", "16", "--L", "2", "--cells", "1", "--batch-size", "32", "--no-progress"]


@pytest.fixture(scope="module")
def film_venv(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared venv with the example installed from a copy (a build writes build/ and
    *.egg-info beside the sources: never into the source tree)."""
    source = shutil.copytree(EXAMPLE, tmp_path_factory.mktemp("film") / "automm-film",
                             ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([venv, "-m", "pip", "install", "-q", "--no-deps", str(source)], check=True,
                   capture_output=True)
    return venv


def automm(python: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "automm", *args], capture_output=True, text=True, timeout=600)


def test_film_is_listed_and_passes_its_own_tests(film_venv):
    listed = json.loads(automm(film_venv, "plugins", "--json").stdout)
    film = {e["name"]: e for e in listed["fusion_ops"]}["film"]
    assert film["distribution"] == "automm-film"
    tests = subprocess.run([film_venv, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            str(EXAMPLE / "tests")], capture_output=True, text=True)
    assert tests.returncode == 0, tests.stdout + tests.stderr


def test_search_with_film_in_the_pool(film_venv, tmp_path):
    cache = make_synthetic_cache(tmp_path / "cache", identities=20)
    run = automm(film_venv, "search", "--strategy", "stgs", "--data", str(cache),
                 "--out", str(tmp_path / "run"), "--ops", "zero,sum,attention,linear-glu,concat-fc,film",
                 "--epochs", "1", *TINY)
    assert run.returncode == 0, run.stderr
    arch = json.loads((tmp_path / "run" / "arch.json").read_text())
    assert "film" in arch["space"]["config"]["ops"]


def test_film_is_chosen_over_zero(film_venv, tmp_path):
    cache = make_synthetic_cache(tmp_path / "cache", identities=40)
    run = automm(film_venv, "search", "--strategy", "darts", "--data", str(cache),
                 "--out", str(tmp_path / "run"), "--ops", "film,zero", "--steps", "2", "--epochs", "3", *TINY)
    assert run.returncode == 0, run.stderr
    arch = json.loads((tmp_path / "run" / "arch.json").read_text())
    assert "film" in {v for k, v in arch["choices"].items() if k.endswith("/op")}
