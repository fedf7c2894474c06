"""Adapters for linear SVMs: SmoothHingeSVC, and LinearSVC(loss="hinge") through the
smoothed hinge of Koh & Liang (2017).

=====================================  =====================================================  =========================================
estimator                              objective                                              normalized penalty
=====================================  =====================================================  =========================================
SmoothHingeSVC(C, temperature=t)       1/2 ||w||^2 + C sum s_i SmoothHinge(y_i f_i, t)        1/C, intercept unpenalized
LinearSVC(C, loss="hinge")             1/2 ||(w, b * c)||^2 + C sum s_i hinge(y_i f_i)        1/C, intercept 1/(C c^2), c = intercept_scaling
=====================================  =====================================================  =========================================

(class weights multiply s_i; multiclass fits are one-vs-rest: one output per
class, y_ik = +1 for class k and -1 otherwise.)

The hinge has no second derivative, so a ``LinearSVC(loss="hinge")`` is analysed
at its fitted parameters with the hinge replaced by SmoothHinge(., t) for a
``temperature`` t the caller chooses (Koh & Liang, section 4.1): its Hessian is
then defined and the influence formulas apply. The fitted parameters are not
the exact minimizer of the smoothed objective, so the estimates are
approximations whose quality is measured in examples/svm_influence_accuracy.py.
"""

import numpy as np
from sklearn.svm import LinearSVC

from .._loss import OneVsRestSmoothHingeLoss, SmoothHingeLoss
from .._model import LinearObjective
from ..exceptions import UnsupportedEstimatorError
from ._registry import register_adapter
from ._sklearn import _feature_names, _param_names, encode_classes

_HINT = (
    "Pass a small positive temperature, e.g. skinfluence.influence(estimator, X, y, "
    "temperature=0.1) or SmoothHingeSVC(temperature=0.1): influence estimates are "
    "accurate on the scale of the temperature (Pearson r >= 0.95 from t = 0.1 on "
    "digits 1 vs 7), rough for t <= 0.01."
)


def _hinge_error(what):
    return ValueError(
        f"{what}: the hinge loss max(0, 1 - y f) has no second derivative (it is 0 "
        "almost everywhere and infinite at the margin), so the Hessian is only the "
        "penalty and influence functions are undefined (Koh & Liang 2017 measured "
        "Pearson r far below the smoothed hinge's for the hinge itself). " + _HINT
    )


def _check_temperature(t, what):
    try:
        t = float(t)
    except (TypeError, ValueError):
        raise ValueError(f"temperature must be a number, got {t!r}.") from None
    if not np.isfinite(t) or t < 0:
        raise ValueError(f"temperature must be a finite number >= 0, got {t!r}.")
    if t == 0:
        raise _hinge_error(what)
    return t


def _svm_objective(estimator, X, y, sample_weight, t, intercept_penalty):
    y_idx, s = encode_classes(estimator, y, sample_weight)
    classes = estimator.classes_
    coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(estimator.intercept_, dtype=np.float64))
    fit_intercept = bool(estimator.fit_intercept)
    feats = _feature_names(estimator, coef.shape[1])
    if len(classes) == 2:
        loss = SmoothHingeLoss(t)
        yy = 2.0 * y_idx - 1.0
        names = _param_names(feats, fit_intercept)
    else:
        loss = OneVsRestSmoothHingeLoss(len(classes), t)
        yy = y_idx
        names = _param_names(feats, fit_intercept, outputs=[str(c) for c in classes])
    return LinearObjective(
        loss, X, yy, s, coef, intercept, fit_intercept, penalty=1.0 / float(estimator.C),
        intercept_penalty=intercept_penalty if fit_intercept else 0.0, param_names=names,
        classes=classes,
    )


# named, not imported: skinfluence.svm is an estimator package, above the adapters
@register_adapter("skinfluence.svm._classes.SmoothHingeSVC")
def _smooth_hinge_svc(estimator, X, y, sample_weight):
    t = float(estimator.temperature)
    if t == 0:
        raise _hinge_error("SmoothHingeSVC(temperature=0) fitted the plain hinge")
    return _svm_objective(estimator, X, y, sample_weight, t, 0.0)


@register_adapter(LinearSVC, options=("temperature",))
def _linear_svc(estimator, X, y, sample_weight, *, temperature=None):
    if getattr(estimator, "penalty", "l2") != "l2":
        raise UnsupportedEstimatorError(
            "LinearSVC with an l1 penalty is not smooth; supported: "
            'LinearSVC(penalty="l2", loss="hinge") with a temperature.'
        )
    if getattr(estimator, "multi_class", "ovr") != "ovr":
        raise UnsupportedEstimatorError(
            "LinearSVC(multi_class='crammer_singer') is not supported; use the "
            "default one-vs-rest."
        )
    if estimator.loss != "hinge":
        raise UnsupportedEstimatorError(
            f"LinearSVC(loss={estimator.loss!r}) is not supported: fit "
            'LinearSVC(loss="hinge") and pass a temperature, or use '
            "skinfluence.svm.SmoothHingeSVC."
        )
    if temperature is None:
        raise _hinge_error('LinearSVC(loss="hinge") needs a temperature')
    t = _check_temperature(temperature, 'LinearSVC(loss="hinge") with temperature=0')
    C = float(estimator.C)
    ipen = (1.0 / C) / float(estimator.intercept_scaling) ** 2
    objective = _svm_objective(estimator, X, y, sample_weight, t, ipen)
    objective.surrogate = (
        f'LinearSVC(loss="hinge") is analysed through the smoothed hinge at '
        f"temperature={t:g}: its parameters minimize the hinge, not this surrogate "
        "(Koh & Liang's approximation)"
    )
    return objective
