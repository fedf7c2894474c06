"""TracIn for SGD-trained linear models: brute-force scores, learning-rate schedules,
exact feature attribution, and TracIn vs influence functions vs actual retraining."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit
from scipy.stats import pearsonr, spearmanr
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.preprocessing import scale

import skinfluence
from skinfluence.tracin import TracInRecorder, _schedule_mean


@pytest.fixture(scope="module")
def data():
    X, y = load_breast_cancer(return_X_y=True)
    X = scale(X)[:, :10]
    perm = np.random.default_rng(0).permutation(len(y))
    tr, te = perm[:300], perm[300:]
    return X[tr], y[tr], X[te], y[te]


def test_scores_equal_brute_force_sum_over_checkpoints(data):
    Xtr, ytr, Xte, yte = data
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(ytr))
    rec = TracInRecorder(SGDClassifier(loss="log_loss", alpha=1e-3, random_state=0))
    for _ in range(3):
        rec.partial_fit(Xtr, ytr, classes=[0, 1], sample_weight=sw)
    got = rec.scores(Xtr, ytr, Xte[:7], yte[:7], sample_weight=sw)
    # independent: log-loss gradient (p - y) [1, x], weighted training rows
    want = np.zeros((7, len(ytr)))
    A_tr, A_te = np.hstack([np.ones((300, 1)), Xtr]), np.hstack([np.ones((7, 1)), Xte[:7]])
    for cp in rec.checkpoints_:
        th = np.r_[cp["intercept"], cp["coef"].ravel()]
        g_tr = ((expit(A_tr @ th) - ytr) * sw)[:, None] * A_tr
        g_te = (expit(A_te @ th) - yte[:7])[:, None] * A_te
        want += cp["lr"] * g_te @ g_tr.T
    assert np.allclose(got, want, rtol=1e-10, atol=1e-12)
    si = rec.self_influence(Xtr, ytr, sample_weight=sw)
    want_si = sum(cp["lr"] * np.sum(((expit(A_tr @ np.r_[cp["intercept"], cp["coef"].ravel()])
                                      - ytr) * sw)[:, None] ** 2 * A_tr**2, axis=1)
                  for cp in rec.checkpoints_)
    assert np.allclose(si, want_si)


def test_multiclass_and_sparse_intercept_decay():
    X, y = load_iris(return_X_y=True)
    X = scale(X)
    Xs = sp.csr_matrix(X)
    rec = TracInRecorder(SGDClassifier(loss="log_loss", random_state=0))
    rec.partial_fit(Xs, y, classes=[0, 1, 2])
    cp = rec.checkpoints_[0]
    assert cp["intercept_lr"] == pytest.approx(0.01 * cp["lr"])  # sklearn's sparse decay
    got = rec.scores(Xs, y, X[:3], y[:3])
    A = np.hstack([np.ones((150, 1)), X])
    Th = np.column_stack([cp["intercept"], cp["coef"]])          # (3, 5)
    R = expit(A @ Th.T) - np.eye(3)[y]                           # OvR residuals (n, 3)
    lr = np.r_[cp["intercept_lr"], np.full(4, cp["lr"])]
    want = np.einsum("tk,ik,tj,ij,j->ti", R[:3], R, A[:3], A, lr)
    assert np.allclose(got, want)
    fa = rec.feature_attribution(Xs, y, X[:3], y[:3], rows=[0, 60, 120])
    assert np.allclose(fa.total(), got[:, [0, 60, 120]])


@pytest.mark.parametrize("schedule", ["optimal", "invscaling", "constant"])
def test_learning_rate_schedule_matches_an_actual_sklearn_step(schedule):
    # one step from zero on one row: coef = -eta * dloss(0, y=1) * x, dloss = -1/2
    x = np.array([[2.0, -1.0]])
    est = SGDClassifier(loss="log_loss", learning_rate=schedule, eta0=0.3, alpha=1e-3,
                        fit_intercept=False)
    est.partial_fit(x, [1], classes=[0, 1])
    eta = est.coef_[0, 0] / (0.5 * x[0, 0])
    assert _schedule_mean(est, 1.0, 2.0) == pytest.approx(eta, rel=1e-10)
    # and the second step (t = 2), from the current coef
    w = est.coef_.copy()
    est.partial_fit(x, [1])
    m = (x @ w.T).item()
    dloss = -expit(-m)
    eta2 = (w[0, 0] - est.coef_[0, 0]) / (dloss * x[0, 0] + 1e-3 * w[0, 0])
    assert _schedule_mean(est, 2.0, 3.0) == pytest.approx(eta2, rel=1e-8)


def test_recorder_api_and_errors(data):
    Xtr, ytr, Xte, yte = data
    with pytest.raises(TypeError, match="partial_fit"):
        TracInRecorder(skinfluence.linear_model.LogisticRegression())
    rec = TracInRecorder(SGDClassifier(loss="log_loss", random_state=0))
    with pytest.raises(ValueError, match="No checkpoint"):
        rec.scores(Xtr, ytr, Xte, yte)
    rec.partial_fit(Xtr, ytr, classes=[0, 1])
    assert rec.predict(Xte).shape == yte.shape                     # delegates to the model
    inf = skinfluence.influence(rec.estimator, Xtr, ytr)
    with pytest.raises(ValueError, match="tracin=recorder"):
        inf.feature_attribution(Xte[:1], yte[:1], method="tracin")
    fa = inf.feature_attribution(Xte[:2], yte[:2], rows=[1, 2], method="tracin", tracin=rec)
    assert np.allclose(fa.total(), rec.scores(Xtr, ytr, Xte[:2], yte[:2])[:, [1, 2]])
    ad = TracInRecorder(SGDRegressor(learning_rate="adaptive"))
    with pytest.raises(ValueError, match="learning_rate="):
        ad.partial_fit(Xtr, ytr.astype(float))
    ok = TracInRecorder(SGDRegressor(learning_rate="adaptive"), learning_rate=0.01)
    ok.partial_fit(Xtr, ytr.astype(float))
    assert ok.checkpoints_[0]["lr"] == 0.01
    hinge = TracInRecorder(SGDClassifier(random_state=0), temperature=0.1)
    hinge.partial_fit(Xtr, ytr, classes=[0, 1])
    assert hinge.scores(Xtr, ytr, Xte[:1], yte[:1]).shape == (1, 300)


def _compare_with_retraining(data, epochs, n_rows):
    """(pearson, spearman) of IF, IF-newton and TracIn against actual retraining."""
    Xtr, ytr, Xte, yte = data
    kw = {"loss": "log_loss", "alpha": 1e-2, "shuffle": False, "random_state": 0}

    def train(Xa, ya):
        rec = TracInRecorder(SGDClassifier(**kw))
        for _ in range(epochs):
            rec.partial_fit(Xa, ya, classes=[0, 1])
        return rec

    def mean_loss(est):
        p = est.predict_proba(Xte)[:, 1]
        return -np.mean(yte * np.log(p) + (1 - yte) * np.log(1 - p))

    rec = train(Xtr, ytr)
    base = mean_loss(rec.estimator)
    # an SGD fit is not an optimum: the lead's front door will need fit_check="warn" here
    inf = skinfluence.influence(rec.estimator, Xtr, ytr)
    est = {"IF": inf.loss_change(Xte, yte, reduce="mean"),
           "IF-newton": inf.loss_change(Xte, yte, method="newton", reduce="mean"),
           "TracIn": rec.scores(Xtr, ytr, Xte, yte).mean(axis=0)}
    rng = np.random.default_rng(0)
    half = n_rows // 2
    rows = np.unique(np.r_[np.argsort(-np.abs(est["IF"]))[:half],
                           rng.choice(len(ytr), half, replace=False)])
    actual = []
    for i in rows:
        keep = np.ones(len(ytr), bool)
        keep[i] = False
        actual.append(mean_loss(train(Xtr[keep], ytr[keep]).estimator) - base)
    actual = np.array(actual)
    return {k: (pearsonr(v[rows], actual)[0], spearmanr(v[rows], actual)[0])
            for k, v in est.items()}


def test_tracin_vs_influence_vs_retraining(data):
    # measured (5 epochs, 40 rows): IF r = 0.91, TracIn r = 0.77 (seeded, deterministic)
    r = _compare_with_retraining(data, epochs=5, n_rows=40)
    assert r["IF"][0] > 0.8 and r["IF-newton"][0] > 0.8
    assert r["TracIn"][0] > 0.6
    assert r["IF"][1] > 0.7 and r["TracIn"][1] > 0.5


@pytest.mark.slow
def test_tracin_vs_influence_vs_retraining_long():
    # 20 epochs, 60 rows: IF pearson 0.98 / spearman 0.99, TracIn 0.94 / 0.90
    X, y = load_breast_cancer(return_X_y=True)
    X = scale(X)[:, :10]
    perm = np.random.default_rng(0).permutation(len(y))
    data = X[perm[:300]], y[perm[:300]], X[perm[300:]], y[perm[300:]]
    r = _compare_with_retraining(data, epochs=20, n_rows=60)
    assert r["IF"][0] > 0.95 and r["TracIn"][0] > 0.85
