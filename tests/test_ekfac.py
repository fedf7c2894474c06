"""EK-FAC solver: exact where the Kronecker form is exact, close elsewhere (vs direct, CG)."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import scale

import skinfluence


def _corr(a, b):
    return np.corrcoef(np.ravel(a), np.ravel(b))[0, 1]


def test_corrected_eigenvalues_are_the_exact_diagonal_in_the_kronecker_basis():
    X, y = load_iris(return_X_y=True)
    inf = skinfluence.influence(LogisticRegression(max_iter=1000).fit(X, y), X, y,
                                solver="ekfac", damping=0.01)
    ek = inf.solver
    ek.solve(np.zeros(inf.objective.n_params))
    obj = inf.objective
    N = obj.null_space()
    H = obj.hessian("observed") + N @ N.T + 0.01 * np.eye(obj.n_params)
    Q = np.kron(ek.QA, ek.QS)       # parameter layout theta[k * q + j]
    M = Q.T @ H @ Q
    assert np.allclose(np.diag(M), ek.eigenvalues.ravel(), rtol=1e-10)
    # the solve is Q diag(1/lambda) Q'
    v = np.random.default_rng(0).normal(size=obj.n_params)
    assert np.allclose(ek.solve(v), Q @ ((Q.T @ v) / np.diag(M)))


@pytest.mark.parametrize("sparse", [False, True])
def test_exact_for_least_squares_without_intercept(sparse):
    # B_i constant and an isotropic penalty: A (x) S is H itself
    X, y = load_diabetes(return_X_y=True)
    est = Ridge(alpha=0.5, fit_intercept=False).fit(X, y)
    Xf = sp.csr_matrix(X) if sparse else X
    a = skinfluence.influence(est, Xf, y, solver="ekfac", damping=0.1).loss_change(X[:5], y[:5])
    b = skinfluence.influence(est, Xf, y, solver="direct", damping=0.1).loss_change(X[:5], y[:5])
    assert np.allclose(a, b, rtol=1e-9, atol=1e-12 * np.abs(b).max())


def test_multinomial_accuracy_against_direct_and_cg():
    X, y = load_digits(n_class=5, return_X_y=True)
    X = X / 16.0
    Xtr, ytr, Xte, yte = X[:500], y[:500], X[500:], y[500:]
    est = LogisticRegression(max_iter=2000).fit(Xtr, ytr)
    infs = {s: skinfluence.influence(est, Xtr, ytr, solver=s, **kw) for s, kw in
            (("direct", {}), ("cg", {"tol": 1e-6}), ("ekfac", {}))}
    lc = {s: inf.loss_change(Xte[:10], yte[:10]) for s, inf in infs.items()}
    assert _corr(lc["cg"], lc["direct"]) > 0.999
    # measured 0.93 here (K = 5, 325 parameters), 35 of the top 40 shared
    assert _corr(lc["ekfac"], lc["direct"]) > 0.85
    # ranking of the most helpful training rows for the mean validation loss
    m = {s: infs[s].loss_change(Xte, yte, reduce="mean") for s in ("direct", "ekfac")}
    top_d = set(np.argsort(-m["direct"])[:40])
    top_e = set(np.argsort(-m["ekfac"])[:40])
    assert len(top_d & top_e) >= 20


def test_binary_logistic_and_errors():
    X, y = load_breast_cancer(return_X_y=True)
    X = scale(X)
    est = LogisticRegression().fit(X, y)
    a = skinfluence.influence(est, X, y, solver="ekfac").loss_change(X[:10], y[:10])
    b = skinfluence.influence(est, X, y, solver="direct").loss_change(X[:10], y[:10])
    # measured 0.85: for K = 1 EK-FAC is H diagonal in the eigenbasis of X'X, and
    # breast-cancer's IRLS weights vary over orders of magnitude (nearly separable)
    assert _corr(a, b) > 0.75
    with pytest.raises(TypeError, match="ekfac"):
        skinfluence.influence(est, X, y, solver="ekfac", tol=1e-3)
    assert repr(skinfluence.influence(est, X, y, solver="ekfac").solver) == "EKFACSolver()"
