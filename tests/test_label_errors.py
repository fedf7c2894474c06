"""Label-error review (mislabel_ranking) and leave-one-out predictions, against actual refits."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.preprocessing import scale

from skinfluence.linear_model import GammaRegressor, PoissonRegressor
from skinfluence.selection import mislabel_ranking
from skinfluence.svm import SmoothHingeSVC


@pytest.fixture(scope="module")
def noisy_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    rows = rng.choice(y.size, 150, replace=False)
    X, y = scale(X[rows])[:, :10], y[rows].copy()
    flip = rng.choice(150, 15, replace=False)
    y[flip] = 1 - y[flip]
    return X, y, flip


def _refit(factory, X, y, rows, out):
    return np.array([out(factory().fit(np.delete(X, i, 0), np.delete(y, i)), X[i:i + 1])[0]
                     for i in rows])


# -- leave-one-out predictions against actual refits (item 1 of issue 12) --------------------
def test_loo_proba_binary_logistic_matches_refits(noisy_cancer):
    """Every row refitted: one Newton step is within 0.02 in probability (median 1e-3)."""
    X, y, flip = noisy_cancer
    factory = lambda: LogisticRegression(C=0.5, solver="newton-cholesky", tol=1e-10)  # noqa: E731
    est = factory().fit(X, y)
    P = mislabel_ranking  # keep the public path honest: the ranking uses these probabilities
    from skinfluence import influence

    loo = influence(est, X, y).loo_predict_proba()[:, 1]
    actual = _refit(factory, X, y, range(150), lambda m, x: m.predict_proba(x)[:, 1])
    err = np.abs(loo - actual)
    moved = np.abs(actual - est.predict_proba(X)[:, 1])
    assert np.median(err) < 1e-3 and err.max() < 0.02, (np.median(err), err.max())
    assert err.max() < 0.2 * moved.max()  # far better than ignoring the left-out row
    # the review order of the refits is the order mislabel_ranking returns
    frame = P(est, X, y, method="loo_confidence")
    refit_score = np.where(y == 1, 1 - actual, actual)
    top = set(np.argsort(-refit_score)[:20].tolist())
    assert len(top & set(frame.index[:20].tolist())) >= 18


def test_loo_proba_multinomial_matches_refits():
    X, y = load_wine(return_X_y=True)
    X = scale(X)
    factory = lambda: LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-10)  # noqa: E731
    est = factory().fit(X, y)
    from skinfluence import influence

    P = influence(est, X, y).loo_predict_proba()
    rows = np.arange(0, 178, 18)
    actual = _refit(factory, X, y, rows, lambda m, x: m.predict_proba(x))
    assert np.abs(P[rows] - actual).max() < 0.02


def test_loo_decision_svm_matches_refits(noisy_cancer):
    X, y, _ = noisy_cancer
    factory = lambda: SmoothHingeSVC(C=1.0, tol=1e-8, max_iter=5000)  # noqa: E731
    est = factory().fit(X, y)
    eta = est.influence().loo_decision_function()
    full = est.decision_function(X)
    rows = np.argsort(-np.abs(y - 0.5 - 0.5 * np.tanh(full)))[:20]  # the worst-fitted rows
    actual = _refit(factory, X, y, rows, lambda m, x: m.decision_function(x))
    assert np.corrcoef(eta[rows] - full[rows], actual - full[rows])[0, 1] > 0.95
    assert np.mean(np.sign(eta[rows]) == np.sign(actual)) >= 0.9
    frame = mislabel_ranking(est, X, y)  # no probabilities: the leave-one-out margin
    assert frame["is_label_issue"].sum() == np.sum((eta > 0).astype(int) != y)


@pytest.mark.parametrize("factory", [
    lambda: PoissonRegressor(alpha=0.01, solver="newton-cholesky", tol=1e-10),
    lambda: GammaRegressor(alpha=0.01, solver="newton-cholesky", tol=1e-10),
], ids=["poisson", "gamma"])
def test_loo_linear_predictor_glm_matches_refits(factory):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3))
    mu = np.exp(X @ [0.3, -0.2, 0.1])
    y = rng.poisson(mu) if "Poisson" in repr(factory()) else rng.gamma(2.0, mu / 2.0)
    est = factory().fit(X, y)
    eta = est.influence().loo_decision_function()
    rows = np.arange(0, 80, 8)
    actual = np.log(_refit(factory, X, y, rows, lambda m, x: m.predict(x)))
    moved = np.abs(actual - np.log(est.predict(X[rows])))
    assert np.abs(eta[rows] - actual).max() < max(0.1 * moved.max(), 1e-4)


# -- mislabel_ranking ----------------------------------------------------------------------
def test_frame_indexed_like_X_sorted_and_inputs_untouched(noisy_cancer):
    pd = pytest.importorskip("pandas")
    X, y, flip = noisy_cancer
    labels = np.where(y == 1, "benign", "malignant")
    df = pd.DataFrame(X, index=np.arange(150) * 10 + 7)
    X0, l0 = df.copy(), labels.copy()
    est = LogisticRegression(max_iter=1000).fit(df, labels)
    frame = mislabel_ranking(est, df, labels)
    pd.testing.assert_frame_equal(df, X0)
    np.testing.assert_array_equal(labels, l0)
    assert list(frame.columns) == ["score", "is_label_issue", "label", "loo_predicted"]
    assert sorted(frame.index) == sorted(df.index)
    assert np.all(np.diff(frame["score"].to_numpy()) <= 0)
    assert frame.loc[df.index[0], "label"] == labels[0]
    assert set(frame["loo_predicted"]) <= {"benign", "malignant"}
    flagged = frame.index[frame["is_label_issue"]]
    assert 8 <= flagged.size <= 25  # 15 flipped
    assert np.isin((flagged - 7) // 10, flip).mean() > 0.6
    plain = mislabel_ranking(est, X, labels)
    assert isinstance(plain.index, pd.RangeIndex.__mro__[1]) and plain.index.max() == 149


def test_confident_learning_count_matches_cleanlab(noisy_cancer):
    cleanlab = pytest.importorskip("cleanlab")
    from cleanlab.count import num_label_issues

    from skinfluence import influence

    X, y, _ = noisy_cancer
    est = LogisticRegression(max_iter=1000).fit(X, y)
    P = influence(est, X, y).loo_predict_proba()
    ours = int(mislabel_ranking(est, X, y)["is_label_issue"].sum())
    theirs = num_label_issues(y, P, estimation_method="off_diagonal_calibrated")
    assert abs(ours - theirs) <= 2, (ours, theirs, cleanlab.__version__)


def test_clean_separable_data_has_few_issues():
    X, y = load_iris(return_X_y=True)
    est = LogisticRegression(max_iter=1000).fit(X, y)  # multinomial, 3 classes
    frame = mislabel_ranking(est, X, y)
    assert frame["is_label_issue"].sum() <= 6  # iris: a handful of overlapping 1/2 rows
    y_bad = y.copy()
    y_bad[[0, 1, 2]] = 2  # setosa labelled virginica: obvious
    est = LogisticRegression(max_iter=1000).fit(X, y_bad)
    frame = mislabel_ranking(est, X, y_bad)
    assert set(frame.index[:3]) == {0, 1, 2}
    assert frame.loc[[0, 1, 2], "is_label_issue"].all()
    assert (frame.loc[[0, 1, 2], "loo_predicted"] == 0).all()


def test_class_aware_beats_plain_on_one_sided_noise():
    X, y = load_breast_cancer(return_X_y=True)
    X = scale(X)
    found = {"loo_confidence": 0, "loo_class_aware": 0}
    for seed in range(3):
        rng = np.random.default_rng(seed)
        yn = y.copy()
        bad = rng.choice(np.flatnonzero(y == 1), 70, replace=False)
        yn[bad] = 0
        est = LogisticRegression(C=0.05, max_iter=1000).fit(X, yn)
        for m in found:
            found[m] += np.isin(mislabel_ranking(est, X, yn, method=m).index[:57], bad).sum()
    assert found["loo_class_aware"] >= found["loo_confidence"]


def test_regressor_ranks_by_loo_loss_and_flags_outliers():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2))
    y = X @ [1.0, 2.0] + 0.1 * rng.normal(size=100)
    y[[5, 50]] += 5.0
    est = LinearRegression().fit(X, y)
    frame = mislabel_ranking(est, X, y)
    assert set(frame.index[:2]) == {5, 50}
    assert set(frame.index[frame["is_label_issue"]]) == {5, 50}
    with pytest.raises(ValueError, match="needs a classifier"):
        mislabel_ranking(Ridge().fit(X, y), X, y, method="loo_confidence")


def test_bad_input(noisy_cancer):
    X, y, _ = noisy_cancer
    est = LogisticRegression(max_iter=1000).fit(X, y)
    with pytest.raises(ValueError, match="method"):
        mislabel_ranking(est, X, y, method="influence")
    with pytest.raises(ValueError, match="not seen|unknown|label"):
        mislabel_ranking(est, X, np.where(y == 1, 2, y))
    r1 = mislabel_ranking(est, X, y, method="random", random_state=3)
    r2 = mislabel_ranking(est, X, y, method="random", random_state=3)
    np.testing.assert_array_equal(r1.index, r2.index)
