"""Losses: per-sample loss, derivatives in the linear predictor, links, variances."""

from ._hinge import OneVsRestSmoothHingeLoss, SmoothHingeLoss  # noqa: F401
from ._link import BaseLink, IdentityLink, LogitLink, LogLink
from ._loss import (
    BaseLoss,
    HalfBinomialLoss,
    HalfGammaLoss,
    HalfMultinomialLoss,
    HalfPoissonLoss,
    HalfSquaredError,
    HalfTweedieLoss,
)

__all__ = [
    "BaseLink",
    "IdentityLink",
    "LogLink",
    "LogitLink",
    "BaseLoss",
    "HalfSquaredError",
    "HalfBinomialLoss",
    "HalfMultinomialLoss",
    "HalfPoissonLoss",
    "HalfGammaLoss",
    "HalfTweedieLoss",
    "SmoothHingeLoss",
    "OneVsRestSmoothHingeLoss",
]
