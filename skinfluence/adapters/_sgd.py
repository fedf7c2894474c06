"""Adapters for ``SGDClassifier`` and ``SGDRegressor`` at the objective SGD minimizes.

scikit-learn's stochastic gradient descent takes steps along
``s_i dL(y_i, f_i)/dtheta + alpha dR/dtheta`` for one row i at a time, i uniform;
the objective whose gradient these steps estimate without bias is (n rows,
s_i = sample_weight_i times the class weight)::

    1/n sum_i s_i L(y_i, f_i) + alpha R(w),      R(w) = 1/2 ||w||^2  (penalty="l2")

with the intercept unpenalized. Multiplied by n it is the normalized form
``sum_i s_i L_i + 1/2 (n alpha) ||w||^2``: the penalty is ``n * alpha`` with n the
number of rows of the X passed to ``influence`` (the data the model was trained
on, over all epochs or ``partial_fit`` calls).

=========================  =============================================  =======================
``loss=``                  L(y, f) (y in {-1, +1} for classifiers)        treated as
=========================  =============================================  =======================
``"log_loss"``             log(1 + exp(-y f))                             binomial log loss
``"hinge"``                max(0, 1 - y f)                                SmoothHinge(y f, t),
                                                                          needs ``temperature=t``
``"modified_huber"``       (1 - z)^2 for -1 <= z < 1, -4z below, 0 above  exact (C^1; piecewise
                                                                          quadratic)
``"squared_hinge"``        max(0, 1 - z)^2                                exact (C^1)
``"squared_error"``        1/2 (y - f)^2                                  half squared error
``"huber"``                1/2 r^2 for |r| <= eps, eps |r| - eps^2/2       exact (C^1)
``"squared_epsilon_        max(0, |r| - eps)^2                            exact (C^1)
insensitive"``
=========================  =============================================  =======================

(z = y f, r = y - f.) The piecewise-quadratic losses have a second derivative
everywhere except at their kinks; a row exactly at a kink has measure zero and
gets the one-sided value of the quadratic piece. ``"perceptron"`` and
``"epsilon_insensitive"`` are piecewise *linear* (zero curvature): refused.

Multiclass ``SGDClassifier`` fits K binary one-vs-rest models (class k against
the rest) that share no parameter: the objective is the sum of K binary
objectives, whose Hessian is block diagonal. Class weights in a multiclass fit
weight only the positive rows of each binary problem (scikit-learn passes
``pos_weight=class_weight[k], neg_weight=1``), which a per-row weight cannot
express: that case is refused. ``class_weight="balanced"`` uses scikit-learn's
``compute_class_weight`` on y *without* sample weights, as ``SGDClassifier.fit``
does.

An SGD fit is not at the exact optimum of this objective: its gradient there is
small but not zero (it shrinks with more epochs, a decaying learning rate, or
``average=True``), so influence estimates carry the optimization error too.
``tests/test_sgd.py`` checks the objective against a deterministic solver
(``LogisticRegression(C=1/(n alpha))``, ``Ridge(alpha=n alpha)``, L-BFGS) and
that SGD's parameters approach that optimum.
"""

from types import SimpleNamespace

import numpy as np
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.utils.class_weight import compute_class_weight

from .._loss import (
    BaseLoss,
    HalfBinomialLoss,
    HalfSquaredError,
    OneVsRestSmoothHingeLoss,
    SmoothHingeLoss,
)
from .._loss._link import IdentityLink
from .._model import LinearObjective
from ..exceptions import UnsupportedEstimatorError
from ._registry import register_adapter
from ._sklearn import (
    _feature_names,
    _param_names,
    _regression_target,
    _single_output_coef,
    _weights,
    encode_classes,
)
from ._svm import _check_temperature, _hinge_error

_PIECEWISE_LINEAR = ("perceptron", "epsilon_insensitive")
# the fit check tells how far SGD stopped and never refuses (fit_check="polish" goes on
# to the exact optimum of the same objective)
_SGD_STOPS = "stochastic gradient descent stops near, not at, the optimum of its objective"


