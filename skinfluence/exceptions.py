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


class FitCheckError(ValueError):
    """The fitted parameters are not the optimum of the objective rebuilt from the data.

    The data, their column order or the weights differ from those given to fit,
    X changed after fit, or the solver stopped far from the optimum. See
    ``fit_check`` of :func:`skinfluence.influence`.
    """


class DegenerateFitError(ValueError):
    """The fit is degenerate: separated classes, an essentially perfect or saturated fit.

    Its diagnostics would be rounding noise or undefined; ``fit_check="warn"``
    proceeds anyway.
    """


class FitCheckWarning(UserWarning):
    """The fit is close to, but not at, the optimum of its objective (loose tolerance),
    or is nearly degenerate (quasi-separation)."""
