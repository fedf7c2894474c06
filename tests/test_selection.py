"""Selectors: the sampler contract, bad input, and their scores against independent oracles."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.preprocessing import scale
from sklearn.tree import DecisionTreeRegressor

from skinfluence import UnsupportedEstimatorError
from skinfluence.selection import (
    InfluenceFilter,
    InfluenceRelabeler,
    LeverageSampler,
    NoValidationDataWarning,
    OptimalSubsampler,
    UIDSSampler,
    design_leverage,
    mislabel_ranking,
)


def _regression(n=400, p=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_t(3, size=(n, p))
    y = X @ np.arange(1.0, p + 1) + rng.normal(size=n)
    return X, y


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X = scale(X)[:, :8]
    rng = np.random.default_rng(0)
    flip = rng.choice(400, 40, replace=False)
    y_noisy = y.copy()
    y_noisy[flip] = 1 - y_noisy[flip]
    return X[:400], y_noisy[:400], X[400:], y[400:], flip


def _all_selectors():
    return [
        LeverageSampler(n_samples=50, random_state=0),
        LeverageSampler(fraction=0.2, method="slev", random_state=0),
        LeverageSampler(fraction=0.2, method="levunw", random_state=0),
        OptimalSubsampler(n_samples=60, n_pilot=100, random_state=0),
        OptimalSubsampler(n_samples=60, criterion="prediction", random_state=0),
        UIDSSampler(fraction=0.5, random_state=0),
        InfluenceFilter(n_remove=10, random_state=0),
        InfluenceFilter(score="cooks"),
        InfluenceFilter(score="self_influence", n_remove=0.05),
    ]


# -- contract ---------------------------------------------------------------------------
@pytest.mark.parametrize("selector", _all_selectors(), ids=lambda s: repr(s)[:60])
def test_contract_regression_target(selector):
    X, y = _regression()
    X0, y0 = X.copy(), y.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoValidationDataWarning)
        Xs, ys = clone(selector).fit_resample(X, y)
        fitted = pickle.loads(pickle.dumps(selector))
        Xs2, ys2 = fitted.fit_resample(X, y)
    np.testing.assert_array_equal(X, X0)  # user arrays untouched
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(Xs2, X[fitted.sample_indices_])
    np.testing.assert_array_equal(ys2, y[fitted.sample_indices_])
    np.testing.assert_array_equal(Xs, Xs2)  # random_state makes it reproducible
    assert 0 < Xs.shape[0] <= X.shape[0]
    params = selector.get_params()
    assert clone(selector).set_params(**params).get_params() == params
    if hasattr(fitted, "sample_weight_"):
        assert fitted.sample_weight_.shape == (Xs.shape[0],)
        assert np.all(fitted.sample_weight_ > 0)


def test_pandas_and_sparse_inputs():
    pd = pytest.importorskip("pandas")
    X, y = _regression()
    df = pd.DataFrame(X, columns=list("abc"), index=np.arange(400) + 1000)
    Xs, ys = LeverageSampler(n_samples=30, random_state=0).fit_resample(df, pd.Series(y))
    assert isinstance(Xs, pd.DataFrame) and list(Xs.columns) == list("abc")
    Xc = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0.0))
    for sel in (LeverageSampler(n_samples=30, random_state=0),
                OptimalSubsampler(n_samples=30, random_state=0)):
        Xs, ys = sel.fit_resample(Xc, y)
        assert sp.issparse(Xs)
        dense = clone(sel).fit_resample(Xc.toarray(), y)[0]
        np.testing.assert_allclose(Xs.toarray(), dense)


def test_imblearn_pipeline_regression_and_skipped_at_predict():
    pytest.importorskip("imblearn")
    from imblearn.pipeline import make_pipeline as imb_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _regression(n=600)
    pipe = imb_pipeline(StandardScaler(), LeverageSampler(n_samples=200, random_state=0),
                        LinearRegression())
    pipe.fit(X, y)  # continuous target accepted
    assert pipe.predict(X).shape == (600,)  # the sampler is skipped at predict time
    assert pipe[1].sample_indices_.shape == (200,)


def test_imblearn_pipeline_classification(cancer):
    pytest.importorskip("imblearn")
    from imblearn.pipeline import make_pipeline as imb_pipeline

    X, y, Xv, yv, _ = cancer
    pipe = imb_pipeline(UIDSSampler(fraction=0.6, random_state=0), LogisticRegression())
    with pytest.warns(NoValidationDataWarning):
        pipe.fit(X, y)
    assert pipe.predict(Xv).shape == yv.shape


# -- oracles ----------------------------------------------------------------------------
def test_design_leverage_equals_qr():
    X, _ = _regression(n=200, p=4)
    Q, _ = np.linalg.qr(np.column_stack([np.ones(200), X]))
    np.testing.assert_allclose(design_leverage(X), np.sum(Q**2, axis=1), rtol=1e-10)
    Q0, _ = np.linalg.qr(X)
    np.testing.assert_allclose(design_leverage(X, fit_intercept=False), np.sum(Q0**2, axis=1),
                               rtol=1e-10)


def test_leverage_probabilities_follow_paper():
    X, y = _regression(n=300)
    h = design_leverage(X)
    s = LeverageSampler(n_samples=50, method="slev", shrinkage=0.7, random_state=1)
    s.fit_resample(X, y)
    np.testing.assert_allclose(s.probabilities_, 0.7 * h / 4 + 0.3 / 300)
    np.testing.assert_allclose(s.sample_weight_, 1 / (50 * s.probabilities_[s.sample_indices_]))


def test_optimal_probabilities_linear_regression():
    """T&B for least squares: prediction criterion pi ~ |e_i| sqrt(x_i' (X'X)^-1 x_i)."""
    X, y = _regression(n=2000, p=3)
    s = OptimalSubsampler(n_samples=100, criterion="prediction", n_pilot=300, random_state=0)
    s.fit_resample(X, y)
    pilot = s.pilot_estimator_
    e = y - pilot.predict(X)
    Xt = np.column_stack([np.ones(2000), X])
    pidx = np.sort(np.random.RandomState(0).choice(2000, 300, replace=False))
    A = Xt[pidx].T @ Xt[pidx]
    a = np.abs(e) * np.sqrt(np.einsum("ij,ij->i", Xt @ np.linalg.inv(A), Xt))
    pi = s.probabilities_
    assert abs(pi.sum() - 100) < 1e-8 and pi.max() <= 1
    free = pi < 1
    np.testing.assert_allclose(pi[free] / a[free], (pi[free] / a[free])[0], rtol=1e-8)
    np.testing.assert_allclose(s.sample_weight_, 1 / pi[s.sample_indices_])


def _actual_loo_val_change(est, X, y, Xv, yv, rows, loss):
    base = loss(yv, clone(est).fit(X, y), Xv)
    out = []
    for i in rows:
        keep = np.arange(X.shape[0]) != i
        out.append(loss(yv, clone(est).fit(X[keep], y[keep]), Xv) - base)
    return np.array(out)


def test_validation_influence_matches_retraining_logistic(cancer):
    X, y, Xv, yv, _ = cancer
    est = LogisticRegression(C=1.0, tol=1e-10, max_iter=1000)
    sel = InfluenceFilter(est, n_remove=1)
    sel.fit_resample(X, y, X_val=Xv, y_val=yv)
    rows = np.argsort(-np.abs(sel.scores_))[:30]

    def loss(yv, m, Xv):
        p = m.predict_proba(Xv)[:, 1]
        return -np.mean(yv * np.log(p) + (1 - yv) * np.log1p(-p))

    actual = _actual_loo_val_change(est, X, y, Xv, yv, rows, loss)
    r = stats.pearsonr(-sel.scores_[rows], actual)[0]
    assert r > 0.95, r


def test_validation_influence_matches_retraining_ridge():
    X, y = _regression(n=150, p=3, seed=2)
    Xv, yv = _regression(n=50, p=3, seed=3)
    sel = InfluenceFilter(Ridge(alpha=1.0), n_remove=1)
    sel.fit_resample(X, y, X_val=Xv, y_val=yv)
    rows = np.arange(40)

    def loss(yv, m, Xv):
        return 0.5 * np.mean((yv - m.predict(Xv)) ** 2)

    actual = _actual_loo_val_change(Ridge(alpha=1.0), X, y, Xv, yv, rows, loss)
    assert stats.pearsonr(-sel.scores_[rows], actual)[0] > 0.97  # first-order, no 1/(1-h)


def test_cooks_filter_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    X, y = _regression(n=120)
    f = InfluenceFilter(score="cooks", n_remove=6)
    f.fit_resample(X, y)
    cooks = sm.OLS(y, sm.add_constant(X)).fit().get_influence().cooks_distance[0]
    np.testing.assert_allclose(f.scores_, cooks, rtol=1e-8)
    assert set(f.removed_indices_) == set(np.argsort(-cooks)[:6])
    f2 = InfluenceFilter(score="cooks").fit_resample(X, y)
    assert f2[0].shape[0] == np.sum(cooks <= 4 / 120)


def test_mislabel_ranking_methods_find_flipped_labels(cancer):
    X, y, _, _, flip = cancer
    est = LogisticRegression(max_iter=1000).fit(X, y)
    found = {m: np.isin(mislabel_ranking(est, X, y, method=m, random_state=0).index[:60],
                        flip).sum()
             for m in ("loo_confidence", "self_influence", "loss", "random")}
    assert found["loo_confidence"] >= found["loss"] - 1
    assert min(found["loo_confidence"], found["self_influence"]) > 3 * found["random"]


def test_relabeler_flips_binary_labels(cancer):
    X, y, Xv, yv, flip = cancer
    r = InfluenceRelabeler(n_relabel=20)
    Xs, ys = r.fit_resample(X, y, X_val=Xv, y_val=yv)
    assert Xs.shape == X.shape
    changed = np.flatnonzero(ys != y)
    np.testing.assert_array_equal(changed, np.sort(r.relabeled_indices_))
    assert np.isin(r.relabeled_indices_, flip).mean() > 0.5  # base rate 10%


def test_uids_per_class_sizes(cancer):
    X, y, Xv, yv, _ = cancer
    s = UIDSSampler(fraction=0.5, random_state=0)
    s.fit_resample(X, y, X_val=Xv, y_val=yv)
    for c in (0, 1):
        m = y == c
        assert abs(s.probabilities_[m].sum() - 0.5 * m.sum()) < 1e-6
    lin = UIDSSampler(fraction=0.5, probability="linear", random_state=0)
    lin.fit_resample(X, y, X_val=Xv, y_val=yv)
    for c in (0, 1):  # within a class, pi is non-increasing in phi
        m = y == c
        order = np.argsort(lin.influence_[m])
        assert np.all(np.diff(lin.probabilities_[m][order]) <= 1e-12)
    # harmful rows (phi > 0) are kept less often than helpful ones
    assert s.probabilities_[s.influence_ > 0].mean() < s.probabilities_[s.influence_ < 0].mean()


def test_held_out_validation_warns_and_excludes_rows(cancer):
    X, y, _, _, _ = cancer
    s = UIDSSampler(fraction=0.5, validation_fraction=0.25, random_state=0)
    with pytest.warns(NoValidationDataWarning, match="noisy"):
        s.fit_resample(X, y)
    assert s.candidate_indices_.size == 300
    assert np.isin(s.sample_indices_, s.candidate_indices_).all()


# -- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize("fraction", [0, -0.1, 1.5, "half"])
def test_bad_fraction(fraction):
    X, y = _regression(n=50)
    with pytest.raises(ValueError, match="fraction"):
        LeverageSampler(fraction=fraction).fit_resample(X, y)


def test_n_samples_larger_than_data():
    X, y = _regression(n=50)
    for sel in (LeverageSampler(n_samples=51), OptimalSubsampler(n_samples=80)):
        with pytest.raises(ValueError, match="larger than the number"):
            sel.fit_resample(X, y)


def test_validation_with_unseen_class(cancer):
    X, y, Xv, yv, _ = cancer
    with pytest.raises(ValueError, match="not present"):
        UIDSSampler().fit_resample(X, y, X_val=Xv, y_val=np.where(yv == 1, 2, yv))
    with pytest.raises(ValueError, match="both"):
        UIDSSampler().fit_resample(X, y, X_val=Xv)


def test_unsupported_estimator():
    X, y = _regression(n=50)
    with pytest.raises(UnsupportedEstimatorError, match="Supported"):
        OptimalSubsampler(DecisionTreeRegressor(), n_samples=10).fit_resample(X, y)
    with pytest.raises(TypeError):
        InfluenceFilter(DecisionTreeRegressor(), score="cooks").fit_resample(X, y)


def test_relabeler_needs_two_classes_and_filter_not_everything():
    X, y = _regression(n=60)
    with pytest.raises(ValueError, match="two classes"):
        InfluenceRelabeler().fit_resample(X, np.zeros(60, int), X_val=X, y_val=np.zeros(60, int))
    with pytest.raises(ValueError, match="Every row"):
        InfluenceFilter(score="cooks", threshold=-1.0).fit_resample(X, y)
    with pytest.raises(ValueError, match="n_remove"):
        InfluenceFilter(score="cooks", n_remove=60).fit_resample(X, y)


def test_never_returns_empty_subset():
    X, y = _regression(n=30)
    for seed in range(200):
        s = OptimalSubsampler(n_samples=1, n_pilot=20, random_state=seed)
        try:
            Xs, _ = s.fit_resample(X, y)
        except ValueError as exc:
            assert "selected no rows" in str(exc)
            return
        assert Xs.shape[0] > 0
    pytest.fail("expected some seed to draw an empty Poisson sample")
