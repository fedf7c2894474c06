"""ResampledEstimator in plain scikit-learn: Pipeline, GridSearchCV, cross_val_score, clone, pickle."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from skinfluence.pipeline import ResampledEstimator
from skinfluence.selection import (
    LeverageSampler,
    NoValidationDataWarning,
    OptimalSubsampler,
    UIDSSampler,
)


def _regression(n=2000, p=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_t(4, size=(n, p))
    return X, X @ np.arange(1.0, p + 1) + rng.normal(size=n)


def test_fit_equals_manual_resample_then_weighted_fit():
    X, y = _regression()
    model = ResampledEstimator(OptimalSubsampler(n_samples=200, random_state=3), LinearRegression())
    model.fit(X, y)
    sampler = OptimalSubsampler(n_samples=200, random_state=3)
    Xs, ys = sampler.fit_resample(X, y)
    ref = LinearRegression().fit(Xs, ys, sample_weight=sampler.sample_weight_)
    np.testing.assert_allclose(model.estimator_.coef_, ref.coef_)
    np.testing.assert_array_equal(model.sample_indices_, sampler.sample_indices_)
    np.testing.assert_allclose(model.predict(X), ref.predict(X))
    assert model.n_features_in_ == 4
    assert is_regressor(model) and not is_classifier(model)


def test_user_sample_weight_multiplies_sampler_weights():
    X, y = _regression()
    sw = np.random.default_rng(1).uniform(0.5, 2, size=X.shape[0])
    model = ResampledEstimator(LeverageSampler(n_samples=300, random_state=0), LinearRegression())
    model.fit(X, y, sample_weight=sw)
    s = LeverageSampler(n_samples=300, random_state=0)
    Xs, ys = s.fit_resample(X, y)
    ref = LinearRegression().fit(Xs, ys, sample_weight=s.sample_weight_ * sw[s.sample_indices_])
    np.testing.assert_allclose(model.estimator_.coef_, ref.coef_)


def test_grid_search_over_sampler_parameters():
    X, y = _regression(n=3000)
    model = make_pipeline(
        StandardScaler(),
        ResampledEstimator(OptimalSubsampler(random_state=0), LinearRegression()),
    )
    grid = {"resampledestimator__sampler__n_samples": [50, 1000]}
    search = GridSearchCV(model, grid, cv=3).fit(X, y)
    assert search.best_params_ == {"resampledestimator__sampler__n_samples": 1000}
    assert len(search.cv_results_["mean_test_score"]) == 2


def test_cross_val_score_classifier_uses_stratified_cv_and_delegates():
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(
        StandardScaler(),
        ResampledEstimator(UIDSSampler(fraction=0.7, random_state=0), LogisticRegression()),
    )
    assert is_classifier(model)
    Xv, yv = X[:100], y[:100]
    with pytest.warns(NoValidationDataWarning):
        scores = cross_val_score(model, X[100:], y[100:], cv=3)
    assert scores.mean() > 0.9
    model.fit(X[100:], y[100:], resampledestimator__X_val=model[0].fit(X[100:]).transform(Xv),
              resampledestimator__y_val=yv)
    final = model[-1]
    np.testing.assert_array_equal(final.classes_, [0, 1])
    assert model.predict_proba(X).shape == (569, 2)
    assert model.decision_function(X).shape == (569,)
    assert 0 <= model.score(X, y) <= 1


def test_clone_pickle_and_params():
    model = ResampledEstimator(LeverageSampler(n_samples=10), LinearRegression())
    params = model.get_params()
    assert "sampler__n_samples" in params and "estimator__fit_intercept" in params
    model.set_params(sampler__n_samples=20)
    assert clone(model).sampler.n_samples == 20
    X, y = _regression(n=200)
    fitted = pickle.loads(pickle.dumps(model.fit(X, y)))
    np.testing.assert_allclose(fitted.predict(X), model.predict(X))


def test_works_with_imblearn_samplers():
    pytest.importorskip("imblearn")
    from imblearn.under_sampling import RandomUnderSampler

    X, y = load_breast_cancer(return_X_y=True)
    model = ResampledEstimator(RandomUnderSampler(random_state=0), LogisticRegression(max_iter=5000))
    model.fit(X, y)
    assert np.bincount(y[model.sample_indices_]).tolist() == [212, 212]


def test_errors():
    X, y = _regression(n=200)
    with pytest.raises(TypeError, match="fit_resample"):
        ResampledEstimator(StandardScaler(), LinearRegression()).fit(X, y)

    class NoWeights(LinearRegression):
        def fit(self, X, y):
            return super().fit(X, y)

    with pytest.raises(TypeError, match="sample_weight"):
        ResampledEstimator(LeverageSampler(n_samples=50), NoWeights()).fit(X, y)
    assert not hasattr(ResampledEstimator(LeverageSampler(), LinearSVC()), "predict_proba")


# scikit-learn's estimator checks for ResampledEstimator, with a reasoned skip list:
# each skipped check feeds data that an influence-based sampler cannot use, and the
# estimator fails it loudly with a message naming the cause (never silently).
_RESAMPLED_SKIPS = {
    "check_sample_weight_equivalence_on_dense_data":
        "the check's design has collinear columns: leverage sampling needs a "
        "full-rank design and raises SingularHessianError naming the dependent column",
    "check_sample_weight_equivalence_on_sparse_data": "as on dense data",
    "check_fit2d_1sample": "influence needs more rows than parameters (SingularHessianError)",
    "check_estimator_sparse_array": "LeverageSampler's exact leverage densifies nothing but "
                                    "the check's sparse data are rank deficient",
    "check_estimator_sparse_matrix": "as for sparse arrays",
    "check_dtype_object": "object arrays of numbers are converted; the check's dict entries "
                          "are refused with 'X must be numeric' (not sklearn's wording)",
}


@parametrize_with_checks(
    [ResampledEstimator(LeverageSampler(fraction=0.8, random_state=0), LinearRegression())],
    expected_failed_checks=lambda est: _RESAMPLED_SKIPS,
)
def test_resampled_estimator_check_estimator(estimator, check):
    check(estimator)
