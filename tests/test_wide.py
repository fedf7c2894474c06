"""Wide designs (more parameters than rows): the n x n kernel (dual) form equals the
primal P x P Cholesky form, agrees with actual refits, and the memory guard chooses
or refuses clearly."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression, PoissonRegressor, Ridge

import skinfluence
from skinfluence._strategy import HessianMemoryError, StrategyWarning

RTOL = 1e-8

rng = np.random.default_rng(0)
N, P = 30, 90
X = rng.normal(size=(N, P))
SW = rng.uniform(0.5, 2.0, size=N)
Y_BIN = (X[:, 0] + rng.normal(size=N) > 0).astype(int)
Y_REG = X[:, 0] + rng.normal(size=N)
Y_CNT = rng.poisson(np.exp(0.3 * X[:, 0]))
Y_MULTI = rng.integers(0, 3, size=N)
X_TEST = rng.normal(size=(5, P))
X_CONFIDENT = X.copy()
X_CONFIDENT[:5] *= 8.0  # rows fitted with IRLS weights ~1e-6: the direct branch of the dual


def _cases():
    return {
        "logistic-weights-intercept": (LogisticRegression(C=0.5), X, Y_BIN, SW),
        "logistic-no-intercept": (LogisticRegression(C=0.5, fit_intercept=False), X, Y_BIN, None),
        "logistic-liblinear-penalized-intercept": (
            LogisticRegression(C=0.5, solver="liblinear", tol=1e-10), X, Y_BIN, None),
        "logistic-sparse": (LogisticRegression(C=2.0), sp.csr_matrix(np.where(
            np.abs(X) > 1, X, 0.0)), Y_BIN, SW),
        "ridge-weights": (Ridge(alpha=100.0), X, Y_REG, SW),
        "poisson-share-weights": (PoissonRegressor(alpha=1.0, solver="newton-cholesky", tol=1e-10),
                                  X, Y_CNT, SW),
        "multinomial-weights": (LogisticRegression(C=0.5, solver="newton-cholesky", tol=1e-10),
                                X, Y_MULTI, SW),
        "logistic-confident-rows": (LogisticRegression(C=1.0, tol=1e-12, max_iter=10000),
                                    X_CONFIDENT, Y_BIN, None),
    }


CASES = _cases()


def _rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.fixture(scope="module", params=list(CASES))
def pair(request):
    est, Xc, y, sw = CASES[request.param]
    est = est.fit(Xc, y, sample_weight=sw)
    dual = skinfluence.influence(est, Xc, y, sample_weight=sw)
    primal = skinfluence.influence(est, Xc, y, sample_weight=sw, strategy="primal")
    return request.param, dual, primal, Xc, y


def test_auto_chooses_dual_for_wide(pair):
    _, dual, primal, _, _ = pair
    assert dual.engine.strategy == "dual"
    assert "kernel" in dual.engine.strategy_reason
    assert primal.engine.strategy == "primal"
    assert dual.solver.name == "direct"


@pytest.mark.parametrize("attr", ["leverage", "cooks_distance", "dfbeta", "dfbetas",
                                  "self_influence", "up_params"])
def test_dual_equals_primal_diagnostics(pair, attr):
    _, dual, primal, _, _ = pair
    assert _rel(getattr(dual, attr), getattr(primal, attr)) < RTOL


def test_dual_equals_primal_engine_and_functions(pair):
    _, dual, primal, _, y = pair
    for kind in ("fisher", "observed"):
        assert _rel(dual.engine.C(kind), primal.engine.C(kind)) < RTOL
        assert _rel(dual.engine.loo_v(kind), primal.engine.loo_v(kind)) < RTOL
        assert _rel(dual.engine.loo_eta_change(kind), primal.engine.loo_eta_change(kind)) < RTOL
    assert _rel(dual.param_change(), primal.param_change()) < RTOL
    assert _rel(dual.param_change("newton"), primal.param_change("newton")) < RTOL
    v = np.random.default_rng(1).normal(size=(dual.objective.n_params, 3))
    assert _rel(dual.ihvp(v), primal.ihvp(v)) < RTOL
    assert _rel(dual.engine.factor("fisher").inverse_diag(),
                primal.engine.factor("fisher").inverse_diag()) < RTOL
    y_test = y[:5]
    assert _rel(dual.loss_change(X_TEST, y_test), primal.loss_change(X_TEST, y_test)) < RTOL
    assert _rel(dual.group_param_change([0, 3], method="newton"),
                primal.group_param_change([0, 3], method="newton")) < 1e-6


def test_dual_ridge_matches_refits():
    # exact for Ridge: the dual dfbeta is the actual leave-one-out refit
    est = Ridge(alpha=2.0).fit(X, Y_REG, sample_weight=SW)
    inf = skinfluence.influence(est, X, Y_REG, sample_weight=SW)
    assert inf.engine.strategy == "dual"
    for i in (0, 7, 29):
        keep = np.arange(N) != i
        refit = Ridge(alpha=2.0).fit(X[keep], Y_REG[keep], sample_weight=SW[keep])
        theta = np.r_[refit.intercept_, refit.coef_]
        np.testing.assert_allclose(inf.objective.theta - inf.dfbeta[i], theta,
                                   rtol=1e-7, atol=1e-9)
    # and the hat diagonal is the leverage of the smoother y -> y_hat (finite differences)
    loo = inf.loo_decision_function()
    for i in (0, 7):
        keep = np.arange(N) != i
        refit = Ridge(alpha=2.0).fit(X[keep], Y_REG[keep], sample_weight=SW[keep])
        assert np.isclose(loo[i], refit.predict(X[i:i + 1])[0], rtol=1e-8)


def test_dual_multinomial_unpenalized_intercepts_is_pseudo_inverse():
    est, Xc, y, sw = CASES["multinomial-weights"]
    inf = skinfluence.influence(est.fit(Xc, y, sample_weight=sw), Xc, y, sample_weight=sw)
    assert inf.engine.strategy == "dual"
    H = inf.objective.hessian("observed")
    g = inf.up_params[:4].T  # gradients are orthogonal to the null space
    np.testing.assert_allclose(H @ g, -inf._gradient_vectors(Xc[:4], inf._unit_eta_gradient()[:4]),
                               atol=1e-8)


def test_strategy_errors():
    from sklearn.linear_model import LinearRegression

    Xt = rng.normal(size=(50, 3))
    yt = Xt[:, 0] + rng.normal(size=50)
    est = LinearRegression().fit(Xt, yt)
    with pytest.raises(ValueError, match="unpenalized"):
        skinfluence.influence(est, Xt, yt, strategy="dual")
    with pytest.raises(ValueError, match="strategy must be one of"):
        skinfluence.influence(est, Xt, yt, strategy="kernel")
    inf = skinfluence.influence(est, Xt, yt)
    assert inf.engine.strategy == "primal"  # tall data


def test_memory_guard_chooses_dual_when_only_it_fits():
    est = LogisticRegression(C=0.5).fit(X, Y_BIN)
    # P = 91: primal needs 4 * 8 * 91^2 = 265 KB; dual 5 * 8 * 30^2 = 36 KB
    with skinfluence.config_context(working_memory=0.005):  # budget 16 * 5 KiB = 80 KiB
        inf = skinfluence.influence(est, X, Y_BIN)
        assert inf.engine.strategy == "dual"
        assert inf.leverage.shape == (N,)


def test_memory_guard_iterative_warns_and_refuses_clearly():
    est = LogisticRegression(C=0.5).fit(X, Y_BIN)
    exact = skinfluence.influence(est, X, Y_BIN)
    with skinfluence.config_context(working_memory=0.001):  # budget 16 KiB: neither fits
        with pytest.warns(StrategyWarning, match="iterative.*conjugate gradients"):
            inf = skinfluence.influence(est, X, Y_BIN)
        assert inf.engine.strategy == "iterative"
        assert inf.solver.name == "cg"
        with pytest.raises(HessianMemoryError, match="influence_sketch.*working_memory"):
            _ = inf.leverage
        with pytest.raises(MemoryError):
            _ = inf.cooks_distance
        # influence functions still work, matrix-free
        np.testing.assert_allclose(inf.self_influence, exact.self_influence, rtol=1e-6)


def test_memory_guard_explicit_strategy_is_honoured():
    est = LogisticRegression(C=0.5).fit(X, Y_BIN)
    with skinfluence.config_context(working_memory=0.001), warnings.catch_warnings():
        warnings.simplefilter("error")
        inf = skinfluence.influence(est, X, Y_BIN, strategy="dual")
        assert inf.engine.strategy == "dual"
        assert inf.engine.strategy_reason == "strategy='dual' was requested"
        assert inf.leverage.shape == (N,)


def test_dual_with_zero_weight_rows():
    sw = SW.copy()
    sw[:4] = 0.0  # rows out of the fit still get their (out-of-sample) quantities
    est = LogisticRegression(C=0.5).fit(X, Y_BIN, sample_weight=sw)
    dual = skinfluence.influence(est, X, Y_BIN, sample_weight=sw)
    primal = skinfluence.influence(est, X, Y_BIN, sample_weight=sw, strategy="primal")
    assert dual.engine.strategy == "dual"
    for attr in ("leverage", "cooks_distance", "dfbeta", "self_influence"):
        assert _rel(getattr(dual, attr), getattr(primal, attr)) < RTOL
    assert _rel(dual.engine.C("fisher"), primal.engine.C("fisher")) < RTOL


def test_dual_single_output_uses_both_branches():
    """Single-output C_i and T come from M^-1 where r_i^2 Kern_ii >= 1e-2 and from the
    direct triangular solves elsewhere; the pair tests above check both against the
    primal form (the confident rows take the direct branch)."""
    est, Xc, y, sw = CASES["logistic-confident-rows"]
    inf = skinfluence.influence(est.fit(Xc, y), Xc, y)
    ok, _ = inf.engine.factor("fisher")._through_minv()
    assert 0 < np.count_nonzero(~ok) < ok.size
