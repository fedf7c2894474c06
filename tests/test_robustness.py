"""penalty_influence, cov_params and dropping_robustness against brute-force refits."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

import skinfluence
from skinfluence.model_selection import ALOSearchCV
from skinfluence.robustness import cov_params, penalty_influence
from itertools import combinations
from skinfluence.robustness import dropping_robustness


# -- penalty_influence ---------------------------------------------------------------------
def _loo_mse_refits(alpha, X, y):
    """Exact leave-one-out MSE of Ridge by n actual refits."""
    n = len(y)
    err = [y[j] - Ridge(alpha=alpha).fit(np.delete(X, j, 0), np.delete(y, j)).predict(X[j:j + 1])[0]
           for j in range(n)]
    return -np.mean(np.square(err))


def test_penalty_influence_ridge_equals_brute_force():
    rng = np.random.default_rng(0)
    n = 14
    X = rng.normal(size=(n, 3))
    y = X @ [1.0, 0.5, 0.0] + rng.normal(size=n)
    y[2] += 5
    alphas = np.logspace(-2, 2, 5)
    Xf = pd.DataFrame(X, index=[f"r{i}" for i in range(n)])
    search = ALOSearchCV(Ridge(), {"alpha": alphas}, scoring="neg_mean_squared_error")
    frame = penalty_influence(search.fit(Xf, y), Xf, y)
    assert list(frame.index) == list(Xf.index)
    brute = np.array([[_loo_mse_refits(a, np.delete(X, i, 0), np.delete(y, i)) for a in alphas]
                      for i in range(n)])
    np.testing.assert_allclose(frame["alpha"].to_numpy(float), alphas[brute.argmax(1)])
    best = int(np.argmax(search.cv_results_["mean_test_score"]))
    np.testing.assert_array_equal(frame["grid_shift"], brute.argmax(1) - best)
    assert (frame["grid_shift"] != 0).any()          # the data were built so that some move
    drop = brute[np.arange(n), brute.argmax(1)] - brute[:, best]
    np.testing.assert_allclose(frame["criterion_drop"], drop, atol=1e-10)


def test_penalty_influence_logistic_close_to_refit_alo():
    """GLM: the pair Newton step vs the ALO criterion of actual refits without row i."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import scale

    X, y = load_breast_cancer(return_X_y=True)
    X, y = scale(X)[::12, :5], y[::12]                 # 48 rows
    Cs = list(np.logspace(-2, 1, 13))
    est = LogisticRegression(solver="newton-cholesky", tol=1e-10)
    search = ALOSearchCV(est, {"C": Cs}, scoring="neg_log_loss").fit(X, y)
    frame = penalty_influence(search, X, y)
    moved = np.flatnonzero(frame["grid_shift"].to_numpy() != 0)
    assert moved.size > 0                              # some rows do move C here
    rows = list(moved[:2]) + [0, 1]
    for i in rows:
        keep = np.arange(len(y)) != i
        crit = [skinfluence.influence(clone(est).set_params(C=c).fit(X[keep], y[keep]),
                                      X[keep], y[keep]).alo_score("neg_log_loss") for c in Cs]
        assert frame["C"].iloc[i] == Cs[int(np.argmax(crit))]


def test_penalty_influence_refuses():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 2))
    y = X[:, 0] + rng.normal(size=20)
    two = ALOSearchCV(Ridge(), {"alpha": [0.1, 1.0], "fit_intercept": [True, False]}).fit(X, y)
    with pytest.raises(ValueError, match="exactly one parameter"):
        penalty_influence(two, X, y)
    auc = ALOSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, scoring="roc_auc")
    yb = (y > 0).astype(int)
    with pytest.raises(ValueError, match="mean over rows"):
        penalty_influence(auc.fit(X, yb), X, yb)


def test_penalty_influence_plot():
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = X[:, 0] + rng.normal(size=30)
    search = ALOSearchCV(Ridge(), {"alpha": np.logspace(-2, 2, 5)}).fit(X, y)
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    penalty_influence(search, X, y, plot=True, ax=ax, n_labels=3)
    assert len(ax.lines) >= 1 + 3
    plt.close("all")


# -- cov_params ----------------------------------------------------------------------------
def test_cov_params_match_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 3))
    y = X @ [0.5, -1.0, 0.0] + rng.normal(size=50)
    inf = skinfluence.influence(LinearRegression().fit(X, y), X, y)
    np.testing.assert_allclose(np.sqrt(np.diag(cov_params(inf))),
                               sm.OLS(y, sm.add_constant(X)).fit().bse, rtol=1e-8)
    yb = (y + rng.logistic(size=50) > 0).astype(int)
    lr = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12).fit(X, yb)
    inf = skinfluence.influence(lr, X, yb)
    ref = sm.GLM(yb, sm.add_constant(X), family=sm.families.Binomial()).fit()
    np.testing.assert_allclose(np.sqrt(np.diag(cov_params(inf))), ref.bse, rtol=1e-5)
    np.testing.assert_allclose(inf.bse, ref.bse, rtol=1e-5)          # Influence.bse
    with pytest.raises(AttributeError, match="unpenalized"):
        cov_params(skinfluence.influence(Ridge().fit(X, y), X, y))
    assert not hasattr(skinfluence.influence(Ridge().fit(X, y), X, y), "bse")


# -- dropping_robustness ---------------------------------------------------------------------



