"""Contract tests that run over every registered part automatically.

A new loss, adapter, backend or selector is picked up here without editing this
file (adapters need one fitted example in ``EXAMPLES``; the test says so if one
is missing).
"""

import inspect

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import scale
from sklearn.svm import LinearSVC

import skinfluence
import skinfluence.losses as losses
import skinfluence.selection as selection
from skinfluence._loss import OneVsRestSmoothHingeLoss, SmoothHingeLoss
from skinfluence.adapters._registry import _ADAPTERS
from skinfluence.backends import available_backends, get_backend
from skinfluence.svm import SmoothHingeSVC

RNG = np.random.default_rng(0)


# -- losses ----------------------------------------------------------------------------
def _loss_cases():
    out = []
    for name in losses.__all__:
        cls = getattr(losses, name)
        if not (isinstance(cls, type) and issubclass(cls, losses.BaseLoss)) or cls is losses.BaseLoss:
            continue
        if cls is OneVsRestSmoothHingeLoss:
            out.append((cls(3, 0.5), RNG.integers(0, 3, 8).astype(float),
                        RNG.normal(size=(8, 3))))
        elif cls is SmoothHingeLoss:
            out.append((cls(0.5), RNG.choice([-1.0, 1.0], 8), RNG.normal(size=8)))
        elif cls is losses.HalfMultinomialLoss:
            out.append((cls(3), RNG.integers(0, 3, 8).astype(float), RNG.normal(size=(8, 3))))
        elif cls is losses.HalfBinomialLoss:
            out.append((cls(), RNG.integers(0, 2, 8).astype(float), RNG.normal(size=8)))
        elif cls is losses.HalfTweedieLoss:
            out.append((cls(power=1.5), RNG.gamma(2.0, 1.0, 8), RNG.normal(size=8) * 0.3))
        else:
            y = RNG.gamma(2.0, 1.0, 8) if cls is not losses.HalfSquaredError else RNG.normal(size=8)
            out.append((cls(), y, RNG.normal(size=8) * 0.3))
    assert {type(case[0]) for case in out} >= {SmoothHingeLoss, OneVsRestSmoothHingeLoss}
    return out


@pytest.mark.parametrize("loss, y, eta", _loss_cases(), ids=lambda v: repr(v)[:30])
def test_every_loss_derivatives_match_finite_differences(loss, y, eta):
    loss.check_y(y)
    eps = 1e-6
    g = np.atleast_2d(loss.gradient(y, eta).T).T if eta.ndim == 1 else loss.gradient(y, eta)
    H = loss.hessian(y, eta)
    cols = 1 if eta.ndim == 1 else eta.shape[1]
    for k in range(cols):
        e = np.zeros_like(eta)
        if eta.ndim == 1:
            e[:] = eps
        else:
            e[:, k] = eps
        fd = (loss.loss(y, eta + e) - loss.loss(y, eta - e)) / (2 * eps)
        gk = g if eta.ndim == 1 else g[:, k]
        np.testing.assert_allclose(np.ravel(gk), fd, rtol=1e-5, atol=1e-7)
        fd2 = (loss.gradient(y, eta + e) - loss.gradient(y, eta - e)) / (2 * eps)
        Hk = H if eta.ndim == 1 else H[:, :, k]
        np.testing.assert_allclose(np.ravel(Hk), np.ravel(fd2), rtol=1e-4, atol=1e-6)


# -- adapters ----------------------------------------------------------------------------
def _binary():
    X, y = load_breast_cancer(return_X_y=True)
    return scale(X[:150, :6]), y[:150]


def _regression():
    X, y = load_diabetes(return_X_y=True)
    return X[:150], y[:150]


def _counts():
    X = RNG.normal(size=(150, 4))
    return X, RNG.poisson(np.exp(0.3 + X @ [0.3, -0.2, 0.1, 0.0])).astype(float) + 0.5


TIGHT = dict(tol=1e-12, max_iter=100_000)
# one fitted example per registered adapter: (estimator, data, options)
EXAMPLES = {
    "LinearRegression": (sk.LinearRegression(), _regression, {}),
    "Ridge": (sk.Ridge(alpha=1.0), _regression, {}),
    "LogisticRegression": (sk.LogisticRegression(**TIGHT), _binary, {}),
    "PoissonRegressor": (sk.PoissonRegressor(alpha=0.1, **TIGHT), _counts, {}),
    "GammaRegressor": (sk.GammaRegressor(alpha=0.1, **TIGHT), _counts, {}),
    "TweedieRegressor": (sk.TweedieRegressor(power=1.5, alpha=0.1, **TIGHT), _counts, {}),
    "SmoothHingeSVC": (SmoothHingeSVC(C=1.0, temperature=0.5, tol=1e-10), _binary, {}),
    "LinearSVC": (LinearSVC(loss="hinge", C=0.1, tol=1e-10, max_iter=100_000), _binary,
                  {"temperature": 0.5, "fit_check": "warn"}),
    # SGD stops near its optimum: checked (a warning says how far), analysed polished
    "SGDClassifier": (sk.SGDClassifier(loss="log_loss", alpha=0.01, random_state=0), _binary,
                      {"fit_check": "polish"}),
    "SGDRegressor": (sk.SGDRegressor(alpha=0.01, random_state=0), lambda: (
        scale(_regression()[0]), _regression()[1] / 100.0), {"fit_check": "polish"}),
}


