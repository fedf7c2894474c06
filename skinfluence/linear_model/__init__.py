"""Drop-in linear models with ``.influence()`` and the mixin that provides it."""

from ._estimators import (
    GammaRegressor,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
    TweedieRegressor,
)
from ._mixin import InfluenceMixin

__all__ = [
    "InfluenceMixin",
    "GammaRegressor",
    "LinearRegression",
    "LogisticRegression",
    "PoissonRegressor",
    "Ridge",
    "TweedieRegressor",
]
