"""Public boundary: pipelines, pandas, sparse/float32 input, chunking, bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import NotFittedError
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, scale
from sklearn.tree import DecisionTreeRegressor

import skinfluence
from skinfluence import SingularHessianError, UnsupportedEstimatorError
from skinfluence.linear_model import LinearRegression, LogisticRegression


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X, y


def test_pipeline_equals_manual_transform(cancer):
    X, y = cancer
    pipe = make_pipeline(StandardScaler(), sk.LogisticRegression()).fit(X, y)
    a = skinfluence.influence(pipe, X, y)
    Xt = pipe[:-1].transform(X)
    b = skinfluence.influence(pipe[-1], Xt, y)
    np.testing.assert_allclose(a.cooks_distance, b.cooks_distance)
    assert list(a.summary_frame().index) == list(X.index)


def test_summary_frame_indexed_like_dataframe_and_named_columns(cancer):
    X, y = cancer
    X = X.iloc[:, :4].set_axis([f"r{i}" for i in range(len(X))], axis=0)
    est = LogisticRegression(C=np.inf, solver="newton-cholesky").fit(X, y.to_numpy())
    frame = est.influence().summary_frame()
    assert list(frame.index[:2]) == ["r0", "r1"]
    assert "dfb_(Intercept)" in frame and "dfb_mean radius" in frame
    assert frame["influential"].dtype == bool
    assert repr(est.influence()).startswith("<Influence: HalfBinomialLoss")


def test_sparse_float32_and_chunking_agree_with_dense_float64():
    X, y = load_diabetes(return_X_y=True)
    X = np.where(np.abs(X) > 0.02, X, 0.0)
    est = sk.Ridge(alpha=0.1).fit(X, y)
    ref = skinfluence.influence(est, X, y)
    for Xv in (sp.csr_matrix(X), X.astype(np.float32)):
        got = skinfluence.influence(est, Xv, y)
        tol = 1e-10 if Xv.dtype == np.float64 else 1e-5
        # float32 X itself carries ~1e-7 relative rounding: compare on the scale
        # of the largest value
        np.testing.assert_allclose(
            got.cooks_distance, ref.cooks_distance, rtol=tol, atol=tol * ref.cooks_distance.max()
        )
        np.testing.assert_allclose(got.dfbetas, ref.dfbetas, rtol=tol, atol=tol * np.abs(ref.dfbetas).max())
    with skinfluence.config_context(working_memory=0.01):  # ~a few rows per chunk
        small = skinfluence.influence(est, X, y)
        np.testing.assert_allclose(small.leverage, ref.leverage, rtol=1e-12)
        np.testing.assert_allclose(small.dfbeta, ref.dfbeta, rtol=1e-10, atol=1e-12)


def test_other_sparse_formats_are_converted_with_warning():
    X, y = load_diabetes(return_X_y=True)
    est = sk.LinearRegression().fit(X, y)
    with pytest.warns(UserWarning, match="CSR"):
        inf = skinfluence.influence(est, sp.csc_matrix(X), y)
    np.testing.assert_allclose(inf.leverage, skinfluence.influence(est, X, y).leverage)


def test_user_arrays_not_modified():
    X, y = load_diabetes(return_X_y=True)
    w = np.linspace(0.5, 2, y.size)
    X0, y0, w0 = X.copy(), y.copy(), w.copy()
    inf = LinearRegression().fit(X, y, sample_weight=w).influence()
    inf.summary_frame()
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(w, w0)


@pytest.mark.parametrize(
    "est",
    [DecisionTreeRegressor(), KNeighborsClassifier(), sk.Lasso(), sk.ElasticNet()],
    ids=lambda e: type(e).__name__,
)
def test_unsupported_estimators_raise_type_error_listing_supported(est):
    X, y = load_diabetes(return_X_y=True)
    est.fit(X, y if not isinstance(est, KNeighborsClassifier) else (y > 140))
    with pytest.raises(TypeError, match="Supported estimators: .*LogisticRegression"):
        skinfluence.influence(est, X, y)


def test_l1_and_other_unsupported_settings_are_refused():
    X, y = load_breast_cancer(return_X_y=True)
    X = scale(X)
    l1 = sk.LogisticRegression(l1_ratio=1.0, solver="saga", C=0.1, max_iter=200).fit(X, y)
    with pytest.raises(UnsupportedEstimatorError, match="l1"):
        skinfluence.influence(l1, X, y)
    Xd, yd = load_diabetes(return_X_y=True)
    pos = sk.LinearRegression(positive=True).fit(Xd, yd)
    with pytest.raises(UnsupportedEstimatorError, match="positive"):
        skinfluence.influence(pos, Xd, yd)
    multi = sk.LinearRegression().fit(Xd, np.c_[yd, yd])
    with pytest.raises(UnsupportedEstimatorError, match="multi-output"):
        skinfluence.influence(multi, Xd, np.c_[yd, yd][:, 0])
    with pytest.raises(TypeError, match="Unknown option"):
        skinfluence.influence(sk.LinearRegression().fit(Xd, yd), Xd, yd, temperature=1.0)


def test_unfitted_raises_not_fitted():
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(NotFittedError):
        skinfluence.influence(sk.Ridge(), X, y)
    with pytest.raises(NotFittedError):
        skinfluence.influence(make_pipeline(StandardScaler(), sk.Ridge()), X, y)


def test_bad_data_raises_value_error_naming_problem():
    X, y = load_diabetes(return_X_y=True)
    est = sk.LinearRegression().fit(X, y)
    Xn = X.copy()
    Xn[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        skinfluence.influence(est, Xn, y)
    yn = y.copy()
    yn[0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        skinfluence.influence(est, X, yn)
    with pytest.raises(ValueError, match="10 features"):
        skinfluence.influence(est, X[:, :5], y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        skinfluence.influence(est, X, y[:-1])
    with pytest.raises(ValueError, match="sample_weight"):
        skinfluence.influence(est, X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        skinfluence.influence(est, X, y, sample_weight=-np.ones(len(y)))


def test_wrong_labels_raise_value_error():
    X, y = load_breast_cancer(return_X_y=True)
    est = sk.LogisticRegression(max_iter=5000).fit(scale(X), y)
    with pytest.raises(ValueError, match="labels not seen during fit: \\[7\\]"):
        skinfluence.influence(est, scale(X), np.where(y == 1, 7, 0))
    pois = sk.PoissonRegressor().fit(X[:, :3], y)
    with pytest.raises(ValueError, match="y >= 0"):
        skinfluence.influence(pois, X[:, :3], -y.astype(float))


def test_singular_hessian_is_a_clear_error_and_damping_is_the_fallback():
    X, y = load_diabetes(return_X_y=True)
    Xc = np.c_[X, X[:, 0] + X[:, 1]]  # collinear column
    est = sk.LinearRegression().fit(Xc, y)
    with pytest.raises(SingularHessianError, match="singular.*x10|x10.*singular|dependent parameter: 'x"):
        skinfluence.influence(est, Xc, y).cooks_distance
    damped = skinfluence.influence(est, Xc, y, damping=1e-6)
    assert np.all(np.isfinite(damped.cooks_distance))
    # p > n, unpenalized
    rng = np.random.default_rng(0)
    Xw, yw = rng.normal(size=(10, 30)), rng.normal(size=10)
    wide = sk.LinearRegression().fit(Xw, yw)
    with pytest.raises(SingularHessianError):
        skinfluence.influence(wide, Xw, yw).leverage
    # ...while a ridge penalty makes it well-posed
    assert np.all(np.isfinite(skinfluence.influence(sk.Ridge(1.0).fit(Xw, yw), Xw, yw).leverage))


def test_multinomial_refuses_residual_diagnostics_clearly():
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    est = sk.LogisticRegression(max_iter=5000).fit(scale(X), y)
    inf = skinfluence.influence(est, scale(X), y)
    assert inf.leverage.shape == (178,) and inf.dfbeta.shape == (178, 42)
    assert inf.param_names[:2] == ["0:(Intercept)", "0:x0"]
    with pytest.raises(AttributeError, match="single-output"):
        inf.dffits
    assert {"cooks_d", "hat_diag"} <= set(inf.summary_frame().columns)


def test_plots_return_axes():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    X, y = load_diabetes(return_X_y=True)
    inf = LinearRegression().fit(X, y).influence()
    for kind in ("influence", "cooks", "leverage"):
        assert inf.plot(kind).get_xlabel()
    with pytest.raises(ValueError, match="kind"):
        inf.plot("nope")


def test_demo_finds_flipped_labels():
    from skinfluence._demo import run_demo

    lines = []
    res = run_demo(out=lines.append)
    assert res["recall"][0.1] > 0.5 > 0.11 > res["random"][0.1]
    assert any("Cook" in line for line in lines)


def test_command_line_demo_runs(capsys):
    from skinfluence.__main__ import main

    assert main(["demo", "--top", "3"]) == 0
    assert "Flipped rows found" in capsys.readouterr().out


def test_sketched_leverage_through_the_public_api():
    """influence(leverage_method="sketch") runs the diagnostics on randomized
    leverage: within 10% of exact for nearly all rows; dfbeta keeps the exact
    H^-1 and differs only through the 1/(1 - h) factor."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 8)) * rng.uniform(0.5, 3, size=8)
    y = X @ rng.normal(size=8) + rng.normal(size=20_000)
    est = sk.LinearRegression().fit(X, y)
    exact = skinfluence.influence(est, X, y)
    sk_inf = skinfluence.influence(est, X, y, leverage_method="sketch",
                                   leverage_options={"eps": 0.1, "random_state": 0})
    rel = np.abs(sk_inf.leverage / exact.leverage - 1)
    assert np.mean(rel < 0.1) >= 0.95
    factor = (1 - exact.leverage) / (1 - sk_inf.leverage)
    np.testing.assert_allclose(sk_inf.dfbeta, exact.dfbeta * factor[:, None], rtol=1e-9)
    assert np.all(np.isfinite(sk_inf.cooks_distance))
    with pytest.raises(ValueError, match="leverage_method"):
        skinfluence.influence(est, X, y, leverage_method="fast")
