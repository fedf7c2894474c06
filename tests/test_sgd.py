"""SGDClassifier / SGDRegressor adapters: the objective SGD minimizes.

An SGD fit is never exactly at the optimum, so the objective is verified where an
independent deterministic solver puts the optimum of the *same* objective:
LogisticRegression(C = 1/(n alpha)), Ridge(alpha = n alpha),
SmoothHingeSVC(C = 1/(n alpha)), scipy L-BFGS on losses written here from
scikit-learn's Cython loss objects. The adapter's gradient must vanish there, and
a long averaged SGD run must land close to it.
"""


import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import (
    LogisticRegression,
    Ridge,
    SGDClassifier,
    SGDRegressor,
    _sgd_fast,
)
from sklearn.preprocessing import scale

import skinfluence
from skinfluence.adapters._sgd import _PiecewiseQuadraticLoss
from skinfluence.exceptions import UnsupportedEstimatorError
from skinfluence.svm import SmoothHingeSVC


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return scale(X)[:300], y[:300]


def _at(obj, theta):
    return obj.with_theta(np.ravel(theta))


def _rel_grad(obj):
    """max |gradient| relative to the data term's scale (sum of |per-row gradients|)."""
    g = obj.gradient()
    scale_ = np.abs(obj.eta_gradient()).sum() + 1.0
    return np.abs(g).max() / scale_


def test_log_loss_objective_is_logistic_regression_with_c_one_over_n_alpha(cancer):
    X, y = cancer
    n, alpha = X.shape[0], 1e-2
    sgd = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=300, tol=None, average=True,
                        random_state=0).fit(X, y)
    lr = LogisticRegression(C=1 / (n * alpha), tol=1e-12, max_iter=10_000).fit(X, y)
    obj = skinfluence.influence(sgd, X, y).objective
    opt = _at(obj, np.r_[lr.intercept_, lr.coef_.ravel()])
    assert _rel_grad(opt) < 1e-7
    assert _rel_grad(obj) > 1e-5          # SGD's own fit is not the optimum ...
    # ... but close to it
    assert np.abs(obj.theta - opt.theta).max() < 0.05 * np.abs(opt.theta).max()


def test_sample_and_class_weights(cancer):
    X, y = cancer
    n, alpha = X.shape[0], 1e-2
    sw = np.random.default_rng(0).uniform(0.5, 2, n)
    sgd = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=5, tol=None,
                        class_weight="balanced", random_state=0).fit(X, y, sample_weight=sw)
    # SGDClassifier's class weights come from y alone (no sample weights)
    from sklearn.utils.class_weight import compute_class_weight
    cw = compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    lr = LogisticRegression(C=1 / (n * alpha), tol=1e-12, max_iter=10_000).fit(
        X, y, sample_weight=sw * cw[y])
    obj = skinfluence.influence(sgd, X, y, sample_weight=sw).objective
    assert _rel_grad(_at(obj, np.r_[lr.intercept_, lr.coef_.ravel()])) < 1e-7


def test_multiclass_is_one_vs_rest(cancer):
    X, y = load_iris(return_X_y=True)
    X = scale(X)
    n, alpha = X.shape[0], 1e-2
    sgd = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=300, tol=None, average=True,
                        random_state=0).fit(X, y)
    theta = []
    for k in range(3):  # K independent binary problems
        lr = LogisticRegression(C=1 / (n * alpha), tol=1e-12, max_iter=10_000).fit(X, y == k)
        theta.append(np.r_[lr.intercept_, lr.coef_.ravel()])
    inf = skinfluence.influence(sgd, X, y)
    opt = _at(inf.objective, np.concatenate(theta))
    assert _rel_grad(opt) < 1e-7
    assert np.abs(inf.objective.theta - opt.theta).max() < 0.05 * np.abs(opt.theta).max()
    assert inf.loss_change(X[:3], y[:3]).shape == (3, n)
    # OvR decision: argmax of the K linear predictors, as SGDClassifier.predict
    eta = inf.objective.linear_predictor()
    assert np.array_equal(inf.objective.classes[eta.argmax(1)], sgd.predict(X))
    with pytest.raises(UnsupportedEstimatorError, match="class_weight"):
        skinfluence.influence(
            SGDClassifier(class_weight="balanced", max_iter=5, tol=None).fit(X, y), X, y)


def test_squared_error_is_ridge_with_alpha_n_alpha():
    X, y = load_diabetes(return_X_y=True)
    X = scale(X)
    y = (y - y.mean()) / y.std()
    n, alpha = X.shape[0], 1e-2
    sgd = SGDRegressor(alpha=alpha, max_iter=300, tol=None, average=True,
                       random_state=0).fit(X, y)
    ridge = Ridge(alpha=n * alpha, tol=1e-12).fit(X, y)
    obj = skinfluence.influence(sgd, X, y).objective
    opt = _at(obj, np.r_[ridge.intercept_, ridge.coef_])
    assert _rel_grad(opt) < 1e-9
    # diabetes has collinear columns: SGD is slow along them, so compare predictions
    d = obj.linear_predictor() - opt.linear_predictor()
    assert np.abs(d).max() < 0.05 * np.ptp(opt.linear_predictor())


