"""Unbiased JL + CG leverage (issue 11, wide sparse designs beyond the memory guard).

Oracle: the leverage written out by hand with NumPy from scikit-learn's fitted
probabilities (h_i = w_i x_i' (X'WX + Lambda)^-1 x_i), not the engine's formula.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import chi2, spearmanr
from sklearn.linear_model import LogisticRegression, Ridge

import skinfluence
from skinfluence._strategy import HessianMemoryError, StrategyWarning
from skinfluence.exceptions import UnsupportedEstimatorError
from skinfluence.sketch import jl_leverage, use_sketched_leverage


def _sparse_logistic(n, p, density, seed):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=seed,
                  data_rvs=lambda m: rng.standard_normal(m))
    eta = X @ rng.normal(size=p)
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    sw = rng.uniform(0.5, 2.0, size=n)
    return X, y, sw


def _hand_leverage(est, X, sw):
    """w_i xt_i' (Xt'WXt + diag(0, I/C))^-1 xt_i for sklearn's C * sum loss + |beta|^2 / 2."""
    prob = est.predict_proba(X)[:, 1]
    w = sw * prob * (1 - prob)
    Xt = np.hstack([np.ones((X.shape[0], 1)), X.toarray()])
    H = Xt.T @ (w[:, None] * Xt) + np.diag(np.r_[0.0, np.full(X.shape[1], 1 / est.C)])
    return w * np.einsum("ij,ji->i", Xt, np.linalg.solve(H, Xt.T))


@pytest.fixture(scope="module")
def small():
    X, y, sw = _sparse_logistic(1500, 120, 0.05, seed=0)
    est = LogisticRegression(C=0.5, tol=1e-10, max_iter=1000).fit(X, y, sample_weight=sw)
    inf = skinfluence.influence(est, X, y, sample_weight=sw)
    exact = _hand_leverage(est, X, sw)
    np.testing.assert_allclose(inf.leverage, exact, rtol=1e-6)  # the oracle is the engine's
    return est, X, y, sw, inf, exact


def test_unbiased_with_the_stated_spread(small):
    _, X, _, _, inf, exact = small
    data = X.data.copy()
    k, seeds = 8, 40
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a few estimates >= 1 at k = 8
        R = np.array([jl_leverage(inf.objective, k=k, tol=1e-10, random_state=s) / exact
                      for s in range(seeds)])
    np.testing.assert_array_equal(X.data, data)  # the user's X is not modified
    sd = np.sqrt(2 / k)
    # each row's mean over seeds: unbiased (z-scores of a N(0, 1) law; 1500 rows)
    z = (R.mean(axis=0) - 1) / (sd / np.sqrt(seeds))
    assert np.max(np.abs(z)) < 5
    assert abs(z.mean()) < 0.5
    # each row's spread over seeds: the stated sqrt(2 / k)
    assert abs(np.median(R.std(axis=0, ddof=1)) / sd - 1) < 0.1
    # a biased variant (the penalty rows of A left out) would fail the same check
    assert abs(np.mean(R) - 1) < 0.02


def test_exact_law_chi2_over_k(small):
    # with k = 2, estimate / exact ~ chi^2_2 / 2 = Exp(1) for every row: a KS test over
    # independent seeds (the stated interval rests on this law)
    from scipy.stats import kstest

    _, _, _, _, inf, exact = small
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        R = np.array([jl_leverage(inf.objective, k=2, tol=1e-10, random_state=s) / exact
                      for s in range(150)])
    for row in (0, int(np.argmax(exact)), int(np.argmin(exact))):
        assert kstest(R[:, row], "expon").pvalue > 1e-3
    # the test has power: the law of k = 4 (relative sd 0.71 instead of 1) is rejected
    assert kstest(R[:, 0], chi2(4, scale=0.25).cdf).pvalue < 1e-3


def test_stated_interval_holds(small):
    _, _, _, _, inf, exact = small
    ratios, infos = [], []
    for s in range(4):
        h, info = jl_leverage(inf.objective, k=64, random_state=s, return_info=True)
        ratios.append(h / exact)
        infos.append(info)
    info = infos[0]
    assert info["k"] == 64 and info["cg_residual"] <= 1e-3
    assert info["relative_sd"] == pytest.approx(0.125 * np.sqrt(2))
    lo, hi = info["ratio_interval"]
    assert (lo, hi) == pytest.approx(tuple(chi2.ppf([0.025, 0.975], 64) / 64))
    r = np.concatenate(ratios)
    inside = np.mean((r >= lo) & (r <= hi))
    assert 0.92 <= inside <= 0.98
    assert abs(np.std(r) / info["relative_sd"] - 1) < 0.1


def test_penalty_and_damping_rows_dense_ridge():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 30)) * np.linspace(0.2, 2.0, 30)
    y = X[:, 0] + rng.normal(size=400)
    est = Ridge(alpha=300.0).fit(X, y)  # the penalty carries a large share of H
    damping = 5.0
    inf = skinfluence.influence(est, X, y, damping=damping)
    Xt = np.hstack([np.ones((400, 1)), X])
    H = Xt.T @ Xt + np.diag(np.r_[0.0, np.full(30, 300.0)]) + damping * np.eye(31)
    exact = np.einsum("ij,ji->i", Xt, np.linalg.solve(H, Xt.T))
    R = np.array([jl_leverage(inf.objective, k=16, damping=damping, tol=1e-10,
                              random_state=s) / exact for s in range(25)])
    assert abs(R.mean() - 1) < 0.03
    z = (R.mean(axis=0) - 1) / (np.sqrt(2 / 16) / 5)
    assert np.max(np.abs(z)) < 5


