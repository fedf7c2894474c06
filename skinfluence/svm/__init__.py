"""Support vector machines whose influence can be trusted (smoothed hinge)."""

from ._classes import SmoothHingeSVC

__all__ = ["SmoothHingeSVC"]
