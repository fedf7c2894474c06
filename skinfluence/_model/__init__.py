"""The objective a fitted linear model minimized, and its derivatives."""

from ._objective import LinearObjective

__all__ = ["LinearObjective"]