class _PiecewiseQuadraticLoss(BaseLoss):
    """C^1 piecewise-quadratic losses of SGD; ``margin=True``: of z = y f, y in {-1, +1},
    else of the residual r = y - f. ``kind`` names scikit-learn's loss."""

    has_variance = False
    fixed_dispersion = True
    link = IdentityLink()

    def __init__(self, kind, epsilon=0.1):
        self.kind = kind
        self.epsilon = float(epsilon)
        self.margin = kind in ("modified_huber", "squared_hinge")

    def _z(self, y, eta):
        return y * eta if self.margin else y - eta

    def _parts(self, z):
        """(loss, dloss/dz, d2loss/dz2)."""
        e = self.epsilon
        if self.kind == "squared_hinge":
            a = np.maximum(0.0, 1.0 - z)
            return a**2, -2.0 * a, 2.0 * (z < 1.0)
        if self.kind == "modified_huber":
            quad = (z >= -1.0) & (z < 1.0)
            a = np.maximum(0.0, 1.0 - z)
            val = np.where(z >= -1.0, a**2, -4.0 * z)
            d = np.where(z >= -1.0, -2.0 * a, -4.0)
            return val, d, 2.0 * quad
        if self.kind == "huber":
            inside = np.abs(z) <= e
            val = np.where(inside, 0.5 * z**2, e * np.abs(z) - 0.5 * e**2)
            return val, np.where(inside, z, e * np.sign(z)), inside.astype(np.float64)
        # squared_epsilon_insensitive
        a = np.maximum(0.0, np.abs(z) - e)
        return a**2, 2.0 * a * np.sign(z), 2.0 * (np.abs(z) > e)

    def loss(self, y, eta):
        return self._parts(self._z(y, eta))[0]

    def gradient(self, y, eta):
        d = self._parts(self._z(y, eta))[1]
        return y * d if self.margin else -d

    def hessian(self, y, eta):
        return self._parts(self._z(y, eta))[2]

    def check_y(self, y):
        super().check_y(y)
        if self.margin and np.any((y != 1) & (y != -1)):
            raise ValueError(f"The {self.kind} loss needs y encoded as -1/+1.")

    def __repr__(self):
        return f"_PiecewiseQuadraticLoss({self.kind!r}, epsilon={self.epsilon!r})"


class _OneVsRestLoss(BaseLoss):
    """Sum over K classes of a binary loss of (y == k) coded (neg, 1); y coded 0..K-1.

    The K binary problems share no parameter: the Hessian blocks are diagonal.
    """

    has_variance = False
    fixed_dispersion = True
    link = IdentityLink()

    def __init__(self, binary, n_classes, neg):
        self.binary = binary
        self.n_outputs = int(n_classes)
        self.neg = float(neg)

    def _Y(self, y, eta):
        Y = np.full(eta.shape, self.neg)
        Y[np.arange(eta.shape[0]), np.asarray(y, dtype=np.intp)] = 1.0
        return Y

    def loss(self, y, eta):
        Y = self._Y(y, eta)
        return self.binary.loss(Y.ravel(), eta.ravel()).reshape(eta.shape).sum(axis=1)

    def gradient(self, y, eta):
        Y = self._Y(y, eta)
        return self.binary.gradient(Y.ravel(), eta.ravel()).reshape(eta.shape)

    def hessian(self, y, eta):
        Y = self._Y(y, eta)
        d = self.binary.hessian(Y.ravel(), eta.ravel()).reshape(eta.shape)
        n, K = d.shape
        h = np.zeros((n, K, K))
        h[:, np.arange(K), np.arange(K)] = d
        return h

    def check_y(self, y):
        y = np.asarray(y)
        if np.any((y < 0) | (y >= self.n_outputs) | (y != np.round(y))):
            raise ValueError(f"y must be coded as integers 0..{self.n_outputs - 1}.")

    def __repr__(self):
        return f"_OneVsRestLoss({self.binary!r}, n_classes={self.n_outputs})"


def _sgd_penalty(estimator, n):
    """Normalized L2 strength n * alpha; refuse L1 parts."""
    penalty = estimator.penalty
    name = type(estimator).__name__
    if penalty is None:
        return 0.0
    if penalty == "l1" or (penalty == "elasticnet" and float(estimator.l1_ratio) > 0):
        raise UnsupportedEstimatorError(
            f"{name}(penalty={penalty!r}) has an L1 term, which is not smooth: influence "
            "is not defined by the Hessian formulas. Supported: penalty='l2' or None "
            "(or 'elasticnet' with l1_ratio=0)."
        )
    return n * float(estimator.alpha)  # elasticnet with l1_ratio=0 is the plain l2