def _ols_coef_se(X, y, j):
    sm = pytest.importorskip("statsmodels.api")
    fit = sm.OLS(y, sm.add_constant(X)).fit()
    return fit.params[j], fit.bse[j], fit.df_resid


def _brute_min(X, y, j, goal, max_size=2):
    n = len(y)
    for k in range(max_size + 1):
        for S in combinations(range(n), k):
            keep = np.setdiff1d(np.arange(n), S)
            b, se, df = _ols_coef_se(X[keep], y[keep], j)
            if goal(b, se, df):
                return k
    return None


@pytest.mark.parametrize("seed", range(6))
def test_dropping_sign_and_significance_vs_all_subsets(seed):
    from scipy import stats

    rng = np.random.default_rng(seed)
    n = 12
    X = rng.normal(size=(n, 2))
    y = 0.6 * X[:, 0] + rng.normal(size=n)
    b0, se0, df0 = _ols_coef_se(X, y, 1)
    sign = lambda b, se, df: np.sign(b) != np.sign(b0)
    sig0 = abs(b0 / se0) > stats.t.ppf(0.975, df0)
    signif = lambda b, se, df: (abs(b / se) > stats.t.ppf(0.975, df)) != sig0
    res = dropping_robustness(LinearRegression().fit(X, y), X, y, "x0",
                              what=["sign", "significance"], max_fraction=0.5)
    for what, goal in (("sign", sign), ("significance", signif)):
        r = res.loc[what]
        keep = np.setdiff1d(np.arange(n), r["rows"])
        b, se, df = _ols_coef_se(X[keep], y[keep], 1)
        assert r["refit"] == pytest.approx(b)                    # verified by statsmodels
        assert r["refit_se"] == pytest.approx(se)
        assert r["newton"] == pytest.approx(b)                   # exact for OLS
        assert bool(r["achieved"]) == bool(goal(b, se, df))
        best = _brute_min(X, y, 1, goal)
        if best is not None:                                     # a set of <= 2 rows exists
            assert r["achieved"]
            assert r["n_dropped"] <= best + 1, (what, r["n_dropped"], best)


def test_dropping_finds_masked_pair():
    """Two identical high-leverage rows mask each other: single-pass influence misses them."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 1))
    y = -0.3 * X[:, 0] + 0.5 * rng.normal(size=40)
    X = np.vstack([X, [[6.0], [6.0]]])
    y = np.concatenate([y, [8.0, 8.0]])                      # the pair makes the slope > 0
    ols = LinearRegression().fit(X, y)
    assert ols.coef_[0] > 0
    res = dropping_robustness(ols, X, y, "x0", what="sign")
    assert res.loc["sign", "achieved"]
    assert {40, 41} <= set(res.loc["sign", "rows"])
    assert res.loc["sign", "n_dropped"] <= 3
    once = dropping_robustness(ols, X, y, "x0", what="sign", refit=False)
    assert once.loc["sign", "n_dropped"] >= res.loc["sign", "n_dropped"]


def test_dropping_prediction_change_logistic_and_errors():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import scale

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = pd.DataFrame(scale(X.iloc[:200, :4]), columns=X.columns[:4], index=X.index[:200])
    y = y.iloc[:200]
    lr = LogisticRegression(C=np.inf, solver="newton-cholesky").fit(X, y)
    res = dropping_robustness(lr, X, y, X.iloc[0].to_numpy(), what="change", delta=-1.0)
    r = res.loc["change"]
    keep = X.index.difference(r["rows"])
    refit = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-10).fit(
        X.loc[keep], y.loc[keep])
    assert r["refit"] == pytest.approx(refit.decision_function(X.iloc[:1])[0], rel=1e-5)
    assert r["achieved"] and r["refit"] - r["original"] <= -1.0
    with pytest.raises(ValueError, match="not a parameter"):
        dropping_robustness(lr, X, y, "nope")
    with pytest.raises(ValueError, match="delta"):
        dropping_robustness(lr, X, y, "mean radius", what="change")
    with pytest.raises(AttributeError, match="unpenalized"):
        dropping_robustness(Ridge().fit(X, y), X, y, "mean radius", what="significance")


@pytest.mark.slow
def test_readme_robustness_blocks_run():
    """The README's "Is this conclusion robust?" blocks run as written."""
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("## Is this conclusion robust?")[1].split("\n## ")[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 4
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102


def test_penalty_influence_poisson_criterion_close_to_refit_alo():
    """Mean-form GLM (the penalty share of each row): criterion without row i vs the ALO
    criterion of an actual refit without row i."""
    from sklearn.linear_model import PoissonRegressor

    from skinfluence.robustness import _pair_loo_criterion, _row_criterion

    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3))
    y = rng.poisson(np.exp(0.3 + X @ [0.4, -0.3, 0.2]))
    est = PoissonRegressor(alpha=0.02, solver="newton-cholesky", tol=1e-10)
    inf = skinfluence.influence(clone(est).fit(X, y), X, y)
    _, without = _pair_loo_criterion(inf, _row_criterion("neg_mean_poisson_deviance",
                                                         inf.objective))
    for i in range(3):
        keep = np.arange(len(y)) != i
        ref = skinfluence.influence(clone(est).fit(X[keep], y[keep]), X[keep], y[keep])
        assert without[i] == pytest.approx(ref.alo_score("neg_mean_poisson_deviance"),
                                           rel=0.01)
