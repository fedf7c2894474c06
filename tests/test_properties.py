"""Property-based checks: for random weighted least-squares problems the closed
forms equal brute-force deletion refits (computed here with numpy.linalg.lstsq)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression, Ridge

import skinfluence


def _brute_force(X, y, w, alpha):
    """theta_hat - theta_hat_(-i) and sigma_(i) by refitting (intercept first)."""
    n, p = X.shape
    Xt = np.c_[np.ones(n), X]
    P = np.diag(np.r_[0.0, np.full(p, alpha)])

    def fit(keep):
        A = Xt[keep].T @ (w[keep, None] * Xt[keep]) + P
        return np.linalg.solve(A, Xt[keep].T @ (w[keep] * y[keep]))

    full = fit(np.ones(n, bool))
    out = np.empty((n, p + 1))
    for i in range(n):
        keep = np.arange(n) != i
        out[i] = full - fit(keep)
    return full, out


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(12, 40),
    p=st.integers(1, 5),
    weighted=st.booleans(),
    alpha=st.sampled_from([0.0, 0.01, 1.0]),
)
def test_closed_forms_equal_brute_force_refits(seed, n, p, weighted, alpha):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.1, 10, size=p)
    y = X @ rng.normal(size=p) + rng.standard_t(3, size=n)
    w = rng.uniform(0.2, 3.0, size=n) if weighted else np.ones(n)
    est = (Ridge(alpha=alpha, solver="cholesky") if alpha else LinearRegression()).fit(X, y, sample_weight=w)
    inf = skinfluence.influence(est, X, y, sample_weight=w)
    full, dfbeta = _brute_force(X, y, w, alpha)
    np.testing.assert_allclose(np.r_[est.intercept_, est.coef_], full, rtol=1e-6, atol=1e-8)
    scale = np.abs(dfbeta).max()
    np.testing.assert_allclose(inf.dfbeta, dfbeta, rtol=1e-6, atol=1e-9 * scale)
    h = inf.leverage
    assert np.all((h >= -1e-12) & (h <= 1 + 1e-12))
    if alpha == 0:
        np.testing.assert_allclose(h.sum(), p + 1, rtol=1e-9)
        # Cook's distance: H-norm of the exact deletion change / (p sigma^2)
        H = inf.engine.hessian("fisher")
        cooks = np.einsum("ij,jk,ik->i", dfbeta, H, dfbeta) / ((p + 1) * inf.dispersion)
        np.testing.assert_allclose(inf.cooks_distance, cooks, rtol=1e-6, atol=1e-12)
