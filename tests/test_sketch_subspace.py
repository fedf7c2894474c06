"""Sharper influence sketches: power iterations and the hat-matrix subspace."""

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression

import skinfluence
from skinfluence.sketch import influence_sketch


def _mild_decay(n=2000, p=100, seed=0):
    rng = np.random.default_rng(seed)
    Qr, _ = np.linalg.qr(rng.normal(size=(p, p)))
    X = (rng.standard_t(3, size=(n, p)) * np.arange(1, p + 1) ** -0.5) @ Qr.T
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ (0.3 * rng.normal(size=p))))).astype(int)
    est = LogisticRegression(C=1.0, tol=1e-8, max_iter=1000).fit(X, y)
    return est, X, y


EST, X, Y = _mild_decay()
EXACT = skinfluence.influence(EST, X, Y)


@pytest.mark.parametrize("kw", [{"power_iterations": 2}, {"subspace": "hat"}])
def test_lower_bound_and_exact_at_full_k(kw):
    est, Xs, ys = _mild_decay(n=300, p=30, seed=1)
    exact = skinfluence.influence(est, Xs, ys)
    h = exact.leverage
    sk = influence_sketch(est, Xs, ys, k=8, projection="gaussian", random_state=0, **kw)
    assert np.all(sk.leverage <= h * (1 + 1e-6) + 1e-12)  # a restricted problem
    full = influence_sketch(est, Xs, ys, k=31, projection="gaussian", random_state=0, **kw)
    np.testing.assert_allclose(full.leverage, h, rtol=1e-6)
    np.testing.assert_allclose(full.cooks_distance, exact.cooks_distance, rtol=1e-5)


def test_hat_subspace_ranks_better_on_a_mildly_decaying_spectrum():
    # k = p/5: the data-independent subspace underestimates rows whose leverage lies
    # in weak directions; the hat subspace does not
    exact = EXACT.cooks_distance
    rho = {}
    for name, kw in [("random", {}), ("hat", {"subspace": "hat"})]:
        rs = [spearmanr(influence_sketch(EST, X, Y, k=20, projection="gaussian",
                                         random_state=s, **kw).cooks_distance, exact)[0]
              for s in range(3)]
        rho[name] = np.mean(rs)
    assert rho["hat"] > rho["random"] + 0.005


def test_subspace_options_are_validated():
    with pytest.raises(ValueError, match="power_iterations must be an integer >= 0"):
        influence_sketch(EST, X, Y, k=5, power_iterations=-1)
    with pytest.raises(ValueError, match="power_iterations must be an integer >= 0"):
        influence_sketch(EST, X, Y, k=5, power_iterations=1.5)
    with pytest.raises(ValueError, match="subspace must be 'random' or 'hat'"):
        influence_sketch(EST, X, Y, k=5, subspace="top")
