"""The core package never imports first-party plugins."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import automm

PLUGIN_PACKAGES = {p.name for p in (Path(automm.__file__).parents[1] / "plugins").iterdir() if p.is_dir()}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_no_plugin():
    assert PLUGIN_PACKAGES, "plugins/ not found"
    offenders = {str(p): sorted(imported_modules(p) & PLUGIN_PACKAGES)
                 for p in Path(automm.__file__).parent.rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_search_on_a_cache_works_with_plugin_media_blocked(tmp_path):
    from automm.data.synthetic import make_synthetic_cache

    cache = make_synthetic_cache(tmp_path / "cache", identities=10, per_identity=4)
    env = {**os.environ, "AUTOMM_DISABLE_PLUGINS": "media", "AUTOMM_CACHE_DIR": str(tmp_path / "user")}
    args = ["search", "--data", str(cache), "--out", str(tmp_path / "run"), "--epochs", "1", "--C", "8",
            "--L", "2", "--cells", "1", "--steps", "1", "--ops", "sum,concat-fc", "--device", "cpu"]
    out = subprocess.run([sys.executable, "-m", "automm", *args], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "run" / "arch.json").is_file()
    demo = subprocess.run([sys.executable, "-m", "automm", "demo-data", str(tmp_path / "demo")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert demo.returncode == 2 and demo.stderr.strip().splitlines() == [
        "automm: error: automm demo-data needs plugin 'media' (listed in AUTOMM_DISABLE_PLUGINS)"]
