"""A CLI that answers at once, ``automm doctor``, dependencies that fail to load, ``--device auto``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from automm.cli import AutommGroup, cli
from automm.diagnostics import broken_dependency
from automm.train.device import resolve_device

HEAVY = ("torch", "matplotlib", "torchaudio", "torchvision")
VERBS = ("search", "evaluate", "report", "render", "show", "plugins", "plugin", "doctor", "extract",
         "predict", "export", "demo-data", "sweep", "runs")


def python(*code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "\n".join(code)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_help_of_root_and_every_verb_loads_no_torch():
    out = python(
        "import sys, json",
        "from automm.cli import cli",
        "seen = {}",
        f"for verb in [None, *{VERBS!r}]:",
        "    try:",
        "        cli.main([verb, '--help'] if verb else ['--help'], standalone_mode=False)",
        "    except SystemExit:",
        "        pass",
        f"    seen[verb or 'root'] = [m for m in {HEAVY!r} if m in sys.modules]",
        "print(json.dumps(seen))")
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(seen) == {"root", *VERBS}
    assert all(mods == [] for mods in seen.values()), seen


def test_help_lists_the_registry_generated_options():
    """The lazy plugins still give search its strategy and space options."""
    out = CliRunner().invoke(cli, ["search", "--help"])
    assert out.exit_code == 0
    for flag in ("--temperature", "--samples", "--ensemble", "--cells", "--ops"):
        assert flag in out.output
    assert "[default: auto]" in out.output


@pytest.fixture
def broken_av(tmp_path: Path) -> Path:
    """A site-packages directory whose ``av`` fails like a shared library that cannot load."""
    site = tmp_path / "site-packages"
    (site / "av").mkdir(parents=True)
    (site / "av" / "__init__.py").write_text(
        "raise OSError('Could not load this library: /x/site-packages/av/libavcodec.so')\n")
    return site


def test_doctor_passes_here_and_reports_every_check():
    out = CliRunner().invoke(cli, ["doctor", "--json"])
    checks = json.loads(out.output)
    names = [c["name"] for c in checks]
    assert names[:8] == ["torch", "torchaudio", "torchvision", "pyav", "mtcnn", "graphviz", "cuda",
                         "cache-dir"]
    assert {"plugin stgs", "plugin media", "plugin fusion"} <= set(names)
    assert {c["status"] for c in checks} <= {"ok", "warn", "fail"}
    failed = [c for c in checks if c["status"] == "fail"]
    assert out.exit_code == (1 if failed else 0)
    assert not failed, failed


def test_doctor_fails_with_the_fix_when_a_dependency_cannot_load(broken_av, tmp_path):
    env = {"PYTHONPATH": str(broken_av), "AUTOMM_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-m", "automm", "doctor"], capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=120)
    assert out.returncode == 1
    pyav = [line for line in out.stdout.splitlines() if " pyav " in line]
    assert pyav and pyav[0].startswith("FAIL") and "Could not load this library" in pyav[0]
    assert "pip install" in pyav[0]
    torch_line = next(line for line in out.stdout.splitlines() if " torch " in line)
    assert torch_line.startswith("ok")


def test_a_command_whose_dependency_cannot_load_says_so_in_one_line(broken_av, tmp_path):
    out = subprocess.run([sys.executable, "-m", "automm", "demo-data", str(tmp_path / "demo"), "--small"],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(broken_av)},
                         timeout=120)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("automm: error: could not load av (OSError: Could not load this library")
    assert "automm doctor" in lines[0]
    assert not (tmp_path / "demo").exists()


def test_broken_dependency_names_the_package_not_automm(broken_av, monkeypatch):
    monkeypatch.syspath_prepend(str(broken_av))
    monkeypatch.delitem(sys.modules, "av", raising=False)
    with pytest.raises(OSError) as info:
        import av  # noqa: F401
    assert broken_dependency(info.value) == "av"
    assert broken_dependency(ModuleNotFoundError("no", name="nosuchpkg.sub")) == "nosuchpkg"
    assert broken_dependency(OSError("disk full")) is None


def test_only_import_failures_are_blamed_on_a_dependency():
    """An OSError that is not an import (a user file, say) keeps its traceback for the developer;
    a missing package becomes one line."""
    group = AutommGroup("automm")

    @group.command("raise-oserror")
    def raise_oserror():
        raise OSError("disk full")

    @group.command("import-missing")
    def import_missing():
        import nosuchdep_xyz  # noqa: F401

    out = CliRunner().invoke(group, ["raise-oserror"])
    assert isinstance(out.exception, OSError) and str(out.exception) == "disk full"
    out = CliRunner().invoke(group, ["import-missing"])
    assert out.exit_code == 2
    assert out.output.strip() == ("automm: error: could not load nosuchdep_xyz "
                                  "(ModuleNotFoundError: No module named 'nosuchdep_xyz'); "
                                  "run 'automm doctor' to check the installation")


def test_device_auto_picks_cuda_only_when_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto").type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto").type == "cuda"


def test_search_and_evaluate_default_to_auto_and_print_the_device(cache_dir, tiny_args, tmp_path):
    run = tmp_path / "run"
    out = CliRunner().invoke(cli, ["search", "--data", str(cache_dir), "--out", str(run), "--epochs", "1",
                                   "--batch-size", "64", "--no-progress", *tiny_args])
    assert out.exit_code == 0, out.output
    assert "(device cpu)" in out.output.splitlines()[0]
    out = CliRunner().invoke(cli, ["evaluate", str(run / "arch.json"), "--epochs", "1", "--no-progress"])
    assert out.exit_code == 0, out.output
    assert "(device cpu)" in out.output.splitlines()[0]


def test_a_command_of_a_blocked_plugin_names_the_plugin():
    out = subprocess.run([sys.executable, "-m", "automm", "extract", "videos", "--out", "cache"],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "AUTOMM_DISABLE_PLUGINS": "media"})
    assert out.returncode == 2
    line = out.stderr.strip()
    assert "\n" not in line and line.endswith("(see automm plugins)")
    assert line.startswith("automm: error: no command 'extract'; it may belong to a plugin that is not "
                           "loaded: ")
    assert "media (blocked)" in line


def test_a_mistyped_command_gets_the_closest_one():
    out = CliRunner().invoke(cli, ["serch", "--data", "x"])
    assert out.exit_code == 2
    assert out.stderr.strip() == ("automm: error: no command 'serch' (did you mean 'search'?); "
                                  "see automm --help")
