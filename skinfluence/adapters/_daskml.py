"""Adapters for dask-ml's generalized linear models (imported only when one shows up).

``skinfluence.adapters.get_adapter`` imports this module the first time it meets an
estimator whose class lives in ``dask_ml``, so importing skinfluence never imports
dask-ml. dask-ml fits through dask-glm, whose objective (with ``lam = 1 / C``; the
``lamduh`` of ``solver_kwargs`` wins when given) is::

    estimator                 dask-glm's objective                         normalized penalty
    LogisticRegression        sum_i logloss_i + lam/2 ||theta||^2             lam
    LinearRegression          sum_i (y_i - eta_i)^2 + lam/2 ||theta||^2       lam / 2
    PoissonRegression         sum_i (mu_i - y_i eta_i) + lam/2 ||theta||^2    lam

theta includes the intercept (dask-glm appends a column of ones to X and
penalizes every coordinate), so the intercept is penalized as much as the
coefficients. The solvers ``"newton"`` and ``"gradient_descent"`` ignore the
penalty (lam = 0). l1 and elastic-net penalties are not smooth: refused.
dask-ml's ``fit`` takes no sample weights, so non-unit ``sample_weight`` is
refused. The ``"admm"`` default solver stops early (its tolerances are loose):
the front door's fit check may warn; ``solver="lbfgs"`` converges tightly.
"""

import numpy as np
from dask_ml.linear_model import LinearRegression, LogisticRegression, PoissonRegression

from .._loss import HalfBinomialLoss, HalfPoissonLoss, HalfSquaredError
from .._model import LinearObjective
from ..exceptions import UnsupportedEstimatorError
from ._registry import register_adapter
from ._sklearn import _feature_names, _param_names

_UNPENALIZED_SOLVERS = ("newton", "gradient_descent")


def _penalty_strength(estimator):
    """lam of dask-glm's objective lam/2 ||theta||^2 (0 when the solver ignores it)."""
    if estimator.solver in _UNPENALIZED_SOLVERS:
        return 0.0
    kwargs = {"regularizer": estimator.penalty, "lamduh": 1.0 / estimator.C}
    kwargs.update(estimator.solver_kwargs or {})
    reg = kwargs["regularizer"]
    if reg is None:
        return 0.0
    name = reg if isinstance(reg, str) else getattr(reg, "name", type(reg).__name__)
    if name != "l2":
        raise UnsupportedEstimatorError(
            f"dask-ml {type(estimator).__name__} with penalty={name!r} is not smooth, so "
            "its influence is not defined by the Hessian formulas. Fit with penalty='l2'."
        )
    return float(kwargs["lamduh"])


def _daskml_objective(loss, scale, estimator, X, y, sample_weight, options, classes=None):
    if options:
        raise TypeError(
            f"Unknown option(s) for dask-ml {type(estimator).__name__}: {sorted(options)}."
        )
    s = np.asarray(sample_weight, dtype=np.float64)
    if not np.all(s == 1.0):
        raise ValueError(
            "sample_weight: dask-ml's fit takes no sample weights, so the fitted model "
            "minimized the unweighted objective; pass sample_weight=None."
        )
    coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))
    fit_intercept = bool(estimator.fit_intercept)
    intercept = np.atleast_1d(np.asarray(estimator.intercept_, dtype=np.float64))[:1]
    lam = scale * _penalty_strength(estimator)
    yy = np.asarray(y)
    if yy.dtype.kind not in "biuf":
        raise ValueError(f"y must be numeric for dask-ml's models; got dtype {yy.dtype}.")
    feats = _feature_names(estimator, coef.shape[1])
    return LinearObjective(
        loss, X, yy.astype(np.float64), s, coef, intercept, fit_intercept, penalty=lam,
        intercept_penalty=lam if fit_intercept else 0.0,
        param_names=_param_names(feats, fit_intercept), classes=classes,
    )


@register_adapter(LogisticRegression)
def _daskml_logistic(estimator, X, y, sample_weight, **options):
    """dask-ml LogisticRegression (binary, labels 0/1): log loss, lam = 1/C."""
    return _daskml_objective(HalfBinomialLoss(), 1.0, estimator, X, y, sample_weight, options,
                             classes=np.array([0, 1]))


@register_adapter(LinearRegression)
def _daskml_linear(estimator, X, y, sample_weight, **options):
    """dask-ml LinearRegression: sum of squares (not halved), so lam/2 after halving."""
    return _daskml_objective(HalfSquaredError(), 0.5, estimator, X, y, sample_weight, options)


@register_adapter(PoissonRegression)
def _daskml_poisson(estimator, X, y, sample_weight, **options):
    """dask-ml PoissonRegression: the Poisson negative log-likelihood, lam = 1/C."""
    return _daskml_objective(HalfPoissonLoss(), 1.0, estimator, X, y, sample_weight, options)
