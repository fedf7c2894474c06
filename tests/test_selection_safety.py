"""The selectors' defaults never hurt clean data, never remove a class, and report what they did.

Tolerance on clean data: held-out accuracy within 0.015 and log loss within
0.02 of the model fitted on all rows (about one standard error of a test log
loss on ~170 rows; one test row is 0.006 of accuracy). Each selector runs with
a clean validation set, on several seeds.
"""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import scale

from skinfluence.selection import InfluenceFilter, InfluenceRelabeler, mislabel_ranking
from skinfluence.selection._base import _is_classification

ACC_TOL, LOGLOSS_TOL = 0.015, 0.02


def _splits(X, y, seed):
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    Xtr, Xva, ytr, yva = train_test_split(Xtr, ytr, test_size=0.3, random_state=seed,
                                          stratify=ytr)
    return Xtr, ytr, Xva, yva, Xte, yte


def _cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return scale(X), y


def _synthetic3():
    return make_classification(n_samples=600, n_features=6, n_informative=4, n_classes=3,
                               n_clusters_per_class=1, class_sep=1.5, random_state=0)


@pytest.mark.parametrize("data,seed", [(_cancer, 0), (_cancer, 1), (_cancer, 2),
                                       (_synthetic3, 0), (_synthetic3, 1)],
                         ids=["cancer-0", "cancer-1", "cancer-2", "synth3-0", "synth3-1"])
@pytest.mark.parametrize("make", [InfluenceFilter, InfluenceRelabeler],
                         ids=["filter", "relabeler"])
def test_default_leaves_clean_data_alone(make, data, seed):
    Xtr, ytr, Xva, yva, Xte, yte = _splits(*data(), seed)
    full = LogisticRegression(max_iter=1000).fit(Xtr, ytr)
    sel = make(LogisticRegression(max_iter=1000))
    Xs, ys = sel.fit_resample(Xtr, ytr, X_val=Xva, y_val=yva)
    changed = sel.n_removed_ if make is InfluenceFilter else sel.n_flipped_
    assert changed <= 0.02 * ytr.size, changed  # at most a few rows of clean data
    sub = LogisticRegression(max_iter=1000).fit(Xs, ys)
    assert abs(sub.score(Xte, yte) - full.score(Xte, yte)) <= ACC_TOL
    assert abs(log_loss(yte, sub.predict_proba(Xte)) - log_loss(yte, full.predict_proba(Xte))) \
        <= LOGLOSS_TOL
    assert set(np.unique(ys)) == set(np.unique(ytr))


