"""Adapters for scikit-learn's linear models.

Each adapter reads a *fitted* estimator and returns the objective it minimized,
in the normalized form of :mod:`skinfluence._model._objective` (scikit-learn 1.9
conventions; s_i = sample_weight_i, S = sum s_i):

=====================  =================================================  ==========================
estimator              scikit-learn's objective                           normalized penalty
=====================  =================================================  ==========================
LinearRegression       sum s_i (y_i - eta_i)^2                            0
Ridge                  sum s_i (y_i - eta_i)^2 + alpha ||w||^2            alpha
LogisticRegression     C sum s_i logloss_i + 1/2 ||w||^2                  1 / C  (C = inf: 0)
Poisson/Gamma/Tweedie  1/(2S) sum s_i deviance_i + alpha/2 ||w||^2        S * alpha, share_i = s_i/S
=====================  =================================================  ==========================

(squared error is written as half squared error, the GLMs' deviance as half
deviance; class weights multiply s_i; liblinear also penalizes the intercept as
a feature of value ``intercept_scaling``.)

L1 and elastic-net LogisticRegression (``l1_ratio`` = r > 0; scikit-learn adds
(1 - r)/2 ||w||^2 + r ||w||_1) are refused unless the adapter option
``active_set=True`` is passed (``skinfluence.influence(est, X, y, active_set=True)``):
binary fits are then analysed on their *active set* of non-zero coefficients,
where the L1 term is linear (zero Hessian) and the L2 strength is (1 - r) / C.
Influence there holds the selected features and their signs fixed.
"""

import numpy as np
from sklearn.linear_model import (
    GammaRegressor,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
    TweedieRegressor,
)
from sklearn.utils.class_weight import compute_class_weight

from .._loss import (
    HalfBinomialLoss,
    HalfGammaLoss,
    HalfMultinomialLoss,
    HalfPoissonLoss,
    HalfSquaredError,
    HalfTweedieLoss,
)
from .._model import LinearObjective
from ..exceptions import UnsupportedEstimatorError
from ._registry import register_adapter


def _feature_names(estimator, n_features):
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) == n_features:
        return [str(c) for c in names]
    return [f"x{j}" for j in range(n_features)]


def _param_names(features, fit_intercept, outputs=None):
    base = (["(Intercept)"] if fit_intercept else []) + list(features)
    if outputs is None:
        return base
    return [f"{o}:{b}" for o in outputs for b in base]


def _single_output_coef(estimator):
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    if coef.ndim == 2 and coef.shape[0] != 1:
        raise UnsupportedEstimatorError(
            f"{type(estimator).__name__} was fitted on a {coef.shape[0]}-column "
            "target; multi-output regression is not supported. Fit one model per "
            "target."
        )
    coef = coef.reshape(1, -1)
    intercept = np.atleast_1d(np.asarray(estimator.intercept_, dtype=np.float64)).ravel()
    return coef, intercept[:1] if intercept.size else np.zeros(1)


def _refuse_positive(estimator):
    if getattr(estimator, "positive", False):
        raise UnsupportedEstimatorError(
            f"{type(estimator).__name__}(positive=True) solved a constrained "
            "problem whose gradient is not zero at the solution; influence is not "
            "defined by the smooth formulas. Refit with positive=False."
        )


def encode_classes(estimator, y, sample_weight):
    """Class positions of y in ``estimator.classes_`` and the effective weights
    (sample weights times the estimator's class weights, as its fit used them).

    ``sample_weight=None`` marks evaluation data: unit weights, no class weights
    (``class_weight="balanced"`` is a property of the training labels; test
    labels that miss a class must not change it, nor fail).

    Raises ValueError naming labels the estimator did not see in fit.
    """
    classes = estimator.classes_
    y = np.asarray(y)
    # classes_ is sorted (scikit-learn takes it from np.unique): one binary search
    # per row both encodes y and finds labels the fit did not see
    y_idx = np.searchsorted(classes, y)
    np.minimum(y_idx, classes.shape[0] - 1, out=y_idx)
    seen = classes[y_idx] == y
    if not np.all(seen):
        unseen = np.unique(y[~seen])
        raise ValueError(
            f"y contains labels not seen during fit: {unseen.tolist()[:10]}; the "
            f"estimator knows {classes.tolist()}."
        )
    if sample_weight is None:
        return y_idx, np.ones(y.shape[0])
    s = np.asarray(sample_weight, dtype=np.float64)
    if getattr(estimator, "class_weight", None) is not None:
        cw = compute_class_weight(estimator.class_weight, classes=classes, y=y, sample_weight=s)
        s = s * cw[y_idx]
    return y_idx, s


