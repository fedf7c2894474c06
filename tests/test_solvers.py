"""Inverse Hessian-vector products: direct vs CG vs LiSSA, HVPs vs the formed Hessian."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import statsmodels.api as sm
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.linear_model import LogisticRegression as SkLogistic
from sklearn.linear_model import PoissonRegressor as SkPoisson
from sklearn.preprocessing import StandardScaler

import skinfluence
from skinfluence._solvers import HessianOperator
from skinfluence.exceptions import ConvergenceWarning

TIGHT = dict(solver="newton-cholesky", tol=1e-12, max_iter=1000)


def _problem(name):
    if name == "cancer":
        X, y = load_breast_cancer(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        est = SkLogistic(C=1.0, **TIGHT).fit(X[:400], y[:400])
        return est, X[:400], y[:400], X[400:], y[400:]
    if name == "wine":
        X, y = load_wine(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        est = SkLogistic(C=1.0, **TIGHT).fit(X[::2], y[::2])
        return est, X[::2], y[::2], X[1::2], y[1::2]
    d = sm.datasets.randhie.load_pandas().data
    idx = np.random.default_rng(0).choice(len(d), 500, replace=False)
    y = d["mdvis"].to_numpy(float)[idx]
    X = StandardScaler().fit_transform(d.drop(columns="mdvis").to_numpy(float)[idx])
    est = SkPoisson(alpha=1e-3, solver="newton-cholesky", tol=1e-12).fit(X[:400], y[:400])
    return est, X[:400], y[:400], X[400:], y[400:]


PROBLEMS = {name: _problem(name) for name in ("cancer", "wine", "randhie")}


@pytest.mark.parametrize("name", list(PROBLEMS))
@pytest.mark.parametrize("damping", [0.0, 0.5])
def test_hvp_and_diagonal_equal_the_formed_hessian(name, damping):
    est, X, y, _, _ = PROBLEMS[name]
    inf = skinfluence.influence(est, X, y, damping=damping)
    obj = inf.objective
    op = HessianOperator(obj, inf.engine.backend, inf.engine.B("observed"), damping=damping)
    H = obj.hessian("observed") + damping * np.eye(obj.n_params)
    null = obj.null_space()
    if null is not None:
        H = H + null @ null.T
    V = np.random.default_rng(0).normal(size=(obj.n_params, 3))
    np.testing.assert_allclose(op.matvec(V), H @ V, rtol=1e-10, atol=1e-10 * np.abs(H).max())
    np.testing.assert_allclose(op.diagonal(), np.diag(H), rtol=1e-10)


@pytest.mark.parametrize("name", list(PROBLEMS))
@pytest.mark.parametrize("damping", [0.0, 0.5])
def test_cg_matches_direct_to_1e_6(name, damping):
    est, X, y, Xte, yte = PROBLEMS[name]
    direct = skinfluence.influence(est, X, y, damping=damping, solver="direct")
    cg = skinfluence.influence(est, X, y, damping=damping, solver="cg")
    a, b = direct.loss_change(Xte, yte), cg.loss_change(Xte, yte)
    assert np.linalg.norm(b - a) <= 1e-6 * np.linalg.norm(a)
    a, b = direct.self_influence, cg.self_influence
    assert np.linalg.norm(b - a) <= 1e-6 * np.linalg.norm(a)
    a, b = direct.up_params, cg.up_params
    assert np.linalg.norm(b - a) <= 1e-6 * np.linalg.norm(a)
    a, b = direct.pert_loss(Xte, yte, reduce="mean"), cg.pert_loss(Xte, yte, reduce="mean")
    assert np.linalg.norm(b - a) <= 1e-6 * np.linalg.norm(a)


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_lissa_defaults_correlate_with_exact(name):
    est, X, y, Xte, yte = PROBLEMS[name]
    exact = skinfluence.influence(est, X, y).loss_change(Xte, yte).ravel()
    lissa = skinfluence.influence(est, X, y, solver="lissa").loss_change(Xte, yte).ravel()
    assert np.corrcoef(exact, lissa)[0, 1] >= 0.95


def test_lissa_stochastic_minibatches_correlate_with_exact():
    est, X, y, Xte, yte = PROBLEMS["cancer"]
    exact = skinfluence.influence(est, X, y).loss_change(Xte, yte).ravel()
    inf = skinfluence.influence(est, X, y, solver="lissa", batch_size=100, n_samples=4,
                                random_state=0)
    est_ = inf.loss_change(Xte, yte).ravel()
    assert np.corrcoef(exact, est_)[0, 1] >= 0.95
    again = skinfluence.influence(est, X, y, solver="lissa", batch_size=100, n_samples=4,
                                  random_state=0).loss_change(Xte, yte).ravel()
    np.testing.assert_array_equal(est_, again)  # reproducible with random_state


def test_lissa_with_small_scale_raises_instead_of_nans():
    est, X, y, Xte, yte = PROBLEMS["cancer"]
    inf = skinfluence.influence(est, X, y, solver="lissa", scale=1.0, depth=500)
    with pytest.raises(ValueError, match="larger scale"):
        inf.loss_change(Xte, yte)


def test_cg_warns_with_the_residual_reached():
    est, X, y, Xte, yte = PROBLEMS["cancer"]
    inf = skinfluence.influence(est, X, y, solver="cg", max_iter=2)
    with pytest.warns(ConvergenceWarning, match="relative residual reached"):
        inf.loss_change(Xte, yte)


def test_option_and_name_validation():
    est, X, y, _, _ = PROBLEMS["cancer"]
    with pytest.raises(ValueError, match="solver must be one of"):
        skinfluence.influence(est, X, y, solver="qr")
    with pytest.raises(TypeError, match="do not apply to solver='cg'"):
        skinfluence.influence(est, X, y, solver="cg", scale=3.0)
    with pytest.raises(ValueError, match="scale must be > 0"):
        skinfluence.influence(est, X, y, solver="lissa", scale=-1.0)
    inf = skinfluence.influence(est, X, y, solver="cg")
    with pytest.raises(ValueError, match="only the direct solver"):
        inf.loss_change(X[:2], y[:2], method="newton")


def test_auto_uses_direct_for_small_problems():
    est, X, y, _, _ = PROBLEMS["wine"]
    assert skinfluence.influence(est, X, y).solver.name == "direct"


def test_cg_on_sparse_data_with_100000_features():
    """CSR X, p = 100,000: CG never forms H, HVP residual is small; 'auto' picks the
    exact n x n kernel form (n = 1000 rows), which agrees with CG."""
    rng = np.random.default_rng(0)
    n, p = 1000, 100_000
    X = sp.random(n, p, density=2e-4, format="csr", random_state=rng, dtype=np.float64)
    X.data = rng.normal(size=X.data.size)
    w = np.zeros(p)
    w[:50] = rng.normal(size=50)
    y = (X @ w + 0.5 * rng.normal(size=n) > 0).astype(int)
    est = SkLogistic(C=1.0, max_iter=500, tol=1e-10).fit(X, y)
    inf = skinfluence.influence(est, X, y, solver="cg")
    assert inf.solver.name == "cg"
    auto = skinfluence.influence(est, X, y)
    assert (auto.engine.strategy, auto.solver.name) == ("dual", "direct")
    Xte, yte = X[:20], y[:20]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        lc = inf.loss_change(Xte, yte)
    assert lc.shape == (20, n) and np.all(np.isfinite(lc))
    np.testing.assert_allclose(auto.loss_change(Xte, yte), lc, rtol=1e-6,
                               atol=1e-8 * np.abs(lc).max())
    # the solution solves H u = grad l_test: check through independent HVPs
    G = inf.objective.eta_gradient(Xte, yte)
    V = inf._gradient_vectors(Xte, G)
    U = inf.ihvp(V)
    op = inf.solver.operator
    assert np.linalg.norm(op.matvec(U) - V) <= 1e-8 * np.linalg.norm(V)
    assert "_cache" in vars(inf.engine) and ("H", "observed") not in inf.engine._cache
