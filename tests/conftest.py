"""Shared test helpers."""

from __future__ import annotations

import site
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from automm import plugins
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
    definition = plugins.spaces.get("bimodal-deepfake")
    return definition.build(definition.config_type(C=8, L=4))


def make_venv(root: Path) -> Path:
    """A venv at ``root`` that sees every package of the environment running the tests, also
    when that is itself a venv (``--system-site-packages`` alone reaches only the base
    interpreter's); returns its python. Packages installed into it come first."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    outer = "".join(f"import site; site.addsitedir({d!r})\n" for d in site.getsitepackages())
    (Path(purelib) / "_automm_tests_outer_env.pth").write_text(outer)
    return python


@pytest.fixture
def venv_factory(tmp_path: Path) -> Callable[[], Path]:
    """Make a fresh venv (see :func:`make_venv`) under the test's tmp_path."""
    return lambda: make_venv(tmp_path / "venv")


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One shared venv's python, for tests that pip-install packages (not into this process)."""
    return make_venv(tmp_path_factory.mktemp("venv"))
