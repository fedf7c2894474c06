"""L1 / elastic-net LogisticRegression on the active set (issue 5, scope 3).

Oracles: scikit-learn's fitted optimum (the restricted gradient plus the L1
subgradient vanishes) and actual leave-one-out refits.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import spearmanr
from sklearn import linear_model as sk
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import scale

import skinfluence
from skinfluence.exceptions import UnsupportedEstimatorError
from skinfluence.linear_model import LogisticRegression
from skinfluence.sketch import influence_sketch


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return scale(X), y


def _l1_gradient(inf, est, l1_ratio):
    """Gradient of the smooth part + the L1 subgradient at the fit (normalized form)."""
    obj = inf.objective
    g = obj.gradient()
    lam = l1_ratio / est.C
    fi = obj.fit_intercept
    g[fi:] += lam * np.sign(obj.theta[fi:])
    if fi and est.solver == "liblinear":  # liblinear also L1-penalizes the intercept
        g[0] += lam * np.sign(obj.theta[0]) / est.intercept_scaling
    return g


@pytest.mark.parametrize(
    "params",
    [
        dict(l1_ratio=1.0, solver="liblinear", C=0.3),
        dict(l1_ratio=1.0, solver="liblinear", C=0.3, fit_intercept=False),
        dict(l1_ratio=1.0, solver="saga", C=0.3),
        dict(l1_ratio=0.5, solver="saga", C=0.3),
    ],
    ids=["l1-liblinear", "l1-liblinear-noint", "l1-saga", "enet-saga"],
)
def test_active_set_objective_is_at_its_optimum(cancer, params):
    X, y = cancer
    rng = np.random.default_rng(0)
    s = rng.uniform(0.5, 2.0, size=len(y))
    est = sk.LogisticRegression(max_iter=20000, tol=1e-9, **params).fit(X, y, sample_weight=s)
    inf = skinfluence.influence(est, X, y, sample_weight=s, active_set=True)
    obj = inf.objective
    active = np.flatnonzero(est.coef_[0])
    np.testing.assert_array_equal(obj.active_features, active)
    assert 0 < active.size < X.shape[1]
    names = [f"x{j}" for j in active]
    assert obj.param_names == (["(Intercept)"] if obj.fit_intercept else []) + names
    # the elastic-net keeps its L2 part (1 - r) / C, the pure L1 fit has none
    l1_ratio = params["l1_ratio"]
    assert np.allclose(obj.pen[obj.fit_intercept:], (1 - l1_ratio) / params["C"])
    g = _l1_gradient(inf, est, l1_ratio)
    scale_ = np.abs(obj.eta_gradient()).sum()
    assert np.max(np.abs(g)) < 1e-5 * scale_


def test_dfbeta_predicts_leave_one_out_refits(cancer):
    # one-step Newton on the active set vs actual refits that keep the active set
    X, y = cancer
    kw = dict(l1_ratio=1.0, solver="liblinear", C=0.3, fit_intercept=False, tol=1e-10,
              max_iter=10000)
    est = LogisticRegression(**kw).fit(X, y)
    inf = est.influence(active_set=True)
    active = inf.objective.active_features
    rows = np.r_[inf.top(10), np.arange(0, len(y), 60)]
    pred, actual = [], []
    for i in rows:
        keep = np.ones(len(y), bool)
        keep[i] = False
        refit = sk.LogisticRegression(**kw).fit(X[keep], y[keep])
        if np.array_equal(np.flatnonzero(refit.coef_[0]), active):
            pred.append(inf.dfbeta[i])
            actual.append(inf.objective.theta - refit.coef_[0, active])
    assert len(pred) >= 0.8 * len(rows)
    assert np.corrcoef(np.ravel(pred), np.ravel(actual))[0, 1] >= 0.99


def test_l1_refused_without_active_set_and_multinomial_refused(cancer):
    X, y = cancer
    est = sk.LogisticRegression(l1_ratio=1.0, solver="liblinear", C=0.3).fit(X, y)
    with pytest.raises(UnsupportedEstimatorError, match="l1.*active_set=True"):
        skinfluence.influence(est, X, y)
    y3 = np.arange(len(y)) % 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # saga may not converge in 200 iterations
        multi = sk.LogisticRegression(l1_ratio=1.0, solver="saga", C=0.3, max_iter=200)
        multi.fit(X[:, :5], y3)
    with pytest.raises(UnsupportedEstimatorError, match="binary"):
        skinfluence.influence(multi, X[:, :5], y3, active_set=True)
    empty = sk.LogisticRegression(l1_ratio=1.0, solver="liblinear", C=1e-4,
                                  fit_intercept=False).fit(X, y)
    with pytest.raises(UnsupportedEstimatorError, match="empty active set"):
        skinfluence.influence(empty, X, y, active_set=True)
    # L2 fits ignore the option
    l2 = sk.LogisticRegression().fit(X, y)
    a = skinfluence.influence(l2, X, y, active_set=True).cooks_distance
    np.testing.assert_allclose(a, skinfluence.influence(l2, X, y).cooks_distance)


def test_sparse_l1_and_sketch_on_active_set(cancer):
    X, y = cancer
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.3, X, 0.0))
    est = sk.LogisticRegression(l1_ratio=1.0, solver="liblinear", C=0.3).fit(Xs, y)
    inf = skinfluence.influence(est, Xs, y, active_set=True)
    dense = skinfluence.influence(est, Xs.toarray(), y, active_set=True)
    np.testing.assert_allclose(inf.cooks_distance, dense.cooks_distance, rtol=1e-9)
    p_ = inf.objective.p_
    full = influence_sketch(est, Xs, y, k=p_, projection="gaussian", random_state=0,
                            active_set=True)
    np.testing.assert_allclose(full.cooks_distance, inf.cooks_distance, rtol=1e-7)
    small = influence_sketch(est, Xs, y, k=max(2, p_ // 2), random_state=0, active_set=True)
    assert spearmanr(small.cooks_distance, inf.cooks_distance)[0] > 0.9


def test_active_set_influence_functions_accept_full_width_test_data():
    """Test data has all features; the adapter keeps the active columns for it too."""
    import warnings

    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import scale

    import skinfluence

    X, y = load_breast_cancer(return_X_y=True)
    X = scale(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = LogisticRegression(l1_ratio=1.0, solver="saga", C=0.1, max_iter=5000, tol=1e-8).fit(X[:400], y[:400])
    inf = skinfluence.influence(est, X[:400], y[:400], active_set=True)
    assert inf.objective.n_features < 30
    assert inf.loss_change(X[400:], y[400:]).shape == (169, 400)
