"""Scaffolding of third-party plugin packages (``automm plugin new``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template

from automm.errors import AutommError
from automm.fileio import atomic_path


@dataclass(frozen=True)
class Kind:
    """A kind of component a plugin package can provide."""

    hook: str
    registry: str
    usage: str


KINDS: dict[str, Kind] = {
    "fusion-op": Kind("automm_register_fusion_ops", "fusion ops",
                      "Search with it: `automm search --ops zero,sum,attention,linear-glu,concat-fc,$name`"),
    "strategy": Kind("automm_register_strategies", "strategies",
                     "Search with it: `automm search --strategy $name --temperature 2`"),
    "backbone": Kind("automm_register_backbones", "backbones",
                     "Use it from a space or an extractor: `automm.plugins.backbones.get('$name')()`"),
    "space": Kind("automm_register_spaces", "spaces",
                  "Render it: `automm render --space $name -o space.svg`"),
    "dataset": Kind("automm_register_datasets", "datasets",
                    "Extract it: `automm extract DATASET_DIR --dataset $name --out CACHE_DIR`"),
}

_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def new_plugin(name: str, kind: str, parent: Path) -> Path:
    """Write the package ``automm-NAME`` for a component of ``kind`` under ``parent``."""
    if not _NAME.fullmatch(name):  # match's $ would accept a trailing newline
        raise AutommError(f"invalid plugin name {name!r}: use lower-case kebab-case, e.g. 'my-op'")
    if kind not in KINDS:
        raise AutommError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    dist = f"automm-{name}"
    target = parent / dist
    if target.exists():
        raise AutommError(f"{target}: already exists")
    module = "automm_" + name.replace("-", "_")
    values = {
        "name": name, "dist": dist, "module": module, "kind": kind, "hook": KINDS[kind].hook,
        "registry": KINDS[kind].registry, "Class": "".join(p.title() for p in name.split("-")),
    }
    values["usage"] = Template(KINDS[kind].usage).substitute(values)
    templates = files("automm.scaffold") / "templates"
    layout = {
        "pyproject.toml": templates / "pyproject.toml.tmpl",
        "README.md": templates / "README.md.tmpl",
        f"{module}/__init__.py": templates / kind / "module.py.tmpl",
        f"tests/test_{module}.py": templates / kind / "test.py.tmpl",
    }
    with atomic_path(target, directory=True) as tmp:
        for rel, template in layout.items():
            out = tmp / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(Template(template.read_text()).substitute(values))
    return target


__all__ = ["KINDS", "new_plugin"]
