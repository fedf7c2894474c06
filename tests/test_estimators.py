"""The drop-in estimators are scikit-learn estimators (check_estimator) that also
keep what influence() needs, and behave exactly like their parents."""

import pickle

import numpy as np
import pytest
from sklearn import linear_model as sk
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import scale
from sklearn.utils.estimator_checks import parametrize_with_checks

from skinfluence import linear_model as si

ESTIMATORS = [
    si.LinearRegression(),
    si.Ridge(),
    si.LogisticRegression(),
    si.PoissonRegressor(),
    si.GammaRegressor(),
    si.TweedieRegressor(power=1.5),
]


def _check_name(check):
    return getattr(check, "func", check).__name__


def _expected_failures(estimator):
    if isinstance(estimator, sk.Ridge):
        # scikit-learn's own Ridge fails this check identically (n_iter_ is None
        # for direct solvers); the subclass inherits fit unchanged.
        return {"check_non_transformer_estimators_n_iter": "inherited from sklearn.Ridge"}
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    if _check_name(check) == "check_array_api_input":
        # array-API dispatch (torch/cupy arrays through sklearn's fit) is
        # scikit-learn's own feature; influence() goes through skinfluence backends.
        pytest.skip("array API input is handled by skinfluence backends, not fit()")
    check(estimator)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (si.LinearRegression(), sk.LinearRegression()),
        (si.Ridge(alpha=0.3), sk.Ridge(alpha=0.3)),
        (si.LogisticRegression(C=0.5), sk.LogisticRegression(C=0.5)),
        (si.PoissonRegressor(alpha=0.1), sk.PoissonRegressor(alpha=0.1)),
    ],
)
def test_same_fit_as_parent(ours, theirs):
    X, y = load_diabetes(return_X_y=True)
    if isinstance(ours, sk.LogisticRegression):
        y = (y > np.median(y)).astype(int)
    if isinstance(ours, sk.PoissonRegressor):
        y = np.round(y / 50)
    a, b = ours.fit(X, y), theirs.fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    assert ours.get_params() == theirs.get_params()
    assert repr(ours) == repr(theirs)


def test_influence_uses_training_data_by_reference():
    X, y = load_breast_cancer(return_X_y=True)
    X = scale(X)
    est = si.LogisticRegression().fit(X, y)
    assert est._influence_data[0] is X  # a reference, not a copy
    inf = est.influence()
    explicit = est.influence(X, y)
    np.testing.assert_allclose(inf.cooks_distance, explicit.cooks_distance)


def test_clone_and_pickle_roundtrip():
    X, y = load_diabetes(return_X_y=True)
    est = si.Ridge(alpha=2.0).fit(X, y)
    c = clone(est)
    assert c.get_params() == est.get_params() and not hasattr(c, "coef_")
    est2 = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(est2.influence().leverage, est.influence().leverage)


def test_unfitted_and_forgotten_raise_not_fitted():
    with pytest.raises(NotFittedError):
        si.LinearRegression().influence()
    X, y = load_diabetes(return_X_y=True)
    est = si.LinearRegression().fit(X, y).forget_training_data()
    with pytest.raises(NotFittedError, match="no training data"):
        est.influence()
    assert est.influence(X, y).leverage.shape == (442,)
    with pytest.raises(ValueError, match="both X and y"):
        est.influence(X)
