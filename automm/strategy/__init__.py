"""The strategy contract: relaxation of choices into weights, and derivation."""

from automm.strategy.base import Strategy, StrategyOption, adam

__all__ = ["Strategy", "StrategyOption", "adam"]