def _weights(sample_weight, n):
    """The fit's weights, or unit weights for evaluation data (None)."""
    return np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)


def _regression_target(y):
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise ValueError(f"y must be numeric for a regressor; got dtype {y.dtype}.")
    return y.astype(np.float64)


@register_adapter(LinearRegression)
def _linear_regression(estimator, X, y, sample_weight):
    _refuse_positive(estimator)
    coef, intercept = _single_output_coef(estimator)
    feats = _feature_names(estimator, coef.shape[1])
    objective = LinearObjective(
        HalfSquaredError(), X, _regression_target(y), _weights(sample_weight, X.shape[0]),
        coef, intercept, estimator.fit_intercept,
        param_names=_param_names(feats, estimator.fit_intercept),
    )
    objective.exact_solution = True  # least squares by a direct solver
    return objective


# Ridge solvers that solve the normal equations directly (others iterate to ``tol``)
_RIDGE_DIRECT = ("cholesky", "svd")


@register_adapter(Ridge)
def _ridge(estimator, X, y, sample_weight):
    _refuse_positive(estimator)
    coef, intercept = _single_output_coef(estimator)
    alpha = np.ravel(np.asarray(estimator.alpha, dtype=np.float64))
    if alpha.size != 1:
        raise UnsupportedEstimatorError("Ridge with one alpha per target is not supported.")
    feats = _feature_names(estimator, coef.shape[1])
    objective = LinearObjective(
        HalfSquaredError(), X, _regression_target(y), _weights(sample_weight, X.shape[0]),
        coef, intercept, estimator.fit_intercept, penalty=float(alpha[0]),
        param_names=_param_names(feats, estimator.fit_intercept),
    )
    objective.exact_solution = getattr(estimator, "solver_", None) in _RIDGE_DIRECT
    return objective


def _logistic_penalty(estimator):
    """Return (l2, l1_ratio): the L2 strength in the normalized form and the L1 share.

    scikit-learn minimizes C sum s_i logloss_i + (1 - r)/2 ||w||^2 + r ||w||_1
    (r = l1_ratio); divided by C, the L2 strength is (1 - r) / C (0 when C = inf).
    """
    penalty = getattr(estimator, "penalty", "deprecated")
    l1_ratio = getattr(estimator, "l1_ratio", 0.0)
    C = float(estimator.C)
    if penalty == "deprecated":
        penalty = "l2" if (l1_ratio in (0, None)) else ("l1" if l1_ratio == 1 else "elasticnet")
        if np.isinf(C):
            penalty = None
    if penalty is None or penalty == "none" or np.isinf(C):
        return 0.0, 0.0
    if penalty == "l1":
        return 0.0, 1.0
    if penalty == "elasticnet":
        r = float(l1_ratio)
        return (1.0 - r) / C, r
    return 1.0 / C, 0.0


def _l1_active_set(estimator, coef, intercept, fit_intercept, l1_ratio, active_set):
    """Columns with non-zero coefficients (the L1 active set), or refuse.

    On the active set the L1 term is linear (its gradient is the constant
    l1_ratio/C * sign(w), its Hessian zero), so the objective restricted to those
    coordinates is smooth and the elastic-net's L2 part is all the penalty left.
    Influence there treats the active set and the signs as fixed: a row's effect
    on *which* features are selected is not captured.
    """
    if not active_set:
        raise UnsupportedEstimatorError(
            f"LogisticRegression with an l1 or elastic-net penalty (l1_ratio={l1_ratio:g}) "
            "is not smooth, so its influence is not defined by the Hessian formulas. "
            "Pass active_set=True to analyse the fit on its active set of non-zero "
            "coefficients (the L1 term is linear there; changes of the selected set "
            "are not captured). Otherwise supported: L2 (l1_ratio=0) or unpenalized "
            "(C=np.inf) fits."
        )
    if coef.shape[0] != 1:
        raise UnsupportedEstimatorError(
            "The l1 active-set treatment supports binary LogisticRegression only: a "
            "multinomial l1 fit has a different active set per class. Fit one binary "
            "model per class, or use an L2 penalty."
        )
    active = np.flatnonzero(coef[0] != 0)
    if fit_intercept and estimator.solver == "liblinear" and intercept[0] == 0:
        fit_intercept = False  # liblinear penalizes the intercept with L1 too
    if active.size == 0 and not fit_intercept:
        raise UnsupportedEstimatorError(
            "The l1 fit has no non-zero coefficient (empty active set): there is no "
            "parameter whose influence could be analysed. Use a larger C."
        )
    return active, fit_intercept


