"""The strategy contract: relaxation of choices into weights, and derivation.

:class:`StrategyOption` needs no torch; the other names load on first use (:mod:`automm._lazy`).
"""

from automm._lazy import lazy_exports
from automm.strategy.options import StrategyOption, arch_options

__getattr__, __dir__ = lazy_exports(__name__, {"Strategy": ".base", "adam": ".base"})
__all__ = ["Strategy", "StrategyOption", "adam", "arch_options"]
