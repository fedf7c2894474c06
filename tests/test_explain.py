"""Influence.explain: the training rows behind test predictions, as a frame indexed like X."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skinfluence
from skinfluence.linear_model import LinearRegression, LogisticRegression

pd = pytest.importorskip("pandas")


def test_explain_frame_matches_loss_change_and_retraining():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X.index = y.index = [f"pt{i}" for i in X.index]
    Xtr, ytr, Xte, yte = X[:300], y[:300], X[300:303], y[300:303]
    est = LinearRegression().fit(Xtr, ytr)
    inf = est.influence()
    ex = inf.explain(Xte, yte, n=4)
    assert ex.shape[0] == 3 * 2 * 4
    assert list(ex.columns[:5]) == ["test_row", "role", "rank", "loss_change", "y"]
    assert list(ex.columns[5:]) == list(X.columns)
    change = inf.loss_change(Xte, yte)
    for t, test_label in enumerate(Xte.index):
        part = ex[ex.test_row == test_label]
        helpful = part[part.role == "helpful"]
        pos = [Xtr.index.get_loc(i) for i in helpful.index]
        np.testing.assert_allclose(helpful.loss_change, np.sort(change[t])[::-1][:4])
        np.testing.assert_allclose(helpful.loss_change, change[t, pos])
        harmful = part[part.role == "harmful"]
        np.testing.assert_allclose(harmful.loss_change, np.sort(change[t])[:4])
        # the training label and features are the rows' own
        np.testing.assert_allclose(helpful.y, ytr.loc[helpful.index])
        np.testing.assert_allclose(helpful[X.columns], Xtr.loc[helpful.index])
        # retraining without the most helpful row raises that test point's loss,
        # without the most harmful one lowers it (half squared error)
        base = 0.5 * (yte.iloc[t] - est.predict(Xte.iloc[[t]])[0]) ** 2
        for label, sign in ((helpful.index[0], 1), (harmful.index[0], -1)):
            keep = Xtr.index != label
            refit = LinearRegression().fit(Xtr[keep], ytr[keep])
            loss = 0.5 * (yte.iloc[t] - refit.predict(Xte.iloc[[t]])[0]) ** 2
            assert sign * (loss - base) > 0


def test_explain_pipeline_shows_raw_columns_and_class_labels():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    labels = np.where(y == 1, "benign", "malignant")
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X[:400], labels[:400])
    inf = skinfluence.influence(pipe, X[:400], labels[:400])
    ex = inf.explain(X[400:401], labels[400:401], n=2, X=X[:400])
    assert set(ex.y) <= {"benign", "malignant"}
    np.testing.assert_allclose(ex[X.columns].to_numpy(), X.loc[ex.index].to_numpy())
    np.testing.assert_array_equal(ex.y, labels[ex.index])
    # without X=: the front door kept the caller's raw X, so the raw columns again
    again = inf.explain(X[400:401], labels[400:401], n=2)
    np.testing.assert_allclose(again[X.columns].to_numpy(), X.loc[again.index].to_numpy())


def test_explain_arrays_and_bad_input():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ [1.0, 2.0, 0.0] + rng.normal(size=40)
    inf = skinfluence.influence(Ridge(alpha=1.0).fit(X, y), X, y)
    ex = inf.explain(X[:2], y[:2], n=3)
    assert list(ex.columns[5:]) == ["x0", "x1", "x2"]
    assert ex.index.dtype.kind == "i" and set(ex.test_row) == {0, 1}
    with pytest.raises(ValueError, match="n must be"):
        inf.explain(X[:2], y[:2], n=0)
    with pytest.raises(ValueError, match="X has"):
        inf.explain(X[:2], y[:2], X=X[:5])


def test_explain_by_decision_equals_refits_for_least_squares():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    Xtr, ytr, Xte, yte = X[:200], y[:200], X[200:202], y[200:202]
    est = LinearRegression().fit(Xtr, ytr)
    ex = est.influence().explain(Xte, yte, n=2, by="decision", method="newton")
    assert list(ex.columns[:5]) == ["test_row", "role", "rank", "decision_change", "y"]
    assert set(ex.role) == {"raises", "lowers"}
    for label, row in ex.iterrows():
        keep = Xtr.index != label
        refit = LinearRegression().fit(Xtr[keep], ytr[keep])
        t = [row.test_row]
        actual = refit.predict(Xte.loc[t])[0] - est.predict(Xte.loc[t])[0]
        assert row.decision_change == pytest.approx(actual, rel=1e-8, abs=1e-8)
        # a row whose presence raises the prediction: removing it lowers it
        assert (row.decision_change < 0) == (row.role == "raises")


def test_explain_by_decision_refuses_multinomial():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    inf = LogisticRegression(max_iter=1000).fit(X, y).influence()
    with pytest.raises(ValueError, match="single-output"):
        inf.explain(X[:1], y[:1], by="decision")
    with pytest.raises(ValueError, match="by must be"):
        inf.explain(X[:1], y[:1], by="nope")
