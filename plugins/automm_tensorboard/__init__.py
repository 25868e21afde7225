"""automm_tensorboard: the ``tensorboard`` logger (extra ``automm[tensorboard]``).

``automm search --logger tensorboard`` writes, live (flushed every epoch), every number of each
metrics.jsonl record as a scalar, each candidate's probability per choice, and the derived
architecture as an image; ``automm evaluate`` and ``automm sweep`` take ``--logger tensorboard``
too (see :func:`automm_tensorboard.logger.log_dir` for where the event files go).

Without TensorBoard the module still imports and sets :data:`AUTOMM_UNAVAILABLE`: ``automm plugins``
lists it as unavailable, "needs automm[tensorboard]".
"""

from __future__ import annotations

from importlib.util import find_spec

import automm
from automm.registry import LazyComponent

AUTOMM_UNAVAILABLE = None if find_spec("tensorboard") is not None else "needs automm[tensorboard]"
"""Why the plugin is not loaded (see :data:`automm.plugins.UNAVAILABLE`), or None."""


@automm.hookimpl
def automm_register_loggers(register) -> None:
    """The ``tensorboard`` logger (imports torch's SummaryWriter on first use)."""
    register("tensorboard", LazyComponent("automm_tensorboard.logger:TensorBoardLogger"))
