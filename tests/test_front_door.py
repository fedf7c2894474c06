"""The front door (issue 10): every bad input gets an error naming it, the fit is
verified against the data, wrappers are resolved, and promises hold."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, scale
from sklearn.svm import LinearSVC

import skinfluence
from skinfluence import DegenerateFitError, FitCheckError, FitCheckWarning
from skinfluence.exceptions import SingularHessianError
from skinfluence.linear_model import LinearRegression, Ridge


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return scale(X), y


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True, as_frame=True)


def tight_logistic(**kw):
    return sk.LogisticRegression(tol=1e-10, max_iter=10_000, **kw)


# -- the data do not match the fit ---------------------------------------------------
def test_reordered_dataframe_columns_are_refused(diabetes):
    X, y = diabetes
    est = sk.LinearRegression().fit(X, y)
    with pytest.raises(ValueError, match="another order"):
        skinfluence.influence(est, X[X.columns[::-1]], y)
    with pytest.raises(ValueError, match="missing: \\['bmi'\\]"):
        skinfluence.influence(est, X.drop(columns="bmi").assign(other=1.0), y)


def test_copy_X_false_drop_in_is_refused_with_the_reason(diabetes):
    X, y = diabetes
    Xa = X.to_numpy().copy()
    est = LinearRegression(copy_X=False).fit(Xa, y)
    with pytest.raises(ValueError, match="copy_X=False"):
        est.influence()
    # the stock estimator with the centred array: caught by the fit check
    Xb = X.to_numpy().copy() + 5.0
    stock = sk.Ridge(alpha=1.0, copy_X=False).fit(Xb, y)
    with pytest.raises(FitCheckError, match="copy_X=False"):
        skinfluence.influence(stock, Xb, y)


def test_forgotten_weights_wrong_y_and_edited_X_are_refused(cancer):
    X, y = cancer
    w = np.random.default_rng(0).uniform(0.2, 5.0, y.size)
    est = tight_logistic().fit(X, y, sample_weight=w)
    with warnings.catch_warnings():  # never silent: a warning or an error naming the cause
        warnings.simplefilter("error", FitCheckWarning)
        with pytest.raises((FitCheckError, FitCheckWarning), match="sample weights"):
            skinfluence.influence(est, X, y)
    assert skinfluence.influence(est, X, y, w).fit_check.status == "ok"
    with pytest.raises(FitCheckError):
        skinfluence.influence(est, X, np.where(np.arange(y.size) % 10 == 0, 1 - y, y), w)
    ols = sk.LinearRegression().fit(X, y.astype(float))
    X2 = X.copy()
    X2[0] *= 1.5  # one row edited after fit
    with pytest.raises(FitCheckError, match="direct solver"):
        skinfluence.influence(ols, X2, y.astype(float))


def test_sampler_in_pipeline_is_refused(cancer):
    imblearn = pytest.importorskip("imblearn")
    from imblearn.pipeline import make_pipeline as imb_pipeline
    from imblearn.under_sampling import RandomUnderSampler

    X, y = cancer
    pipe = imb_pipeline(RandomUnderSampler(random_state=0), sk.LogisticRegression()).fit(X, y)
    assert imblearn is not None
    with pytest.raises(ValueError, match="resamples the rows"):
        skinfluence.influence(pipe, X, y)


def test_loose_fit_warns_and_polish_reaches_the_optimum(cancer):
    X, y = cancer
    loose = sk.LogisticRegression(C=100, max_iter=5000).fit(X, y)  # default tol=1e-4
    with pytest.warns(FitCheckWarning, match="standard errors from the optimum"):
        inf = skinfluence.influence(loose, X, y)
    assert inf.fit_check.status == "loose"
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitCheckWarning)
        polished = skinfluence.influence(loose, X, y, fit_check="polish")
        tight = skinfluence.influence(tight_logistic(C=100).fit(X, y), X, y)
    assert polished.fit_check.status == "polished"
    big = tight.cooks_distance > 1e-6 * tight.cooks_distance.max()
    np.testing.assert_allclose(polished.cooks_distance[big], tight.cooks_distance[big],
                               rtol=1e-4)
    assert np.max(np.abs(inf.cooks_distance[big] / tight.cooks_distance[big] - 1)) > 1e-3
    with pytest.raises(FitCheckError):
        skinfluence.influence(loose, X, y, fit_check="raise")


# -- degenerate fits ---------------------------------------------------------------------
def test_separated_classes_unpenalized():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    est = sk.LogisticRegression(C=np.inf, max_iter=10_000).fit(X, y)
    with pytest.raises(DegenerateFitError, match="separated"):
        skinfluence.influence(est, X, y)
    # a penalty makes the estimate exist
    skinfluence.influence(tight_logistic(C=1.0).fit(X, y), X, y)


def test_essentially_perfect_fit():
    X = np.arange(20.0).reshape(10, 2)
    X[:, 1] = X[:, 1] ** 2
    y = X @ [2.0, -1.0] + 3.0
    est = sk.LinearRegression().fit(X, y)
    with pytest.raises(DegenerateFitError, match="perfect fit"):
        skinfluence.influence(est, X, y)


def test_saturated_fit_is_a_clear_error_not_zero_division():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(4, 3)), rng.normal(size=4)
    est = sk.LinearRegression().fit(X, y)
    with pytest.raises(DegenerateFitError, match="saturated"):
        skinfluence.influence(est, X, y).cooks_distance


@pytest.mark.parametrize("scale_", [1e160, 1e-160])
def test_extreme_scales_are_named(scale_):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=50)
    est = sk.LinearRegression().fit(X, y)
    Xs = X.copy()
    Xs[:, 1] *= scale_
    with pytest.raises(ValueError, match="column 1.*(overflow|underflow)"):
        skinfluence.influence(est, Xs, y)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_collinear_and_constant_columns_name_the_dependent_parameter(backend, diabetes):
    if backend == "torch":
        pytest.importorskip("torch")
    X, y = diabetes
    Xd = X.assign(dup=X["bmi"] * 2.0)
    est = sk.LinearRegression().fit(Xd, y)
    with pytest.raises(SingularHessianError, match="dependent parameter: 'dup'"):
        skinfluence.influence(est, Xd, y, backend=backend).leverage
    Xc = X.assign(const=3.0)
    est = sk.LinearRegression().fit(Xc, y)
    with pytest.raises(SingularHessianError, match="dependent parameter: 'const'"):
        skinfluence.influence(est, Xc, y, backend=backend).leverage


# -- bad arguments -------------------------------------------------------------------------
@pytest.mark.parametrize("w, msg", [(-1.0, "non-negative"), (np.nan, "NaN"),
                                    ("a", "numeric"), (1 + 1j, "real-valued")])
def test_scalar_sample_weight_is_validated(w, msg, diabetes):
    X, y = diabetes
    est = sk.LinearRegression().fit(X, y)
    with pytest.raises(ValueError, match=f"sample_weight.*{msg}|{msg}.*sample_weight"):
        skinfluence.influence(est, X, y, sample_weight=w)


@pytest.mark.parametrize("damping", [np.nan, np.inf, -1.0, "0.1", True])
def test_bad_damping(damping, diabetes):
    X, y = diabetes
    est = sk.LinearRegression().fit(X, y)
    with pytest.raises(ValueError, match="damping"):
        skinfluence.influence(est, X, y, damping=damping)


@pytest.mark.parametrize("wm", [0, -5, np.nan, np.inf, "64", True])
def test_bad_working_memory(wm):
    with pytest.raises(ValueError, match="working_memory"):
        skinfluence.set_config(working_memory=wm)
    with pytest.raises(ValueError, match="working_memory"):
        with skinfluence.config_context(working_memory=wm):
            pass
    assert skinfluence.get_config()["working_memory"] == 256


def test_complex_input_is_refused(diabetes):
    X, y = diabetes
    est = sk.LinearRegression().fit(X, y)
    with pytest.raises(ValueError, match="X must be real-valued"):
        skinfluence.influence(est, X.to_numpy() + 0j, y)
    with pytest.raises(ValueError, match="y must be real-valued"):
        skinfluence.influence(est, X, y.to_numpy() + 0j)


def test_pandas_na_is_named(diabetes):
    X, y = diabetes
    est = sk.LinearRegression().fit(X, y)
    Xna = X.astype("Float64")
    Xna.iloc[3, 2] = pd.NA
    with pytest.raises(ValueError, match="X contains missing values.*row 3.*'bmi'"):
        skinfluence.influence(est, Xna, y)
    yna = y.astype("Float64")
    yna.iloc[5] = pd.NA
    with pytest.raises(ValueError, match="y contains missing values.*row 5"):
        skinfluence.influence(est, X, yna)


def test_unknown_option_lists_what_is_accepted(cancer):
    X, y = cancer
    est = tight_logistic().fit(X, y)
    with pytest.raises(TypeError, match="Unknown option 'temperature'.*active_set"):
        skinfluence.influence(est, X, y, temperature=0.1)
    with pytest.raises(ValueError, match="fit_check must be one of"):
        skinfluence.influence(est, X, y, fit_check="maybe")


def test_messages_name_the_validation_arguments(cancer):
    from skinfluence.selection import UIDSSampler

    X, y = cancer
    with pytest.raises(ValueError, match="X_val"):
        UIDSSampler(random_state=0).fit_resample(X, y, X_val=X[:10, :5], y_val=y[:10])
    with pytest.raises(ValueError, match="y_val"):
        UIDSSampler(random_state=0).fit_resample(X, y, X_val=X[:10], y_val=y[:9])


def test_balanced_class_weight_with_test_labels_missing_a_class(cancer):
    X, y = cancer
    est = tight_logistic(class_weight="balanced").fit(X, y)
    inf = skinfluence.influence(est, X, y)
    ones = np.flatnonzero(y == 1)[:5]
    out = inf.loss_change(X[ones], y[ones])   # the test labels miss class 0
    assert out.shape == (5, y.size) and np.all(np.isfinite(out))


def test_regression_or_classification_is_decided_by_the_estimator(diabetes):
    from skinfluence.selection import InfluenceFilter

    X, y = diabetes
    y_whole = np.round(y.to_numpy())  # whole-number floats: 200+ distinct values
    sel = InfluenceFilter(score="cooks", n_remove=5)
    Xs, ys = sel.fit_resample(X.to_numpy(), y_whole)
    assert ys.shape == (y.size - 5,)
    # an explicit regressor is never turned into a classifier either
    assert InfluenceFilter(estimator=sk.LinearRegression(), score="cooks",
                           n_remove=5).fit_resample(X.to_numpy(), y_whole)[1].size == y.size - 5


def test_base_selector_is_abstract():
    from skinfluence.selection import BaseSelector

    with pytest.raises(TypeError, match="abstract"):
        BaseSelector()


def test_unavailable_quantities_are_attribute_errors():
    X, y = load_iris(return_X_y=True)
    inf = skinfluence.influence(tight_logistic().fit(X, y), X, y)
    assert not hasattr(inf, "dffits")
    assert not hasattr(inf, "studentized_residuals")
    assert hasattr(inf, "cooks_distance")


# -- wrappers are resolved -----------------------------------------------------------------
def test_grid_search_and_cv_estimators_are_resolved(cancer):
    X, y = cancer
    grid = GridSearchCV(tight_logistic(), {"C": [0.1, 1.0]}, cv=3).fit(X, y)
    direct = skinfluence.influence(grid.best_estimator_, X, y)
    np.testing.assert_allclose(skinfluence.influence(grid, X, y).cooks_distance,
                               direct.cooks_distance)
    cv = sk.LogisticRegressionCV(Cs=[0.1, 1.0], tol=1e-10, max_iter=10_000).fit(X, y)
    inf = skinfluence.influence(cv, X, y)
    same = tight_logistic(C=float(cv.C_[0])).fit(X, y)
    np.testing.assert_allclose(inf.cooks_distance,
                               skinfluence.influence(same, X, y).cooks_distance, rtol=1e-4)
    Xd, yd = load_diabetes(return_X_y=True)
    ridge_cv = sk.RidgeCV(alphas=[0.1, 1.0, 10.0]).fit(Xd, yd)
    ridge = sk.Ridge(alpha=ridge_cv.alpha_).fit(Xd, yd)
    np.testing.assert_allclose(skinfluence.influence(ridge_cv, Xd, yd).leverage,
                               skinfluence.influence(ridge, Xd, yd).leverage, rtol=1e-8)


def test_transformed_target_regressor_uses_the_transformed_y(diabetes):
    X, y = diabetes
    ttr = TransformedTargetRegressor(sk.LinearRegression(), func=np.log,
                                     inverse_func=np.exp).fit(X, y)
    inf = skinfluence.influence(ttr, X, y)
    direct = skinfluence.influence(sk.LinearRegression().fit(X, np.log(y)), X, np.log(y))
    np.testing.assert_allclose(inf.cooks_distance, direct.cooks_distance, rtol=1e-10)


def test_pipeline_feature_names_flow_into_param_names(diabetes):
    X, y = diabetes
    pipe = make_pipeline(StandardScaler(), sk.LinearRegression()).fit(X, y)
    inf = skinfluence.influence(pipe, X, y)
    assert inf.param_names[:3] == ["(Intercept)", "age", "sex"]
    assert "dfb_bmi" in inf.summary_frame().columns


# -- promises kept ------------------------------------------------------------------------
def test_influence_pickles(cancer):
    X, y = cancer
    inf = skinfluence.influence(tight_logistic().fit(X, y), X, y)
    before = inf.cooks_distance
    again = pickle.loads(pickle.dumps(inf))
    np.testing.assert_allclose(again.cooks_distance, before)
    np.testing.assert_allclose(again.loss_change(X[:3], y[:3]), inf.loss_change(X[:3], y[:3]))


def test_loo_check_keeps_adapter_options(cancer):
    from skinfluence.validation import loo_check

    X, y = cancer
    svc = LinearSVC(loss="hinge", C=0.1, max_iter=100_000, tol=1e-8).fit(X[:200], y[:200])
    res = loo_check(svc, X[:200], y[:200], X[200:210], y[200:210], n_rows=5,
                    temperature=0.5, fit_check="warn")
    assert np.isfinite(res.pearson_loss)


@pytest.mark.parametrize("projection", ["gaussian", "sparse", "countsketch", "srht"])
def test_sketch_with_k_equal_to_the_columns_is_exact(projection, cancer):
    X, y = cancer
    est = tight_logistic().fit(X, y)
    exact = skinfluence.influence(est, X, y)
    sk_ = skinfluence.sketch.influence_sketch(est, X, y, k=X.shape[1] + 1,
                                              projection=projection, random_state=0)
    np.testing.assert_allclose(sk_.leverage, exact.leverage, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(sk_.cooks_distance, exact.cooks_distance, rtol=1e-6)


def test_user_arrays_are_never_modified(cancer):
    X, y = cancer
    Xc, yc = X.copy(), y.copy()
    est = tight_logistic().fit(X, y)
    inf = skinfluence.influence(est, sp.csr_matrix(X), y, fit_check="polish")
    _ = inf.cooks_distance, inf.loss_change(X[:2], y[:2])
    skinfluence.influence(est, X, y).summary_frame()
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(y, yc)


def test_ridge_drop_in_without_copy_problems(diabetes):
    X, y = diabetes
    inf = Ridge(alpha=0.5).fit(X, y).influence()
    assert inf.fit_check.status == "ok"


def test_wide_ridge_without_residual_degrees_of_freedom_says_so():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 60)), rng.normal(size=20)
    inf = skinfluence.influence(sk.Ridge(alpha=1e-3).fit(X, y), X, y)
    assert inf.df_resid < 1
    assert np.all(np.isfinite(inf.leverage)) and np.all(np.isfinite(inf.dfbeta))
    with pytest.raises(ValueError, match="residual degrees of freedom"):
        inf.dfbetas
    with pytest.raises(ValueError, match="residual degrees of freedom"):
        inf.summary_frame()