@register_adapter(LogisticRegression, options=("active_set",))
def _logistic_regression(estimator, X, y, sample_weight, *, active_set=False):
    """LogisticRegression; ``active_set=True`` accepts l1/elastic-net fits.

    With ``active_set=True`` an l1 or elastic-net binary fit is analysed on its
    active set (see :func:`_l1_active_set`): the objective is built on
    ``X[:, active]`` (``objective.active_features`` holds the column positions,
    ``param_names`` the matching feature names) with the L2 part (1 - l1_ratio)/C.
    """
    if not isinstance(active_set, (bool, np.bool_)):
        raise ValueError(f"active_set must be True or False; got {active_set!r}.")
    pen, l1_ratio = _logistic_penalty(estimator)
    classes = estimator.classes_
    y_idx, s = encode_classes(estimator, y, sample_weight)
    coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(estimator.intercept_, dtype=np.float64))
    fit_intercept = estimator.fit_intercept
    ipen = 0.0
    if estimator.solver == "liblinear" and fit_intercept:
        ipen = pen / float(estimator.intercept_scaling) ** 2
    feats = _feature_names(estimator, coef.shape[1])
    active = None
    if l1_ratio > 0:
        active, fit_intercept = _l1_active_set(
            estimator, coef, intercept, fit_intercept, l1_ratio, active_set
        )
        X = X[:, active]
        coef = coef[:, active]
        feats = [feats[j] for j in active]
    if len(classes) == 2:
        loss = HalfBinomialLoss()
        yy = y_idx.astype(np.float64)
        names = _param_names(feats, fit_intercept)
    else:
        if coef.shape[0] != len(classes):
            raise UnsupportedEstimatorError("One-vs-rest logistic regression is not supported.")
        if estimator.solver == "liblinear":
            raise UnsupportedEstimatorError(
                "liblinear fits one-vs-rest models for multiclass targets; use a "
                "multinomial solver (lbfgs, newton-cg, newton-cholesky, sag, saga)."
            )
        loss = HalfMultinomialLoss(len(classes))
        yy = y_idx
        names = _param_names(feats, fit_intercept, outputs=[str(c) for c in classes])
    objective = LinearObjective(
        loss, X, yy, s, coef, intercept, fit_intercept, penalty=pen,
        intercept_penalty=ipen, param_names=names, classes=classes,
    )
    if active is not None:
        objective.active_features = active
        # the L1 term is linear on the active set: a constant gradient, no curvature
        lam = l1_ratio / float(estimator.C)
        l1 = np.zeros(objective.n_params)
        fi = int(objective.fit_intercept)
        l1[fi:] = lam * np.sign(objective.theta[fi:])
        if fi and estimator.solver == "liblinear":  # liblinear L1-penalizes the intercept
            l1[0] = lam * np.sign(objective.theta[0]) / float(estimator.intercept_scaling)
        objective.l1_gradient = l1
    return objective


def _glm_loss(estimator):
    if isinstance(estimator, PoissonRegressor):
        return HalfPoissonLoss()
    if isinstance(estimator, GammaRegressor):
        return HalfGammaLoss()
    power = float(estimator.power)
    link = estimator.link
    if link == "auto":
        link = "identity" if power <= 0 else "log"
    if power == 1 and link == "log":
        return HalfPoissonLoss()
    if power == 2 and link == "log":
        return HalfGammaLoss()
    if power == 0 and link == "identity":
        return HalfSquaredError()
    return HalfTweedieLoss(power=power, link=link)


@register_adapter(PoissonRegressor, GammaRegressor, TweedieRegressor)
def _glm_regressor(estimator, X, y, sample_weight):
    loss = _glm_loss(estimator)
    coef, intercept = _single_output_coef(estimator)
    s = _weights(sample_weight, X.shape[0])
    S = s.sum()
    alpha = float(estimator.alpha)
    feats = _feature_names(estimator, coef.shape[1])
    return LinearObjective(
        loss, X, _regression_target(y), s, coef, intercept, estimator.fit_intercept,
        penalty=S * alpha, share=(s / S) if alpha > 0 else None,
        param_names=_param_names(feats, estimator.fit_intercept),
    )
