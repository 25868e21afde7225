"""Shared test helpers."""

from __future__ import annotations

import os
import shlex
import site
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


@dataclass
class Stopped:
    """What an interrupted ``automm`` process left: its exit status, stdout and stderr lines."""

    returncode: int
    stdout: str
    stderr: list[str]

    def suggested(self, prefix: str) -> list[str]:
        """The arguments of the command the last stderr line suggests after ``prefix`` (without
        the leading ``automm``)."""
        line = self.stderr[-1]
        assert prefix in line, line
        words = shlex.split(line.split(prefix, 1)[1])
        assert words[0] == "automm", line
        return words[1:]


def _interrupt(args: Sequence[str | Path], ready: str | Callable[[], bool], signals: Sequence[int],
               cwd: Path | None = None) -> Stopped:
    """Run ``automm ARGS`` in a subprocess, send it ``signals`` once it is running (it printed a
    line starting with ``ready``, or ``ready()`` became true) and wait for its end."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}  # one thread, as the tests
    process = subprocess.Popen([sys.executable, "-m", "automm", *map(str, args)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    assert process.stdout is not None
    lines = []
    if isinstance(ready, str):
        for line in process.stdout:
            lines.append(line)
            if line.startswith(ready):
                break
    else:
        while process.poll() is None and not ready():
            time.sleep(0.02)
    assert process.poll() is None, "the command ended before it was interrupted"
    for signum in signals:
        process.send_signal(signum)
    out, err = process.communicate(timeout=600)
    return Stopped(process.returncode, "".join(lines) + out,
                   [e for e in err.splitlines() if e.startswith("automm: ") and ": note: " not in e])


@pytest.fixture
def interrupt() -> Callable[..., Stopped]:
    """:func:`_interrupt`: interrupt a real ``automm`` process with real signals."""
    return _interrupt
