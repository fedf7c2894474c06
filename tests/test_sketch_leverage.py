"""Relative-error randomized leverage (issue 5, scope 2): oracle = exact engine leverage."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import spearmanr
from sklearn import linear_model as sk

import skinfluence
from skinfluence.exceptions import UnsupportedEstimatorError
from skinfluence.sketch import leverage, randomized_leverage, use_sketched_leverage

from test_sketch_data import make_sketch_data


@pytest.fixture(scope="module")
def tall():
    X, y, lev, flip = make_sketch_data(20_000, 60, seed=11)
    est = sk.LogisticRegression(C=1.0, max_iter=500).fit(X, y)
    inf = skinfluence.influence(est, X, y)
    return est, X, y, inf


def test_default_settings_within_10_percent(tall):
    est, X, y, inf = tall
    h = randomized_leverage(inf.objective, random_state=0)
    rel = np.abs(h / inf.leverage - 1)
    assert np.mean(rel <= 0.1) >= 0.95
    assert abs(np.median(h / inf.leverage) - 1) < 0.02  # debiased


def test_second_projection_and_unpenalized_sparse():
    X, y, _, _ = make_sketch_data(8_000, 40, seed=12)
    X[np.abs(X) < 0.02] = 0.0
    Xs = sp.csr_matrix(X)
    est = sk.LogisticRegression(C=np.inf, max_iter=1000).fit(X, y)
    inf = skinfluence.influence(est, Xs, y)
    # r2 < d: a Gaussian second projection (eps = 0.3 -> r2 = 178 > d; force 30)
    h = randomized_leverage(inf.objective, eps=0.3, n_components=30, random_state=1)
    assert spearmanr(h, inf.leverage)[0] > 0.9
    assert abs(np.median(h / inf.leverage) - 1) < 0.1
    for sketch in ("countsketch", "gaussian"):
        h2 = randomized_leverage(inf.objective, sketch=sketch, random_state=1)
        assert np.mean(np.abs(h2 / inf.leverage - 1) <= 0.1) >= 0.95


@pytest.mark.parametrize("penalized", [False, True])
def test_unsketched_rows_are_exact(penalized):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 8))
    y = X[:, 0] + rng.normal(size=300)
    est = (sk.Ridge(alpha=20.0) if penalized else sk.LinearRegression()).fit(X, y)
    inf = skinfluence.influence(est, X, y)
    h = randomized_leverage(inf.objective, sketch_size=300)  # r1 >= n: no sketch
    np.testing.assert_allclose(h, inf.leverage, rtol=1e-10)


def test_shared_interface(tall):
    est, X, y, inf = tall
    np.testing.assert_allclose(leverage(est, X, y), inf.leverage, rtol=1e-12)
    h = leverage(est, X, y, method="sketch", eps=0.2, random_state=0)
    assert np.mean(np.abs(h / inf.leverage - 1) <= 0.2) >= 0.95
    with pytest.raises(ValueError, match="method"):
        leverage(est, X, y, method="qr")
    with pytest.raises(TypeError, match="Unknown option"):
        leverage(est, X, y, eps=0.1)


def test_influence_on_sketched_leverage(tall):
    est, X, y, inf = tall
    sk_inf = use_sketched_leverage(skinfluence.influence(est, X, y), random_state=0)
    assert sk_inf.leverage_method == "sketch"
    assert np.mean(np.abs(sk_inf.leverage / inf.leverage - 1) <= 0.1) >= 0.95
    assert spearmanr(sk_inf.cooks_distance, inf.cooks_distance)[0] > 0.99
    assert spearmanr(sk_inf.studentized_residuals, inf.studentized_residuals)[0] > 0.999
    # unsketched rows: every leverage-based diagnostic is exact
    Xs, ys = X[:500], y[:500]
    est2 = sk.LogisticRegression().fit(Xs, ys)
    a = skinfluence.influence(est2, Xs, ys)
    b = use_sketched_leverage(skinfluence.influence(est2, Xs, ys), sketch_size=500)
    for name in ("leverage", "cooks_distance", "studentized_residuals", "dffits", "cov_ratio"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=1e-8)


@pytest.mark.slow
def test_randomized_leverage_full_size_issue5():
    # n = 100,000, p = 1,000, default settings: within 10% for >= 95% of rows
    X, y, _, _ = make_sketch_data(100_000, 1_000, seed=0)
    est = sk.LogisticRegression(C=1.0, max_iter=1000).fit(X, y)
    inf = skinfluence.influence(est, X, y)
    h = randomized_leverage(inf.objective, random_state=0)
    assert np.mean(np.abs(h / inf.leverage - 1) <= 0.1) >= 0.95


def test_bad_input(tall):
    est, X, y, inf = tall
    for kw, msg in [(dict(eps=0), "eps"), (dict(eps=1.5), "eps"),
                    (dict(sketch="srht"), "Unknown row sketch"),
                    (dict(sketch_size=10), "at least the number of columns"),
                    (dict(sketch_size=0), ">= 1"), (dict(n_components=1.5), "integer"),
                    (dict(damping=-1.0), "damping")]:
        with pytest.raises(ValueError, match=msg):
            randomized_leverage(inf.objective, **kw)
    y3 = np.arange(300) % 3
    multi = sk.LogisticRegression().fit(X[:300], y3)
    with pytest.raises(UnsupportedEstimatorError, match="single-output"):
        leverage(multi, X[:300], y3, method="sketch")
