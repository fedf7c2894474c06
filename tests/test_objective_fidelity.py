"""The objective we rebuild is the one scikit-learn minimized: its gradient at
scikit-learn's fitted parameters is ~0 (relative to the size of its terms), for
every adapter, with and without intercept, with sample and class weights."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.preprocessing import scale

import skinfluence

RNG = np.random.default_rng(0)


def _data(kind):
    if kind == "regression":
        X, y = load_diabetes(return_X_y=True)
        return X, y
    if kind == "binary":
        X, y = load_breast_cancer(return_X_y=True)
        return scale(X[:, :8]), y
    if kind == "multiclass":
        X, y = load_wine(return_X_y=True)
        return scale(X), y
    if kind == "counts":
        X = RNG.normal(size=(300, 5))
        return X, RNG.poisson(np.exp(0.3 + X @ [0.4, -0.3, 0.2, 0.0, 0.1]))
    if kind == "positive":
        X = RNG.normal(size=(300, 5))
        mu = np.exp(0.5 + X @ [0.3, -0.2, 0.1, 0.0, 0.2])
        return X, RNG.gamma(3.0, mu / 3.0)
    raise ValueError(kind)


TIGHT = dict(tol=1e-12, max_iter=10_000)
CASES = [
    ("regression", sk.LinearRegression()),
    ("regression", sk.Ridge(alpha=0.5)),
    ("regression", sk.Ridge(alpha=3.0, solver="cholesky")),
    ("binary", sk.LogisticRegression(C=0.3, **TIGHT)),
    ("binary", sk.LogisticRegression(C=np.inf, solver="newton-cholesky", **TIGHT)),
    ("binary", sk.LogisticRegression(C=0.3, class_weight="balanced", **TIGHT)),
    ("binary", sk.LogisticRegression(C=1.0, class_weight={0: 3.0, 1: 0.5}, **TIGHT)),
    ("binary", sk.LogisticRegression(C=1.0, solver="liblinear", tol=1e-12, max_iter=10_000, intercept_scaling=2.0)),
    ("multiclass", sk.LogisticRegression(C=0.5, **TIGHT)),
    ("multiclass", sk.LogisticRegression(C=0.5, class_weight="balanced", solver="newton-cholesky", **TIGHT)),
    ("counts", sk.PoissonRegressor(alpha=0.05, **TIGHT)),
    ("counts", sk.PoissonRegressor(alpha=0.0, solver="newton-cholesky", **TIGHT)),
    ("positive", sk.GammaRegressor(alpha=0.02, **TIGHT)),
    ("counts", sk.TweedieRegressor(power=1.5, alpha=0.01, **TIGHT)),
    ("regression", sk.TweedieRegressor(power=0.0, alpha=0.01, **TIGHT)),
    ("positive", sk.TweedieRegressor(power=2.5, link="log", alpha=0.01, **TIGHT)),
]


def _relative_gradient(objective):
    G = objective.eta_gradient()
    be = skinfluence.backends.get_backend("numpy")
    per_row_scale = be.design_rmatmul(objective.X, np.abs(G), objective.fit_intercept)
    scale_ = np.abs(per_row_scale.T.ravel()) + np.abs(objective.penalty_gradient()) + 1e-12
    return np.max(np.abs(objective.gradient()) / scale_.max())


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind, est", CASES, ids=lambda v: repr(v)[:60] if not isinstance(v, str) else v)
def test_gradient_vanishes_at_sklearn_optimum(kind, est, fit_intercept, weighted):
    X, y = _data(kind)
    sw = RNG.uniform(0.5, 2.0, size=X.shape[0]) if weighted else None
    est = est.set_params(fit_intercept=fit_intercept)
    est.fit(X, y, sample_weight=sw)
    inf = skinfluence.influence(est, X, y, sample_weight=sw)
    assert _relative_gradient(inf.objective) < 2e-6


def test_gradient_vanishes_on_sparse_input():
    X, y = _data("binary")
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    est = sk.LogisticRegression(C=0.7, **TIGHT).fit(Xs, y)
    inf = skinfluence.influence(est, Xs, y)
    assert _relative_gradient(inf.objective) < 2e-6
    dense = skinfluence.influence(est, Xs.toarray(), y)
    np.testing.assert_allclose(inf.cooks_distance, dense.cooks_distance, rtol=1e-10)


def test_objective_hessian_matches_finite_differences_of_gradient():
    """The analytic Hessian (observed) is the derivative of the analytic gradient."""
    X, y = _data("positive")
    est = sk.GammaRegressor(alpha=0.1).fit(X, y)
    obj = skinfluence.influence(est, X, y).objective
    H = obj.hessian("observed")
    theta0 = obj.theta.copy()
    eps = 1e-6
    num = np.zeros_like(H)
    for j in range(theta0.size):
        for sign in (1, -1):
            theta = theta0.copy()
            theta[j] += sign * eps
            num[:, j] += sign * obj.with_theta(theta).gradient()
        num[:, j] /= 2 * eps
    np.testing.assert_allclose(H, num, rtol=1e-5, atol=1e-6 * np.abs(H).max())
