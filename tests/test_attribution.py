"""feature_attribution: exact per-feature split of loss_change, against brute force."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, PoissonRegressor, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import scale

import skinfluence


def _check_sum(inf, Xte, yte, rows, method="influence"):
    fa = inf.feature_attribution(Xte, yte, rows=rows, method=method)
    lc = inf.loss_change(Xte, yte, method=method)
    assert fa.shape == (Xte.shape[0], len(rows), inf.objective.n_features)
    assert np.allclose(fa.total(), lc[:, rows], rtol=1e-10, atol=1e-14)
    return fa


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_binary_logistic_matches_brute_force(fit_intercept):
    X, y = load_breast_cancer(return_X_y=True)
    X = scale(X)[:, :8]
    sw = np.random.default_rng(0).uniform(0.5, 2, 400)
    est = LogisticRegression(fit_intercept=fit_intercept).fit(X[:400], y[:400], sample_weight=sw)
    inf = skinfluence.influence(est, X[:400], y[:400], sample_weight=sw)
    rows = [3, 17, 250]
    fa = _check_sum(inf, X[400:405], y[400:405], rows)
    _check_sum(inf, X[400:405], y[400:405], rows, method="newton")
    # brute force, written here: H from numpy, gradients (p - y) [1, x]
    A = np.hstack([np.ones((400, 1)), X[:400]]) if fit_intercept else X[:400]
    th = np.r_[est.intercept_, est.coef_.ravel()] if fit_intercept else est.coef_.ravel()
    p = 1 / (1 + np.exp(-A @ th))
    H = (A * (sw * p * (1 - p))[:, None]).T @ A
    H[fit_intercept:, fit_intercept:] += np.eye(8)          # 1/C = 1 on the coefficients
    At = np.hstack([np.ones((5, 1)), X[400:405]]) if fit_intercept else X[400:405]
    gt = ((1 / (1 + np.exp(-At @ th))) - y[400:405])[:, None] * At
    U = np.linalg.solve(H, gt.T)                              # (P, 5)
    for r, i in enumerate(rows):
        contrib = U.T * (sw[i] * (p[i] - y[i]) * A[i])[None]  # (5, P) per parameter
        assert np.allclose(fa.values[:, r], contrib[:, fit_intercept:])
        if fit_intercept:
            assert np.allclose(fa.intercept[:, r], contrib[:, 0])
        else:
            assert np.all(fa.intercept == 0)


def test_multinomial_sums_over_classes_and_names():
    X, y = load_iris(return_X_y=True, as_frame=True)
    est = LogisticRegression(max_iter=1000).fit(X, y)
    inf = skinfluence.influence(est, X, y)
    fa = _check_sum(inf, X.iloc[:3], y.iloc[:3], [10, 60, 110])
    assert list(fa.feature_names) == list(X.columns)
    top = fa.top(test=0, row=1, n=2)
    assert list(top.columns) == ["feature", "contribution"] and len(top) == 2
    assert abs(top.contribution.iloc[0]) >= abs(top.contribution.iloc[1])
    assert np.asarray(fa).shape == (3, 3, 4)


def test_ridge_csr_and_poisson_penalty_share():
    X, y = load_diabetes(return_X_y=True)
    inf = skinfluence.influence(Ridge(alpha=1.0).fit(X, y), sp.csr_matrix(X), y)
    _check_sum(inf, X[:4], y[:4], np.arange(10))
    fa = _check_sum(inf, X[:4], y[:4], [9, 2, -1])          # the caller's order is kept
    assert fa.rows.tolist() == [9, 2, len(y) - 1]
    # mean-form penalty: the row's share of pen*theta is split over parameters too
    yp = np.random.default_rng(0).poisson(np.exp(0.3 * scale(X)[:, 2]))
    est = PoissonRegressor(alpha=0.1).fit(scale(X), yp)
    inf = skinfluence.influence(est, scale(X), yp)
    assert inf.objective.share is not None
    _check_sum(inf, scale(X)[:4], yp[:4], [0, 5, 9])


def test_text_pipeline_words():
    docs = ["good great fun", "bad awful boring", "great acting good plot", "boring plot bad",
            "fun fun great", "awful acting", "good fun", "bad boring awful plot"] * 3
    y = np.array([1, 0, 1, 0, 1, 0, 1, 0] * 3)
    for vec in (CountVectorizer(), TfidfVectorizer()):
        pipe = make_pipeline(vec, LogisticRegression(C=10.0)).fit(docs, y)
        inf = skinfluence.influence(pipe, docs, y)
        fa = inf.feature_attribution(["great plot"], [1], rows=[0, 3], feature_names=pipe[:-1])
        assert np.allclose(fa.total(), inf.loss_change(["great plot"], [1])[:, [0, 3]])
        words = list(fa.feature_names)
        assert words == list(pipe[0].get_feature_names_out())
        # only the words a training document contains can carry its influence
        nz = {words[j] for j in np.flatnonzero(fa.values[0, 0])}
        assert nz <= {"good", "great", "fun"}
        nz = {words[j] for j in np.flatnonzero(fa.values[0, 1])}
        assert nz <= {"boring", "plot", "bad"}
        # a positive review containing "great" helps the positive test review
        assert fa.total()[0, 0] > 0


def test_errors():
    X, y = load_diabetes(return_X_y=True)
    inf = skinfluence.influence(Ridge().fit(X, y), X, y)
    with pytest.raises(ValueError, match="method"):
        inf.feature_attribution(X[:1], y[:1], rows=[0], method="bogus")
    with pytest.raises(ValueError, match="outside"):
        inf.feature_attribution(X[:1], y[:1], rows=[10_000])
    with pytest.raises(ValueError, match="feature_names"):
        inf.feature_attribution(X[:1], y[:1], rows=[0], feature_names=["a", "b"])
    with pytest.raises(ValueError, match="tracin="):
        inf.feature_attribution(X[:1], y[:1], rows=[0], tracin=object())
    big = skinfluence.influence(Ridge().fit(np.zeros((3, 3)) + np.eye(3), [1, 2, 3]),
                                np.zeros((3, 3)) + np.eye(3), [1, 2, 3])
    import skinfluence._attribution as A
    old = A._MAX_ENTRIES
    A._MAX_ENTRIES = 8
    try:
        with pytest.raises(ValueError, match="rows="):
            big.feature_attribution(np.eye(3), [1, 2, 3])
    finally:
        A._MAX_ENTRIES = old