@pytest.mark.parametrize("key", sorted(_ADAPTERS))
def test_every_adapter_rebuilds_the_objective_its_estimator_minimized(key):
    name = key.rsplit(".", 1)[-1]
    assert name in EXAMPLES, f"add a fitted example for the adapter of {key} to EXAMPLES"
    est, data, options = EXAMPLES[name]
    X, y = data()
    est = clone(est).fit(X, y)
    adapter = _ADAPTERS[key]
    for opt in getattr(adapter, "options", ()):
        assert opt in inspect.signature(adapter).parameters
    inf = skinfluence.influence(est, X, y, **options)
    obj = inf.objective
    if name == "LinearSVC":  # the smoothed hinge is not what liblinear minimized
        assert inf.fit_check.status == "surrogate", inf.fit_check
    elif name.startswith("SGD"):
        assert inf.fit_check.status == "polished"
        with pytest.warns(skinfluence.FitCheckWarning, match="stochastic gradient"):
            assert skinfluence.influence(est, X, y).fit_check.status == "surrogate"
    else:
        assert inf.fit_check.status == "ok", inf.fit_check
    # evaluation data: unit weights, same encoding
    Xe, ye = inf._encode_test(X[:5], y[:5])
    assert np.array_equal(ye, obj.y[:5])
    assert obj.param_names is not None and len(obj.param_names) == obj.n_params
    # CSR gives the same objective
    inf_sp = skinfluence.influence(est, sp.csr_matrix(X), y, **options)
    np.testing.assert_allclose(inf_sp.objective.gradient(), obj.gradient(), atol=1e-8)


# -- backends ----------------------------------------------------------------------------
def _loadable_backends():
    out = []
    for name in available_backends():
        try:
            get_backend(name)
        except ImportError:
            continue
        out.append(name)
    return out


@pytest.mark.parametrize("name", _loadable_backends())
def test_every_backend_matches_numpy(name):
    be, ref = get_backend(name), get_backend("numpy")
    X = RNG.normal(size=(40, 5))
    w = RNG.uniform(0.1, 2.0, 40)
    M = RNG.normal(size=(6, 3))
    blocks = [RNG.normal(size=(6, 2)), RNG.normal(size=(6, 2))]
    coefs = RNG.normal(size=(40, 2))
    for fi in (True, False):
        Mf = M if fi else M[1:]
        bl = blocks if fi else [b[1:] for b in blocks]
        np.testing.assert_allclose(be.design_matmul(X, Mf, fi), ref.design_matmul(X, Mf, fi))
        V = RNG.normal(size=(40, 2))
        np.testing.assert_allclose(be.design_rmatmul(X, V, fi), ref.design_rmatmul(X, V, fi))
        np.testing.assert_allclose(be.weighted_gram(X, w, fi), ref.weighted_gram(X, w, fi))
        np.testing.assert_allclose(be.row_quadratic(X, bl, fi), ref.row_quadratic(X, bl, fi))
        np.testing.assert_allclose(be.row_combination(X, coefs, bl, fi),
                                   ref.row_combination(X, coefs, bl, fi))
    A = X.T @ X
    L = be.cholesky(A)
    np.testing.assert_allclose(L @ L.T, A)
    with pytest.raises(np.linalg.LinAlgError):
        be.cholesky(-A)
    assert not be.owns([[1.0]])  # a list is nobody's array
    np.testing.assert_array_equal(be.to_numpy(np.arange(3.0)), np.arange(3.0))


# -- selectors ---------------------------------------------------------------------------
def _selectors():
    out = []
    for name in selection.__all__:
        cls = getattr(selection, name)
        if isinstance(cls, type) and issubclass(cls, selection.BaseSelector) \
                and not inspect.isabstract(cls):
            out.append(cls)
    return out


@pytest.mark.parametrize("cls", _selectors(), ids=lambda c: c.__name__)
def test_every_selector_keeps_the_sampler_contract(cls):
    import pandas as pd

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = (X - X.mean()) / X.std()
    X, y = X.iloc[:300, :6], y.iloc[:300]
    X_val, y_val = X.iloc[:60], y.iloc[:60]
    X0, y0 = X.copy(), y.copy()
    params = inspect.signature(cls).parameters
    kwargs = {"random_state": 0} if "random_state" in params else {}
    sel = cls(**kwargs)
    assert clone(sel).get_params() == sel.get_params()
    if getattr(cls, "_uses_validation", False):
        Xs, ys = sel.fit_resample(X, y, X_val=X_val, y_val=y_val)
    else:
        Xs, ys = sel.fit_resample(X, y)
    assert isinstance(Xs, pd.DataFrame) and Xs.shape[1] == X.shape[1]
    assert len(ys) == Xs.shape[0] > 0
    assert set(Xs.index) <= set(X.index)          # the rows keep their labels
    idx = sel.sample_indices_
    assert np.all(Xs.to_numpy() == X.to_numpy()[idx])
    pd.testing.assert_frame_equal(X, X0)           # inputs untouched
    pd.testing.assert_series_equal(y, y0)
