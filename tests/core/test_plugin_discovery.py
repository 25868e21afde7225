"""Plugin discovery through entry points, blocking, and failure reporting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PLUGIN_SOURCE = '''
import torch
import automm

class Product(torch.nn.Module):
    def forward(self, x, y):
        return x * y

@automm.hookimpl
def automm_register_fusion_ops(register):
    register("product", lambda C, L: Product())
'''


def fake_install(site: Path, dist: str, entry: str, module: str, source: str) -> None:
    """An installed distribution as importlib.metadata sees it: a module plus a dist-info."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"  # wheel-style escaped name
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[automm]\n{entry} = {module}\n")


def run_automm(site: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(site), **(env or {})}
    full_env.pop("AUTOMM_DISABLE_PLUGINS", None) if env is None else None
    return subprocess.run([sys.executable, "-m", "automm", *args], capture_output=True, text=True,
                          env=full_env, timeout=120)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    fake_install(tmp_path, "automm-product", "product-plugin", "automm_product", PLUGIN_SOURCE)
    return tmp_path


def test_third_party_fusion_op_is_listed_and_usable(site):
    out = run_automm(site, "plugins", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    ops = {e["name"]: e for e in report["fusion_ops"]}
    assert ops["product"]["plugin"] == "product-plugin"
    assert ops["product"]["distribution"] == "automm-product"
    assert {"strategies", "fusion_ops", "backbones", "spaces", "datasets", "plugins"} <= set(report)
    code = ("from automm import plugins; from automm.testing import check_fusion_op; "
            "check_fusion_op('product'); print(plugins.fusion_ops.get('product')(4, 2))")
    usable = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(site)}, timeout=120)
    assert usable.returncode == 0, usable.stderr
    assert "Product()" in usable.stdout


def test_disabled_plugin_is_absent(site):
    out = run_automm(site, "plugins", "--json", env={"AUTOMM_DISABLE_PLUGINS": "other,product-plugin"})
    report = json.loads(out.stdout)
    assert "product" not in {e["name"] for e in report["fusion_ops"]}
    status = {p["name"]: p["status"] for p in report["plugins"]}
    assert status["product-plugin"] == "blocked"
    assert "zero" in {e["name"] for e in report["fusion_ops"]}


def test_broken_plugins_are_reported_not_fatal(tmp_path):
    fake_install(tmp_path, "automm-broken", "broken", "automm_broken", "raise ImportError('no numpy 9')\n")
    fake_install(tmp_path, "automm-typo", "typo", "automm_typo", """
        import automm

        @automm.hookimpl
        def automm_register_fusion_opz(register):
            pass
        """)
    out = run_automm(tmp_path, "plugins", "--json")
    assert out.returncode == 0, out.stderr
    plugins = {p["name"]: p for p in json.loads(out.stdout)["plugins"]}
    assert plugins["broken"]["status"] == "failed" and "no numpy 9" in plugins["broken"]["reason"]
    assert plugins["typo"]["status"] == "failed"
    assert "automm_register_fusion_opz" in plugins["typo"]["reason"]
    assert "plugin 'broken' not loaded" in out.stderr
    assert "zero" in {e["name"] for e in json.loads(out.stdout)["fusion_ops"]}


def test_plugin_can_add_a_command(tmp_path):
    fake_install(tmp_path, "automm-hello", "hello", "automm_hello", """
        import click
        import automm

        @automm.hookimpl
        def automm_register_commands(cli):
            @cli.command()
            def hello():
                '''Say hello.'''
                click.echo("hello from a plugin")
        """)
    out = run_automm(tmp_path, "hello")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "hello from a plugin"


@pytest.mark.slow
def test_pip_installed_plugin_package(tmp_path, venv_factory):
    """The real thing: pip install a plugin package into a venv that sees automm."""
    pkg = tmp_path / "pkg"
    (pkg / "automm_product").mkdir(parents=True)
    (pkg / "automm_product" / "__init__.py").write_text(PLUGIN_SOURCE)
    (pkg / "pyproject.toml").write_text(textwrap.dedent("""
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "automm-product"
        version = "1.0"
        [project.entry-points.automm]
        product-plugin = "automm_product"
        """))
    py = venv_factory()
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", str(pkg)],
                   check=True, capture_output=True)
    listed = subprocess.run([py, "-m", "automm", "plugins"], capture_output=True, text=True, check=True)
    assert "product" in listed.stdout and "automm-product" in listed.stdout
