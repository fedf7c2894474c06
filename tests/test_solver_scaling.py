"""Per-row influence functions on the iterative solvers cost a number of
Hessian-vector products that does not grow with n (counted, not timed)."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

import skinfluence

P = 6


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, P))
    y = (X[:, 0] - X[:, 1] + rng.normal(size=n) > 0).astype(int)
    return X, y


def _count(inf, what):
    op = inf.solver.operator
    before = op.n_vectors
    what(inf)
    return op.n_vectors - before


PER_ROW = {
    "self_influence": lambda inf: inf.self_influence,
    "up_params": lambda inf: inf.up_params,
    "param_change": lambda inf: inf.param_change(),
}


@pytest.mark.parametrize("name", list(PER_ROW))
def test_cg_vector_count_does_not_grow_with_n(name):
    counts = []
    for n in (400, 1600):
        X, y = _data(n)
        est = LogisticRegression().fit(X, y)
        inf = skinfluence.influence(est, X, y, solver="cg")
        counts.append(_count(inf, PER_ROW[name]))
        exact = skinfluence.influence(est, X, y, solver="direct")
        np.testing.assert_allclose(PER_ROW[name](inf), PER_ROW[name](exact),
                                   rtol=1e-6, atol=1e-9)
    # P + 1 = 7 right-hand sides, a few dozen iterations each at most: far below n
    assert counts[1] <= counts[0] + 2 * (P + 1)
    assert counts[1] < 400


def test_lissa_vector_count_is_independent_of_n():
    counts = []
    for n in (300, 1200):
        X, _ = _data(n, seed=1)
        est = Ridge(alpha=float(n)).fit(X, X[:, 0])
        inf = skinfluence.influence(est, X, X[:, 0], solver="lissa", scale=20.0 * n, depth=50)
        counts.append(_count(inf, lambda i: i.self_influence))
    assert counts[0] == counts[1] == 50 * (P + 1)


def test_loss_change_cg_count_depends_on_test_rows_only():
    counts = []
    for n in (400, 1600):
        X, y = _data(n, seed=2)
        inf = skinfluence.influence(LogisticRegression().fit(X, y), X, y, solver="cg")
        Xte, yte = X[:3], y[:3]
        counts.append(_count(inf, lambda i, Xte=Xte, yte=yte: i.loss_change(Xte, yte)))
    assert counts[1] <= counts[0] + 2 * 3