def test_defaults_still_fix_noisy_labels():
    X, y = _cancer()
    Xtr, ytr, Xva, yva, Xte, yte = _splits(X, y, 2)
    rng = np.random.default_rng(2)
    bad = rng.choice(ytr.size, ytr.size // 10, replace=False)
    yn = ytr.copy()
    yn[bad] = 1 - yn[bad]
    noisy = LogisticRegression().fit(Xtr, yn)
    for sel in (InfluenceFilter(LogisticRegression()), InfluenceRelabeler(LogisticRegression())):
        Xs, ys = sel.fit_resample(Xtr, yn, X_val=Xva, y_val=yva)
        rows = getattr(sel, "removed_indices_", None)
        rows = sel.relabeled_indices_ if rows is None else rows
        assert rows.size >= 5 and np.isin(rows, bad).mean() > 0.7
        fixed = LogisticRegression().fit(Xs, ys)
        assert log_loss(yte, fixed.predict_proba(Xte)) < log_loss(yte, noisy.predict_proba(Xte))


def test_one_sided_noise_never_removes_a_class():
    """The old default removed every row of one class here and the next fit crashed."""
    X, y = _cancer()
    Xtr, ytr, Xva, yva, _, _ = _splits(X, y, 0)
    yn = ytr.copy()
    yn[ytr == 1] = np.where(np.random.default_rng(0).random((ytr == 1).sum()) < 0.2, 0, 1)
    for thr in ("auto", 0.0):  # also the old, aggressive threshold
        sel = InfluenceFilter(LogisticRegression(), threshold=thr)
        with np.errstate(all="ignore"):
            Xs, ys = sel.fit_resample(Xtr, yn, X_val=Xva, y_val=yva)
        assert set(np.unique(ys)) == {0, 1}
        LogisticRegression().fit(Xs, ys)
    Xtiny = Xtr[:40]
    ytiny = np.r_[np.zeros(38, int), 1, 1]
    sel = InfluenceFilter(LogisticRegression(), score="self_influence", n_remove=39)
    with pytest.warns(UserWarning, match="no row of class"):  # one row left: a class is lost
        _, ys = sel.fit_resample(Xtiny, ytiny)
    assert set(ys) == {0, 1} and sel.n_removed_ == 38


def test_relabeler_multiclass_flips_to_the_preferred_class():
    X, y = _synthetic3()
    Xtr, ytr, Xva, yva, _, _ = _splits(X, y, 0)
    rng = np.random.default_rng(0)
    bad = rng.choice(ytr.size, 30, replace=False)
    yn = ytr.copy()
    yn[bad] = (ytr[bad] + rng.integers(1, 3, size=30)) % 3
    r = InfluenceRelabeler(LogisticRegression(max_iter=1000))
    _, ys = r.fit_resample(Xtr, yn, X_val=Xva, y_val=yva)
    assert r.n_flipped_ == r.relabeled_indices_.size > 5
    assert np.isin(r.relabeled_indices_, bad).mean() > 0.7
    est = LogisticRegression(max_iter=1000).fit(Xtr, yn)
    frame = mislabel_ranking(est, Xtr, yn)
    # every flip goes to the class the leave-one-out model prefers
    np.testing.assert_array_equal(ys[r.relabeled_indices_],
                                  frame.loc[r.relabeled_indices_, "loo_predicted"].to_numpy())
    assert np.mean(ys[r.relabeled_indices_] == ytr[r.relabeled_indices_]) > 0.7


def test_relabeler_refuses_regressors():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = X.sum(axis=1)
    with pytest.raises(ValueError, match="needs a classifier"):
        InfluenceRelabeler(LinearRegression()).fit_resample(X, y, X_val=X, y_val=y)


def test_task_decided_by_estimator_not_by_target_values():
    y = np.arange(89.0)  # whole-number float target: continuous, not 89 classes
    assert not _is_classification(None, y)
    assert _is_classification(None, y.astype(int))
    assert not _is_classification(LinearRegression(), y.astype(int))
    assert _is_classification(LogisticRegression(), y)


def test_without_validation_data_held_out_rows_are_returned():
    """The old default dropped 26% of clean rows (the held-out 20% among them)."""
    from skinfluence.selection import NoValidationDataWarning

    X, y = _cancer()
    for sel in (InfluenceFilter(LogisticRegression(), random_state=0),
                InfluenceRelabeler(LogisticRegression(), random_state=0)):
        with pytest.warns(NoValidationDataWarning):
            Xs, ys = sel.fit_resample(X, y)
        assert sel.candidate_indices_.size < y.size
        assert Xs.shape[0] >= 0.98 * y.size
        np.testing.assert_array_equal(Xs, X[sel.sample_indices_])
        changed = getattr(sel, "removed_indices_", None)
        if changed is None:
            changed = sel.relabeled_indices_
            held = np.setdiff1d(np.arange(y.size), sel.candidate_indices_)
            np.testing.assert_array_equal(ys[held], y[held])  # held-out labels untouched
        assert changed.size <= 0.02 * y.size


def test_many_clean_rows_none_flagged_by_chance():
    """Per-row z = 2 let ~3.5% of 100,000 clean rows through; the FDR rule flags ~none."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 5))
    y = (X[:, 0] + rng.logistic(size=3000) > 0).astype(int)
    Xv = rng.normal(size=(300, 5))
    yv = (Xv[:, 0] + rng.logistic(size=300) > 0).astype(int)
    f = InfluenceFilter(LogisticRegression())
    f.fit_resample(X, y, X_val=Xv, y_val=yv)
    assert f.n_removed_ <= 3
