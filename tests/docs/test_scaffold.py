"""`automm plugin new` writes packages that install and pass their own tests unmodified."""

from __future__ import annotations

import subprocess

import pytest
from click.testing import CliRunner

from automm.cli import cli
from automm.scaffold import KINDS

pytestmark = pytest.mark.slow


def test_each_kind_installs_and_passes_its_test(tmp_path, venv):
    runner = CliRunner()
    packages = []
    for kind in KINDS:
        result = runner.invoke(cli, ["plugin", "new", f"my-{kind}", "--kind", kind, "--dir", str(tmp_path)])
        assert result.exit_code == 0, result.output
        packages.append(tmp_path / f"automm-my-{kind}")
    subprocess.run([venv, "-m", "pip", "install", "-q", "--no-deps", *map(str, packages)],
                   check=True, capture_output=True)
    listed = subprocess.run([venv, "-m", "automm", "plugins"], capture_output=True, text=True, check=True)
    for kind in KINDS:
        assert f"my-{kind}" in listed.stdout
    tests = subprocess.run([venv, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            *[str(p / "tests") for p in packages]], capture_output=True, text=True)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert f"{len(KINDS)} passed" in tests.stdout


def test_existing_folder_and_bad_name_are_one_line_errors(tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["plugin", "new", "dup", "--dir", str(tmp_path)]).exit_code == 0
    again = runner.invoke(cli, ["plugin", "new", "dup", "--dir", str(tmp_path)])
    assert again.exit_code == 2 and "already exists" in again.stderr
    for name in ("Bad Name", "abc\n", "abc\x1b"):
        bad = runner.invoke(cli, ["plugin", "new", name, "--dir", str(tmp_path)])
        assert bad.exit_code == 2 and "invalid plugin name" in bad.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["automm-dup"]
