"""ALO risk (Influence.alo_score) against brute-force leave-one-out refits."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import (
    GammaRegressor,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
)
from sklearn.metrics import get_scorer, make_scorer, mean_absolute_error
from sklearn.model_selection import GridSearchCV, LeaveOneOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, scale

import skinfluence
from skinfluence.model_selection import ALOSearchCV
from skinfluence.svm import SmoothHingeSVC

_CACHE = {}


def _loo_refits(est, X, y):
    """Every response of actual leave-one-out refits: {method: (n, ...) array}."""
    key = (repr(est), X.shape, float(np.sum(X)), float(np.sum(y)))
    if key not in _CACHE:
        out = {}
        for i in range(len(y)):
            keep = np.arange(len(y)) != i
            fit = clone(est).fit(X[keep], y[keep])
            for m in ("predict", "predict_proba", "decision_function"):
                if hasattr(fit, m):
                    out.setdefault(m, []).append(getattr(fit, m)(X[i:i + 1])[0])
        _CACHE[key] = {m: np.array(v) for m, v in out.items()}
    return _CACHE[key]


def _brute_score(est, X, y, scoring):
    """The scorer's metric on the refits' leave-one-out predictions."""
    scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
    preds = _loo_refits(est, X, y)
    method = scorer._response_method
    if isinstance(method, tuple):
        method = next(m for m in method if m in preds)
    pred = preds[method]
    if (method == "predict_proba" and pred.shape[1] == 2
            and scorer._score_func.__name__ != "log_loss"):
        pred = pred[:, 1]
    return scorer._sign * scorer._score_func(y, pred, **scorer._kwargs)


@pytest.fixture(scope="module")
def reg_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=40)
    y[5] += 6
    return X, y


@pytest.mark.parametrize("est", [LinearRegression(), Ridge(alpha=3.0),
                                 Ridge(alpha=0.5, fit_intercept=False)])
@pytest.mark.parametrize("scoring", ["neg_mean_squared_error", "r2",
                                     "neg_mean_absolute_error"])
def test_least_squares_alo_is_exact_loo(reg_data, est, scoring):
    X, y = reg_data
    fitted = clone(est).fit(X, y)
    got = skinfluence.influence(fitted, X, y).alo_score(scoring)
    assert got == pytest.approx(_brute_score(est, X, y, scoring), rel=1e-9)


def test_default_scoring_is_estimator_score(reg_data):
    X, y = reg_data
    inf = skinfluence.influence(Ridge().fit(X, y), X, y)
    assert inf.alo_score() == pytest.approx(inf.alo_score("r2"))


def test_callable_scorer(reg_data):
    X, y = reg_data
    inf = skinfluence.influence(Ridge().fit(X, y), X, y)
    scorer = make_scorer(mean_absolute_error, greater_is_better=False)
    assert inf.alo_score(scorer) == pytest.approx(inf.alo_score("neg_mean_absolute_error"))


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X = scale(X)[:, :8]
    rng = np.random.default_rng(1)
    idx = rng.choice(len(y), 80, replace=False)
    return X[idx], y[idx]


@pytest.mark.parametrize("scoring,tol", [("neg_log_loss", 0.03), ("roc_auc", 0.01),
                                         ("accuracy", 0.02), ("neg_brier_score", 0.03)])
def test_logistic_alo_close_to_loo(cancer, scoring, tol):
    X, y = cancer
    est = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-10)
    got = skinfluence.influence(clone(est).fit(X, y), X, y).alo_score(scoring)
    want = _brute_score(est, X, y, scoring)
    assert got == pytest.approx(want, rel=tol, abs=tol / 10)


def test_multinomial_alo_close_to_loo():
    X, y = load_iris(return_X_y=True)
    X, y = scale(X)[::2], y[::2]
    est = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-10)
    got = skinfluence.influence(clone(est).fit(X, y), X, y).alo_score("neg_log_loss")
    want = _brute_score(est, X, y, "neg_log_loss")
    assert got == pytest.approx(want, rel=0.03)
    acc = skinfluence.influence(clone(est).fit(X, y), X, y).alo_score("accuracy")
    assert acc == pytest.approx(_brute_score(est, X, y, "accuracy"), abs=0.015)


@pytest.mark.parametrize("Est,scoring", [(PoissonRegressor, "neg_mean_poisson_deviance"),
                                         (GammaRegressor, "neg_mean_gamma_deviance")])
def test_glm_alo_close_to_loo(Est, scoring):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 3))
    mu = np.exp(0.3 + X @ [0.4, -0.3, 0.2])
    y = rng.poisson(mu) if Est is PoissonRegressor else rng.gamma(2.0, mu / 2.0)
    est = Est(alpha=0.05, solver="newton-cholesky", tol=1e-10)
    got = skinfluence.influence(clone(est).fit(X, y), X, y).alo_score(scoring)
    assert got == pytest.approx(_brute_score(est, X, y, scoring), rel=0.02)
    d2 = skinfluence.influence(clone(est).fit(X, y), X, y).alo_score()  # D^2 of the deviance
    assert d2 < clone(est).fit(X, y).score(X, y)                        # below in-sample D^2


def test_svm_alo_accuracy_and_auc(cancer):
    X, y = cancer
    est = SmoothHingeSVC(C=1.0, temperature=0.1, tol=1e-8)
    inf = skinfluence.influence(clone(est).fit(X, y), X, y)
    assert inf.alo_score("roc_auc") == pytest.approx(_brute_score(est, X, y, "roc_auc"),
                                                     abs=0.01)
    assert inf.alo_score("accuracy") == pytest.approx(_brute_score(est, X, y, "accuracy"),
                                                      abs=0.02)
    with pytest.raises(AttributeError):
        inf.alo_score("neg_log_loss")     # no probabilities: the scorer cannot run


@pytest.mark.slow
def test_l1_logistic_on_active_set(cancer):
    X, y = cancer
    est = LogisticRegression(l1_ratio=1.0, C=0.5, solver="saga", tol=1e-8, max_iter=20000)
    fitted = clone(est).fit(X, y)
    with pytest.raises(TypeError, match="active_set"):
        skinfluence.influence(fitted, X, y).alo_score("neg_log_loss")
    got = skinfluence.influence(fitted, X, y, active_set=True).alo_score("neg_log_loss")
    want = _brute_score(est, X, y, "neg_log_loss")
    assert got == pytest.approx(want, rel=0.05)


def test_bad_scoring(reg_data):
    X, y = reg_data
    inf = skinfluence.influence(Ridge().fit(X, y), X, y)
    with pytest.raises(ValueError, match="scoring"):
        inf.alo_score(3)
    with pytest.raises(ValueError):
        inf.alo_score("no_such_scorer")


# -- ALOSearchCV -------------------------------------------------------------------------


def test_search_ridge_equals_leave_one_out_grid_search(reg_data):
    X, y = reg_data
    grid = {"alpha": np.logspace(-2, 3, 6)}
    alo = ALOSearchCV(Ridge(), grid, scoring="neg_mean_squared_error").fit(X, y)
    gs = GridSearchCV(Ridge(), grid, scoring="neg_mean_squared_error",
                      cv=LeaveOneOut()).fit(X, y)
    np.testing.assert_allclose(alo.cv_results_["mean_test_score"],
                               gs.cv_results_["mean_test_score"], rtol=1e-9)
    assert alo.best_params_ == gs.best_params_
    np.testing.assert_array_equal(alo.cv_results_["rank_test_score"],
                                  gs.cv_results_["rank_test_score"])
    np.testing.assert_allclose(alo.predict(X), gs.predict(X))
    assert alo.best_score_ == pytest.approx(gs.best_score_)


def test_search_pipeline_logistic_close_to_loo(cancer):
    X, y = cancer[0][:50], cancer[1][:50]
    pipe = make_pipeline(StandardScaler(), LogisticRegression(solver="newton-cholesky",
                                                              tol=1e-10))
    grid = {"logisticregression__C": [0.03, 0.3, 3.0]}
    alo = ALOSearchCV(pipe, grid, scoring="neg_log_loss").fit(X, y)
    assert set(alo.cv_results_) >= {"params", "param_logisticregression__C",
                                     "mean_test_score", "rank_test_score", "mean_fit_time"}
    est = LogisticRegression(solver="newton-cholesky", tol=1e-10)
    Xs = StandardScaler().fit_transform(X)   # the transformer is held fixed in ALO
    want = [_brute_score(clone(est).set_params(C=c), Xs, y, "neg_log_loss")
            for c in grid["logisticregression__C"]]
    np.testing.assert_allclose(alo.cv_results_["mean_test_score"], want, rtol=0.03)
    assert alo.best_index_ == int(np.argmax(want))
    assert alo.predict_proba(X).shape == (len(y), 2)
    assert list(alo.classes_) == [0, 1]
    assert alo.score(X, y) < 0                  # neg_log_loss of the refitted model


def test_search_warm_start_and_errors(cancer):
    X, y = cancer
    search = ALOSearchCV(LogisticRegression(), {"C": [0.1, 1.0]})
    search.fit(X, y)
    assert search.best_estimator_.get_params()["warm_start"] is False  # fresh refit
    assert 0.5 < search.best_score_ <= 1.0                              # ALO accuracy
    bad = ALOSearchCV(LogisticRegression(l1_ratio=1.0, solver="saga"), {"C": [1.0]})
    with pytest.raises(TypeError, match="active_set"):
        bad.fit(X, y)
    with pytest.raises(ValueError, match="error_score"):
        ALOSearchCV(Ridge(), {"alpha": [1.0]}, error_score="x").fit(X, y)


@pytest.mark.slow
@pytest.mark.parametrize("search", [ALOSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}),
                                    ALOSearchCV(Ridge(), {"alpha": [0.1, 1.0]})],
                         ids=["logistic", "ridge"])
def test_check_estimator(search):
    from sklearn.utils.estimator_checks import check_estimator

    expected = {
        # ALO leaves one *row* out: a weight of 2 is not two rows, so the selected
        # penalty (hence predict) differs between weighting and repeating rows
        "check_sample_weight_equivalence_on_dense_data": "ALO is per row",
        "check_sample_weight_equivalence_on_sparse_data": "ALO is per row",
        # skinfluence's own data checks reject these before the estimator's messages
        "check_dtype_object": "influence() validates X, y",
        "check_supervised_y_2d": "influence() needs a 1-d target",
        "check_fit2d_1sample": "one row has no leave-one-out prediction",
    }
    check_estimator(search, expected_failed_checks=expected)


def test_search_sample_weight_equals_weighted_loo_grid_search(reg_data):
    X, y = reg_data
    w = np.random.default_rng(5).uniform(0.2, 3.0, size=len(y))
    grid = {"alpha": [0.1, 3.0, 30.0]}
    alo = ALOSearchCV(Ridge(), grid, scoring="neg_mean_squared_error").fit(X, y, sample_weight=w)
    gs = GridSearchCV(Ridge(), grid, scoring="neg_mean_squared_error",
                      cv=LeaveOneOut()).fit(X, y, sample_weight=w)   # weights in fit only
    np.testing.assert_allclose(alo.cv_results_["mean_test_score"],
                               gs.cv_results_["mean_test_score"], rtol=1e-9)
    np.testing.assert_allclose(alo.best_estimator_.coef_, gs.best_estimator_.coef_)