def test_memory_guard_points_to_it_and_front_door():
    X, y, sw = _sparse_logistic(1500, 600, 0.01, seed=2)
    est = LogisticRegression(C=1.0, tol=1e-10, max_iter=1000).fit(X, y, sample_weight=sw)
    exact = _hand_leverage(est, X, sw)
    # budget 8 MiB: neither the 601 x 601 Hessian (11.6 MB) nor the kernel fits
    with skinfluence.config_context(working_memory=0.5):
        with pytest.warns(StrategyWarning, match="leverage_method='sketch'"):
            inf = skinfluence.influence(est, X, y, sample_weight=sw)
        assert inf.strategy == "iterative"
        with pytest.raises(HessianMemoryError,
                           match=r"leverage_method='sketch'.*stated accuracy.*jl_leverage"):
            inf.leverage  # noqa: B018
        with warnings.catch_warnings():
            # asked for the sketch: no warning recommending it
            warnings.simplefilter("error", StrategyWarning)
            sk = skinfluence.influence(est, X, y, sample_weight=sw, leverage_method="sketch",
                                       leverage_options={"k": 64, "random_state": 0})
    assert sk.leverage_method == "sketch"
    assert sk.leverage_accuracy["k"] == 64
    lo, hi = sk.leverage_accuracy["ratio_interval"]
    r = sk.leverage / exact
    assert 0.9 <= np.mean((r >= lo) & (r <= hi))
    # Cook's distance and studentized residuals run on it (dfbeta still needs a factor)
    ref = skinfluence.influence(est, X, y, sample_weight=sw)
    assert spearmanr(sk.cooks_distance, ref.cooks_distance)[0] > 0.95
    assert spearmanr(sk.studentized_residuals, ref.studentized_residuals)[0] > 0.99
    # explicit choice of the estimator; the QR one keeps its own options
    qr = use_sketched_leverage(skinfluence.influence(est, X, y, sample_weight=sw),
                               algorithm="qr", eps=0.3, random_state=0)
    assert qr.leverage_accuracy is None
    with pytest.raises(ValueError, match="algorithm"):
        use_sketched_leverage(ref, algorithm="svd")


def test_no_dense_square_matrix():
    X, y, _ = _sparse_logistic(4000, 3000, 0.002, seed=3)
    est = LogisticRegression(C=1.0, max_iter=200).fit(X, y)
    with skinfluence.config_context(working_memory=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obj = skinfluence.influence(est, X, y, fit_check="off").objective
        jl_leverage(obj, k=16, random_state=0)  # warm-up (imports, caches)
        tracemalloc.start()
        h = jl_leverage(obj, k=16, random_state=0)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert np.all(np.isfinite(h) & (h > 0))
    # a 3000 x 3000 float64 matrix is 72 MB, a 4000 x 4000 one 128 MB
    assert peak < 8 * 3000**2 / 8


def test_bad_input(small):
    _, X, y, sw, inf, _ = small
    with pytest.raises(ValueError, match="k must be >= 1"):
        jl_leverage(inf.objective, k=0)
    rng = np.random.default_rng(0)
    Xm = rng.normal(size=(60, 4))
    ym = rng.integers(0, 3, size=60)
    multi = skinfluence.influence(LogisticRegression().fit(Xm, ym), Xm, ym)
    with pytest.raises(UnsupportedEstimatorError, match="jl_leverage"):
        jl_leverage(multi.objective)


def test_mean_form_penalty_beyond_the_guard():
    # PoissonRegressor(alpha > 0): Cook's distance also needs H^-1 (pen * theta); with
    # no factor it comes from one CG solve (checked against the factor's)
    from sklearn.linear_model import PoissonRegressor

    rng = np.random.default_rng(4)
    X = sp.random(1500, 600, density=0.01, format="csr", random_state=4)
    y = rng.poisson(np.exp(0.3 * (X @ rng.normal(size=600))))
    est = PoissonRegressor(alpha=0.01, tol=1e-10, max_iter=1000).fit(X, y)
    ref = skinfluence.influence(est, X, y)
    with skinfluence.config_context(working_memory=0.5), warnings.catch_warnings():
        warnings.simplefilter("ignore", StrategyWarning)
        inf = skinfluence.influence(est, X, y, leverage_method="sketch",
                                    leverage_options={"k": 128, "random_state": 0})
        assert inf.strategy == "iterative"
        u0, t, q = inf.engine.penalty_terms("fisher")
        u_ref, t_ref, q_ref = ref.engine.penalty_terms("fisher")
        np.testing.assert_allclose(u0, u_ref, rtol=1e-6, atol=1e-9 * np.abs(u_ref).max())
        assert q == pytest.approx(q_ref, rel=1e-6)
        assert spearmanr(inf.cooks_distance, ref.cooks_distance)[0] > 0.98
