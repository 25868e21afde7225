"""Strategy options: parameters a strategy exposes as ``--<name>`` on ``automm search``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StrategyOption:
    """A strategy parameter exposed as ``--<name>`` on ``automm search``."""

    name: str
    type: type
    default: Any
    help: str
