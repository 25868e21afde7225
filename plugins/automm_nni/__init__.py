"""automm_nni: automm's search spaces as NNI model spaces, and NNI's one-shot strategies on
automm's feature caches (extra ``automm[nni]``).

- :func:`to_model_space` (an ``nni.nas.nn.pytorch.ModelSpace`` whose ``LayerChoice`` and
  ``InputChoice`` mutables are labelled with automm's choice names), :func:`to_sample` and
  :func:`to_architecture` (NNI sample <-> :class:`automm.ir.Architecture`);
- ``automm nni export ARCH_OR_SPACE`` and ``automm nni search --strategy darts|gumbel|random|enas``.

Without NNI (or the packages ``nni.nas`` needs but NNI does not declare) the module still imports
and sets :data:`AUTOMM_UNAVAILABLE`: ``automm plugins`` lists it as unavailable, "needs automm[nni]".
"""

from __future__ import annotations

from importlib.util import find_spec

import automm
from automm._lazy import lazy_exports

REQUIRES = ("nni", "pytorch_lightning", "torchmetrics")
"""Modules the plugin imports (``nni.nas`` needs the last two without declaring them)."""

AUTOMM_UNAVAILABLE = None if all(find_spec(m) is not None for m in REQUIRES) else "needs automm[nni]"
"""Why the plugin is not loaded (see :data:`automm.plugins.UNAVAILABLE`), or None."""

STRATEGIES = ("darts", "gumbel", "random", "enas")
"""NNI one-shot strategies of ``automm nni search``: DARTS, GumbelDARTS, RandomOneShot, ENAS."""

__getattr__, __dir__ = lazy_exports(__name__, {
    "AutommModelSpace": ".space", "to_model_space": ".space", "to_sample": ".space",
    "to_architecture": ".space", "nni_search": ".search", "NniSettings": ".search"})


@automm.hookimpl
def automm_register_commands(cli) -> None:
    """Add ``automm nni`` (export, search)."""
    from automm_nni.cli import nni

    cli.add_command(nni)
