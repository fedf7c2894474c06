"""Exceptions and warnings raised by skinfluence."""

import numpy as np


class SingularHessianError(np.linalg.LinAlgError, ValueError):
    """The Hessian of the objective is singular or numerically so.

    Typical causes: collinear or constant columns, more parameters than rows in an
    unpenalized fit, perfectly separated classes. Remedies: drop the redundant
    columns, fit with an L2 penalty, or pass ``damping > 0`` to ``influence``.
    """


class UnsupportedEstimatorError(TypeError):
    """The estimator (or its penalty) has no registered influence adapter."""


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped before reaching its tolerance."""
