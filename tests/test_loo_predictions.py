"""Leave-one-out linear predictors from one fit, against actual refits."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.preprocessing import scale

from skinfluence.linear_model import LinearRegression, LogisticRegression, PoissonRegressor, Ridge


def _refit_eta(est_factory, X, y, rows):
    out = []
    for i in rows:
        keep = np.arange(X.shape[0]) != i
        est = est_factory().fit(X[keep], y[keep])
        out.append(est.decision_function(X[i:i + 1])[0] if hasattr(est, "decision_function")
                   else est._linear_predictor(X[i:i + 1])[0] if hasattr(est, "_linear_predictor")
                   else est.predict(X[i:i + 1])[0])
    return np.array(out)


@pytest.mark.parametrize("factory", [lambda: LinearRegression(), lambda: Ridge(alpha=3.0)])
def test_least_squares_exact(factory):
    X, y = load_diabetes(return_X_y=True)
    X, y = X[:120], y[:120]
    eta = factory().fit(X, y).influence().loo_decision_function()
    rows = np.arange(0, 120, 13)
    assert np.allclose(eta[rows], _refit_eta(factory, X, y, rows), rtol=1e-8, atol=1e-8)


def test_logistic_binary_close_to_refit():
    X, y = load_breast_cancer(return_X_y=True)
    X = scale(X)[:200]
    y = y[:200]
    factory = lambda: LogisticRegression(C=0.5, tol=1e-12, max_iter=10_000)  # noqa: E731
    inf = factory().fit(X, y).influence()
    eta = inf.loo_decision_function()
    full = inf.objective.linear_predictor()[:, 0]
    rows = np.argsort(-np.abs(eta - full))[:15]  # the rows that move most
    actual = _refit_eta(factory, X, y, rows)
    assert np.corrcoef(eta[rows] - full[rows], actual - full[rows])[0, 1] > 0.99
    assert np.max(np.abs(eta[rows] - actual)) < 0.1 * np.max(np.abs(actual - full[rows]))


def test_multinomial_shape_and_refit():
    X, y = load_wine(return_X_y=True)
    X = scale(X)
    factory = lambda: LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000)  # noqa: E731
    inf = factory().fit(X, y).influence()
    eta = inf.loo_decision_function()
    assert eta.shape == (X.shape[0], 3)
    rows = np.arange(0, X.shape[0], 25)
    actual = _refit_eta(factory, X, y, rows)
    # identifiable up to a shift common to the classes
    d_pred = eta[rows] - eta[rows].mean(axis=1, keepdims=True)
    d_act = actual - actual.mean(axis=1, keepdims=True)
    assert np.max(np.abs(d_pred - d_act)) < 0.05


def test_penalized_poisson_includes_penalty_share():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = rng.poisson(np.exp(X @ [0.3, -0.2, 0.1]))
    factory = lambda: PoissonRegressor(alpha=0.5, tol=1e-12, max_iter=10_000)  # noqa: E731
    inf = factory().fit(X, y).influence()
    eta = inf.loo_decision_function()
    rows = np.arange(0, 60, 7)
    actual = np.array([
        np.log(factory().fit(np.delete(X, i, 0), np.delete(y, i)).predict(X[i:i + 1])[0])
        for i in rows
    ])
    assert np.max(np.abs(eta[rows] - actual)) < 5e-3


def test_proba_and_predict_shapes_match_cross_val_predict():
    X, y = load_wine(return_X_y=True)
    X = scale(X)
    est = LogisticRegression(max_iter=1000).fit(X, y)
    inf = est.influence()
    P = inf.loo_predict_proba()
    assert P.shape == (X.shape[0], 3)
    assert np.allclose(P.sum(axis=1), 1.0)
    assert set(np.unique(inf.loo_predict())) <= set(est.classes_)
    # binary: two columns, in classes_ order
    Xb, yb = load_breast_cancer(return_X_y=True)
    labels = np.where(yb == 1, "benign", "malignant")
    est = LogisticRegression(max_iter=1000).fit(scale(Xb), labels)
    inf = est.influence()
    Pb = inf.loo_predict_proba()
    assert Pb.shape == (Xb.shape[0], 2)
    full = est.predict_proba(scale(Xb))
    assert np.corrcoef(Pb[:, 1], full[:, 1])[0, 1] > 0.95
    assert set(inf.loo_predict()) <= {"benign", "malignant"}
    assert inf.loo_per_sample_loss().mean() >= inf.per_sample_loss.mean()


def test_proba_unavailable_for_regression_is_attribute_error():
    X, y = load_diabetes(return_X_y=True)
    inf = LinearRegression().fit(X, y).influence()
    with pytest.raises(AttributeError, match="probabilistic classifier"):
        inf.loo_predict_proba()
