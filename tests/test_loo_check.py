"""skinfluence.validation.loo_check: retrains and reports predicted vs actual changes."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skinfluence.validation import LooCheckResult, loo_check


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X, y


def test_ridge_newton_is_exact():
    """For Ridge the one-step Newton LOO parameter change is exact: predicted == actual
    (the test-loss change is its first-order term, so only highly correlated)."""
    X, y = load_diabetes(return_X_y=True)
    est = Ridge(alpha=0.5).fit(X[:300], y[:300])
    res = loo_check(est, X[:300], y[:300], X[300:320], y[300:320], n_rows=10, method="newton")
    assert isinstance(res, LooCheckResult)
    np.testing.assert_allclose(res.predicted_param_change, res.actual_param_change, rtol=1e-6, atol=1e-8)
    assert res.pearson_params > 0.999999 and res.pearson_loss > 0.99


def test_actual_changes_are_real_refits(cancer):
    X, y = cancer
    Xs = StandardScaler().fit_transform(X)
    est = LogisticRegression(solver="newton-cholesky").fit(Xs[:300], y[:300])
    res = loo_check(est, Xs[:300], y[:300], Xs[300:305], y[300:305], rows=[4, 17])
    np.testing.assert_array_equal(res.rows, [4, 17])
    keep = np.arange(300) != 17
    tight = dict(solver=est.solver, max_iter=10_000, tol=1e-10)
    full = LogisticRegression(**tight).fit(Xs[:300], y[:300])
    loo = LogisticRegression(**tight).fit(Xs[:300][keep], y[:300][keep])
    actual = np.r_[loo.intercept_ - full.intercept_, (loo.coef_ - full.coef_).ravel()]
    np.testing.assert_allclose(res.actual_param_change[1], actual, rtol=1e-4, atol=1e-7)
    p_full = full.predict_proba(Xs[300:305])[np.arange(5), y[300:305]]
    p_loo = loo.predict_proba(Xs[300:305])[np.arange(5), y[300:305]]
    np.testing.assert_allclose(res.actual_loss_change[1], -np.log(p_loo) + np.log(p_full), rtol=1e-4, atol=1e-9)


def test_random_selection_pipeline_weights_and_plot(cancer):
    X, y = cancer
    w = np.random.default_rng(0).uniform(0.5, 2.0, 300)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    pipe.fit(X[:300], y[:300], logisticregression__sample_weight=w)
    res = loo_check(pipe, X[:300], y[:300], X[300:310], y[300:310], sample_weight=w,
                    n_rows=15, select="random", random_state=0, method="newton", plot=True)
    again = loo_check(pipe, X[:300], y[:300], X[300:310], y[300:310], sample_weight=w,
                      n_rows=15, select="random", random_state=0, method="newton")
    np.testing.assert_array_equal(res.rows, again.rows)
    assert res.predicted_loss_change.shape == (15, 10)
    assert res.pearson_loss > 0.98 and res.pearson_params > 0.98
    assert "r=" in repr(res)
    ax = res.plot(what="params")
    assert ax.get_xlabel().startswith("actual parameter change")
    with pytest.raises(ValueError, match="select"):
        loo_check(pipe, X[:300], y[:300], X[300:310], y[300:310], select="worst")
