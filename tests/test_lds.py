"""lds_check: the linear datamodeling score by actual retraining on random subsets."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import scale

from skinfluence.validation import lds_check


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X = scale(X)
    return X[:300], y[:300], X[300:360], y[300:360]


def test_lds_influence_high_random_zero(cancer):
    X, y, Xt, yt = cancer
    est = LogisticRegression(solver="newton-cholesky").fit(X, y)
    res = lds_check(est, X, y, Xt, yt, n_subsets=30, random_state=0)
    print(f"breast cancer LDS (influence) = {res.lds:.3f}")
    assert res.lds > 0.75
    assert res.actual.shape == (30, 60) and res.subsets.sum(1).tolist() == [150] * 30
    rand = np.random.default_rng(0).normal(size=(60, 300))
    res_r = lds_check(est, X, y, Xt, yt, n_subsets=30, scores=rand, random_state=0)
    assert abs(res_r.lds) < 0.1
    assert res_r.method == "given scores"
    np.testing.assert_allclose(res_r.actual, res.actual)     # same subsets, same retraining


def test_lds_ridge_newton():
    """Ridge: each row's removal effect is exact (newton), but removing half the rows is
    far from one row: the summed effects rank the subsets well, not perfectly (0.76)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    y = X @ [1.0, -1.0, 0.5, 0.0] + rng.normal(size=80)
    res = lds_check(Ridge(alpha=1.0).fit(X, y), X, y, X[:10] + 0.1, y[:10], n_subsets=20,
                    random_state=1, method="newton")
    assert 0.6 < res.lds < 1.0


def test_lds_bad_input(cancer):
    X, y, Xt, yt = cancer
    est = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        lds_check(est, X, y, Xt, yt, alpha=1.5)
    with pytest.raises(ValueError, match="scores must have shape"):
        lds_check(est, X, y, Xt, yt, scores=np.zeros((3, 3)))