def test_hinge_is_smooth_hinge_svc_with_temperature(cancer):
    X, y = cancer
    n, alpha, t = X.shape[0], 1e-2, 0.1
    sgd = SGDClassifier(loss="hinge", alpha=alpha, max_iter=5, tol=None,
                        random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="temperature"):
        skinfluence.influence(sgd, X, y)
    obj = skinfluence.influence(sgd, X, y, temperature=t).objective
    svc = SmoothHingeSVC(C=1 / (n * alpha), temperature=t).fit(X, y)
    assert _rel_grad(_at(obj, np.r_[svc.intercept_, svc.coef_.ravel()])) < 1e-5


@pytest.mark.parametrize("kind, cls, eps", [
    ("modified_huber", _sgd_fast.ModifiedHuber, None),
    ("squared_hinge", _sgd_fast.SquaredHinge, None),
    ("squared_epsilon_insensitive", _sgd_fast.SquaredEpsilonInsensitive, 0.3),
])
def test_piecewise_losses_match_sklearn_cython(kind, cls, eps):
    loss = _PiecewiseQuadraticLoss(kind, 0.3 if eps else 0.1)
    ref = cls(eps) if eps else cls()
    p = np.linspace(-3, 3, 61) + 0.013
    for yv in ((-1.0, 1.0) if eps is None else (-0.7, 0.4)):
        y = np.full_like(p, yv)
        assert np.allclose(loss.loss(y, p), [ref.py_loss(a, yv) for a in p])
        assert np.allclose(loss.gradient(y, p), [ref.py_dloss(a, yv) for a in p])
        # second derivative: finite differences of the gradient away from kinks
        h = 1e-6
        fd = (loss.gradient(y, p + h) - loss.gradient(y, p - h)) / (2 * h)
        assert np.allclose(loss.hessian(y, p), fd, atol=1e-4)


def test_huber_matches_sklearn_and_lbfgs_optimum():
    from sklearn._loss._loss import CyHuberLoss

    X, y = load_diabetes(return_X_y=True)
    X = scale(X)[:200]
    y = ((y - y.mean()) / y.std())[:200]
    loss = _PiecewiseQuadraticLoss("huber", 0.5)
    p = np.linspace(-3, 3, 31) + 0.01
    out, g = np.empty(31), np.empty(31)
    CyHuberLoss(0.5).loss(np.zeros(31), p, None, out, 1)
    CyHuberLoss(0.5).gradient(np.zeros(31), p, None, g, 1)
    assert np.allclose(loss.loss(np.zeros(31), p), out)
    assert np.allclose(loss.gradient(np.zeros(31), p), g)
    n, alpha = X.shape[0], 1e-2
    sgd = SGDRegressor(loss="huber", epsilon=0.5, alpha=alpha, max_iter=300, tol=None,
                       average=True, random_state=0).fit(X, y)
    obj = skinfluence.influence(sgd, X, y).objective

    def f(theta):  # written independently: mean Huber + alpha/2 ||w||^2
        r = y - theta[0] - X @ theta[1:]
        a = np.abs(r)
        val = np.where(a <= 0.5, 0.5 * r**2, 0.5 * a - 0.125).mean()
        dr = np.where(a <= 0.5, r, 0.5 * np.sign(r))
        grad = -np.r_[dr.sum(), X.T @ dr] / n
        return val + alpha / 2 * theta[1:] @ theta[1:], grad + alpha * np.r_[0, theta[1:]]

    res = minimize(f, np.zeros(X.shape[1] + 1), jac=True, method="L-BFGS-B",
                   options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000})
    opt = _at(obj, res.x)
    assert _rel_grad(opt) < 1e-6
    d = obj.linear_predictor() - opt.linear_predictor()   # collinear columns: predictions
    assert np.abs(d).max() < 0.05 * np.ptp(opt.linear_predictor())


def test_refusals(cancer):
    X, y = cancer
    for kw in ({"penalty": "l1"}, {"penalty": "elasticnet", "l1_ratio": 0.5},
               {"loss": "perceptron"}, {"loss": "epsilon_insensitive"},
               {"loss": "squared_error"}):
        est = SGDClassifier(max_iter=3, tol=None, **kw).fit(X, y)
        with pytest.raises(UnsupportedEstimatorError):
            skinfluence.influence(est, X, y)
    est = SGDClassifier(loss="log_loss", max_iter=3, tol=None).fit(X, y)
    with pytest.raises(TypeError, match="temperature"):
        skinfluence.influence(est, X, y, temperature=0.1)
    with pytest.raises(ValueError, match="not seen"):
        skinfluence.influence(est, X, np.where(y == 1, 5, 0))
    # elasticnet with l1_ratio=0 is plain l2
    est = SGDClassifier(loss="log_loss", penalty="elasticnet", l1_ratio=0.0, max_iter=3,
                        tol=None).fit(X, y)
    assert skinfluence.influence(est, X, y).objective.pen[1] == X.shape[0] * est.alpha
