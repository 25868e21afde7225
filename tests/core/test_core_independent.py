"""The core package never imports first-party plugins."""

import ast
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
