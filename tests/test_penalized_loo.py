"""Deletion diagnostics of penalized fits predict actual leave-one-out refits."""

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn import linear_model as sk
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import scale

import skinfluence


def _actual_dfbeta(est, X, y, rows, sample_weight=None):
    """theta_hat - theta_hat_(-i) by refitting without row i (intercept first)."""
    full = np.r_[np.ravel(est.intercept_)[:1], np.ravel(est.coef_)] if est.fit_intercept else np.ravel(est.coef_)
    out = []
    for i in rows:
        keep = np.ones(X.shape[0], bool)
        keep[i] = False
        sw = None if sample_weight is None else sample_weight[keep]
        e = clone(est).fit(X[keep], y[keep], sample_weight=sw)
        th = np.r_[np.ravel(e.intercept_)[:1], np.ravel(e.coef_)] if e.fit_intercept else np.ravel(e.coef_)
        out.append(full - th)
    return np.array(out)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_dfbeta_is_exact_loo(fit_intercept):
    X, y = load_diabetes(return_X_y=True)
    sw = np.random.default_rng(1).uniform(0.5, 2, size=y.size)
    est = sk.Ridge(alpha=0.05, fit_intercept=fit_intercept, solver="cholesky").fit(X, y, sample_weight=sw)
    inf = skinfluence.influence(est, X, y, sample_weight=sw)
    rows = np.r_[0:15, inf.top(10)]
    actual = _actual_dfbeta(est, X, y, rows, sw)
    np.testing.assert_allclose(inf.dfbeta[rows], actual, rtol=1e-8, atol=1e-8 * np.abs(actual).max())
    # Cook's distance is the H-norm of the exact change
    H = inf.engine.hessian("fisher")
    cooks = np.einsum("ij,jk,ik->i", actual, H, actual) / (inf.n_params * inf.dispersion)
    np.testing.assert_allclose(inf.cooks_distance[rows], cooks, rtol=1e-7)


def test_l2_logistic_dfbeta_predicts_refits():
    X, y = load_breast_cancer(return_X_y=True)
    X = scale(X)
    est = sk.LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(X, y)
    inf = skinfluence.influence(est, X, y)
    rows = np.r_[inf.top(40), np.arange(0, 569, 15)]
    actual = _actual_dfbeta(est, X, y, rows)
    r = np.corrcoef(actual.ravel(), inf.dfbeta[rows].ravel())[0, 1]
    assert r >= 0.99, r


def test_penalized_poisson_dfbeta_predicts_refits():
    data = sm.datasets.randhie.load_pandas().data.iloc[:1500]
    y = data["mdvis"].to_numpy(float)
    X = scale(data.drop(columns="mdvis").to_numpy(float))
    est = sk.PoissonRegressor(alpha=0.01, tol=1e-10, max_iter=10_000).fit(X, y)
    inf = skinfluence.influence(est, X, y)
    rows = np.r_[inf.top(30), np.arange(0, 1500, 50)]
    actual = _actual_dfbeta(est, X, y, rows)
    r = np.corrcoef(actual.ravel(), inf.dfbeta[rows].ravel())[0, 1]
    assert r >= 0.99, r


def test_poisson_penalty_share_is_part_of_the_deletion():
    """sklearn's GLMs minimize a weighted *mean* deviance + penalty: deleting a row
    also shifts the penalty's relative weight. With a strong penalty and small n,
    leaving that out triples the error of the predicted refit."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = rng.poisson(np.exp(0.5 + X @ [0.5, -0.4, 0.3, 0.2])).astype(float)
    est = sk.PoissonRegressor(alpha=0.5, tol=1e-12, max_iter=10_000).fit(X, y)
    actual = _actual_dfbeta(est, X, y, np.arange(60))
    inf = skinfluence.influence(est, X, y)
    err = np.linalg.norm(inf.dfbeta - actual) / np.linalg.norm(actual)
    no_share = skinfluence.influence(est, X, y)
    no_share.objective.share = None
    err_no_share = np.linalg.norm(no_share.dfbeta - actual) / np.linalg.norm(actual)
    assert err < 0.04 and err_no_share > 2 * err, (err, err_no_share)


def test_multinomial_dfbeta_predicts_refits_up_to_class_shift():
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    X = scale(X)
    est = sk.LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(X, y)
    inf = skinfluence.influence(est, X, y)
    rows = inf.top(25)
    full = np.c_[est.intercept_, est.coef_].ravel()
    actual = []
    for i in rows:
        keep = np.arange(len(y)) != i
        e = clone(est).fit(X[keep], y[keep])
        actual.append(full - np.c_[e.intercept_, e.coef_].ravel())
    actual = np.array(actual).reshape(len(rows), 3, -1)
    # intercepts are identified only up to a common shift: compare centered
    actual[:, :, 0] -= actual[:, :, 0].mean(axis=1, keepdims=True)
    pred = inf.dfbeta[rows].reshape(len(rows), 3, -1)
    r = np.corrcoef(actual.ravel(), pred.ravel())[0, 1]
    assert r >= 0.98, r