def _refuse_piecewise_linear(estimator):
    loss = estimator.loss
    if loss in _PIECEWISE_LINEAR:
        raise UnsupportedEstimatorError(
            f"{type(estimator).__name__}(loss={loss!r}) is piecewise linear: its second "
            "derivative is zero almost everywhere, so the Hessian is only the penalty and "
            "influence functions are undefined. Supported smooth losses: log_loss, "
            "modified_huber, squared_hinge, squared_error, huber, "
            "squared_epsilon_insensitive; hinge with a temperature."
        )


@register_adapter(SGDClassifier, options=("temperature",))
def _sgd_classifier(estimator, X, y, sample_weight, *, temperature=None):
    _refuse_piecewise_linear(estimator)
    pen = _sgd_penalty(estimator, X.shape[0])
    if estimator.loss in ("squared_error", "huber", "squared_epsilon_insensitive"):
        raise UnsupportedEstimatorError(
            f"SGDClassifier(loss={estimator.loss!r}) (a regression loss on -1/+1 "
            "targets) is not supported; use log_loss, hinge, modified_huber or "
            "squared_hinge."
        )
    if temperature is not None and estimator.loss != "hinge":
        raise TypeError(
            f"temperature applies to SGDClassifier(loss='hinge') only; this one has "
            f"loss={estimator.loss!r}."
        )
    classes = estimator.classes_
    K = len(classes)
    y = np.asarray(y)
    # label positions (unseen labels refused); class weights are applied below, as
    # SGDClassifier computes them (from y alone, not with the sample weights)
    y_idx, s = encode_classes(SimpleNamespace(classes_=classes, class_weight=None), y,
                              sample_weight)
    if estimator.class_weight is not None and sample_weight is not None:
        if K > 2:
            raise UnsupportedEstimatorError(
                "A multiclass SGDClassifier with class_weight weights only the positive "
                "rows of each one-vs-rest problem, which is not one objective with "
                "per-row weights; not supported. Fit without class_weight (pass "
                "sample_weight instead), or fit one binary model per class."
            )
        # as SGDClassifier.fit: class weights from y alone (no sample weights)
        cw = compute_class_weight(estimator.class_weight, classes=classes, y=y)
        s = s * cw[y_idx]
    coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(estimator.intercept_, dtype=np.float64))
    fit_intercept = bool(estimator.fit_intercept)
    feats = _feature_names(estimator, coef.shape[1])
    kind = estimator.loss
    if kind == "hinge":
        if temperature is None:
            raise _hinge_error('SGDClassifier(loss="hinge") needs a temperature')
        t = _check_temperature(temperature, 'SGDClassifier(loss="hinge") with temperature=0')
        binary, neg = SmoothHingeLoss(t), -1.0
    elif kind == "log_loss":
        binary, neg = HalfBinomialLoss(), 0.0
    else:
        binary, neg = _PiecewiseQuadraticLoss(kind), -1.0
    if K == 2:
        loss = binary
        yy = np.where(y_idx == 1, 1.0, neg)
        names = _param_names(feats, fit_intercept)
    else:
        if kind == "hinge":
            loss = OneVsRestSmoothHingeLoss(K, binary.temperature)
        else:
            loss = _OneVsRestLoss(binary, K, neg)
        yy = y_idx
        names = _param_names(feats, fit_intercept, outputs=[str(c) for c in classes])
    objective = LinearObjective(
        loss, X, yy, s, coef, intercept, fit_intercept,
        penalty=pen, param_names=names, classes=classes,
    )
    objective.surrogate = _SGD_STOPS
    return objective


@register_adapter(SGDRegressor)
def _sgd_regressor(estimator, X, y, sample_weight):
    _refuse_piecewise_linear(estimator)
    if estimator.loss == "squared_error":
        loss = HalfSquaredError()
    else:
        loss = _PiecewiseQuadraticLoss(estimator.loss, estimator.epsilon)
    coef, intercept = _single_output_coef(estimator)
    feats = _feature_names(estimator, coef.shape[1])
    objective = LinearObjective(
        loss, X, _regression_target(y), _weights(sample_weight, X.shape[0]), coef, intercept,
        estimator.fit_intercept, penalty=_sgd_penalty(estimator, X.shape[0]),
        param_names=_param_names(feats, estimator.fit_intercept),
    )
    objective.surrogate = _SGD_STOPS
    return objective
