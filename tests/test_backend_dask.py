"""The dask backend: parity with the NumPy backend on a small LocalCluster, laziness
(nothing of length n is computed where a lazy result is promised), the plugin seam
(importing skinfluence never imports dask) and validation.

The oracle of the parity tests is the NumPy backend, itself tested against R,
statsmodels and actual refits elsewhere; here the dask backend must give the same
numbers while every per-row result stays a dask array with X's row chunks.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
)
from sklearn.preprocessing import scale

import skinfluence
from skinfluence.selection import LeverageSampler, OptimalSubsampler, UIDSSampler

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

REPO = Path(__file__).resolve().parents[1]
CHUNK = 60
DIAGNOSTICS = [
    "leverage", "cooks_distance", "dfbeta", "dfbetas", "studentized_residuals",
    "studentized_residuals_pearson", "studentized_residuals_external", "pearson_residuals",
    "deviance_residuals", "response_residuals", "dffits", "cov_ratio", "sigma_loo",
    "influential", "fitted", "self_influence", "up_params", "per_sample_loss",
]


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as c:
        yield c


def _data(kind, n=240, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    X[5] *= 4.0  # a high-leverage row
    eta = X @ [0.6, -0.4, 0.3]
    if kind == "ols":
        y = eta + rng.normal(size=n)
        y[7] += 6.0
        return LinearRegression(), X, y, None
    if kind == "ridge":
        return Ridge(alpha=3.0), X, eta + rng.normal(size=n), rng.uniform(0.5, 2.0, n)
    if kind == "logistic":
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(int)
        return LogisticRegression(C=2.0), X, y, rng.uniform(0.5, 2.0, n)
    if kind == "poisson":  # mean-form penalty: the penalty share of each row
        return PoissonRegressor(alpha=0.05), X, rng.poisson(np.exp(eta)), None
    raise ValueError(kind)


def _pair(kind):
    est, X, y, s = _data(kind)
    est.fit(X, y, sample_weight=s)
    Xd = da.from_array(X, chunks=(CHUNK, 3))
    lazy = skinfluence.influence(est, Xd, y, sample_weight=s)
    ref = skinfluence.influence(est, X, y, sample_weight=s, backend="numpy")
    return lazy, ref, X, y


@pytest.mark.parametrize(
    "kind", ["ols", pytest.param("ridge", marks=pytest.mark.slow), "logistic", "poisson"]
)
def test_every_diagnostic_matches_numpy_and_stays_lazy(client, kind):
    lazy, ref, X, _y = _pair(kind)
    assert lazy.engine.backend.name == "dask"  # chosen from the array type
    n = X.shape[0]
    got = {name: getattr(lazy, name) for name in DIAGNOSTICS}
    for name in ("loo_decision_function", "loo_predict", "loo_per_sample_loss"):
        got[name] = getattr(lazy, name)()
    got["param_change"] = lazy.param_change("newton")
    expected = {name: getattr(ref, name) for name in DIAGNOSTICS}
    for name in ("loo_decision_function", "loo_predict", "loo_per_sample_loss"):
        expected[name] = getattr(ref, name)()
    expected["param_change"] = ref.param_change("newton")
    for name, value in got.items():
        assert isinstance(value, da.Array), name
        assert value.chunks[0] == (CHUNK,) * (n // CHUNK), name
    (computed,) = dask.compute(got)  # one graph on the cluster
    for name, value in computed.items():
        np.testing.assert_allclose(value, expected[name], rtol=1e-9, atol=1e-12, err_msg=name)
    assert lazy.dispersion == pytest.approx(ref.dispersion, rel=1e-12)
    assert lazy.n_params == pytest.approx(ref.n_params, rel=1e-12)
    np.testing.assert_array_equal(lazy.top(5), ref.top(5))


@pytest.mark.parametrize(
    "kind", [pytest.param("ols", marks=pytest.mark.slow), "logistic", "poisson"]
)
def test_loss_change_matches_numpy(client, kind):
    lazy, ref, X, y = _pair(kind)
    X_test, y_test = X[:25] + 0.1, y[:25]
    cases = [(reduce, method) for reduce in (None, "mean") for method in ("influence", "newton")]
    got = [lazy.loss_change(X_test, y_test, method=m, reduce=r) for r, m in cases]
    assert all(isinstance(g, da.Array) for g in got)
    for g, (r, m) in zip(dask.compute(*got), cases):
        np.testing.assert_allclose(
            g, ref.loss_change(X_test, y_test, method=m, reduce=r), rtol=1e-9, atol=1e-12
        )
    # a validation set that is itself a dask array: one tree reduction, lazy result
    Xt_d = da.from_array(X_test, chunks=(10, 3))
    got = lazy.loss_change(Xt_d, y_test, reduce="mean")
    np.testing.assert_allclose(got.compute(), ref.loss_change(X_test, y_test, reduce="mean"),
                               rtol=1e-9, atol=1e-12)


def test_summary_frame_is_a_dask_dataframe(client):
    lazy, ref, X, _y = _pair("logistic")
    frame = lazy.summary_frame()
    assert type(frame).__module__.startswith("dask")
    assert frame.npartitions == X.shape[0] // CHUNK
    expected = ref.summary_frame()
    got = frame.compute()
    assert list(got.columns) == list(expected.columns)
    np.testing.assert_allclose(got.drop(columns="influential").to_numpy(),
                               expected.drop(columns="influential").to_numpy(), rtol=1e-9)
    np.testing.assert_array_equal(got["influential"].to_numpy(), expected["influential"])


@pytest.mark.slow
def test_multinomial_matches_numpy(client):
    X, y = load_iris(return_X_y=True)
    est = LogisticRegression(max_iter=2000).fit(X, y)
    lazy = skinfluence.influence(est, da.from_array(X, chunks=(50, 4)), y)
    ref = skinfluence.influence(est, X, y)
    names = ("leverage", "cooks_distance", "dfbeta", "self_influence")
    got = [getattr(lazy, name) for name in names]
    assert all(isinstance(g, da.Array) for g in got)
    for name, g in zip(names, dask.compute(*got)):
        np.testing.assert_allclose(g, getattr(ref, name), rtol=1e-8, atol=1e-12, err_msg=name)


class _CountingScheduler:
    """A dask scheduler that records the size of every result it hands back."""

    def __init__(self):
        self.sizes = []

    def __call__(self, dsk, keys, **kwargs):
        out = dask.get(dsk, keys, **kwargs)
        self.sizes.extend(np.size(r) for r in _leaves(out))
        return out


def _assert_small_or_eta(sizes, n, block, small):
    """Only small results came back, and row blocks of three vectors per objective: the
    linear predictor, computed once and kept (persisted) where dask keeps data, and
    the (host) y and sample_weight placed there once, reused by every later pass."""
    assert sizes, "nothing was computed"
    assert max((s for s in sizes if s != block), default=0) <= small
    assert sum(s for s in sizes if s == block) <= 3 * n


def _leaves(obj):
    if isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _leaves(o)
    else:
        yield obj


@pytest.mark.parametrize("kind", ["ols", "logistic", "poisson"])
def test_nothing_of_length_n_is_computed_eagerly(kind):
    est, X, y, s = _data(kind, n=400)
    est.fit(X, y, sample_weight=s)
    Xd = da.from_array(X, chunks=(100, 3))
    counting = _CountingScheduler()
    with dask.config.set(scheduler=counting):
        inf = skinfluence.influence(est, Xd, y, sample_weight=s)
        # building the Influence computes only the fit check's small reductions
        # (the Hessian with the gradient as one more column, a few scalars) and keeps
        # the linear predictor
        _assert_small_or_eta(counting.sizes, X.shape[0], 100,
                             (X.shape[1] + 1) * (X.shape[1] + 2))
        counting.sizes.clear()
        results = [inf.cooks_distance, inf.leverage, inf.dfbeta, inf.self_influence,
                   inf.loss_change(X[:10], y[:10], reduce="mean")]
        results += [inf.studentized_residuals, inf.dffits, inf.influential]
        frame = inf.summary_frame()
    assert all(isinstance(r, da.Array) for r in results)
    assert type(frame).__module__.startswith("dask")
    # only small things came back: the p' x p' Hessian and a few scalars
    _assert_small_or_eta(counting.sizes, 0, 100, (X.shape[1] + 1) ** 2)
    assert len(counting.sizes) <= 6
    # ...and the lazy results compute to the NumPy backend's values
    ref = skinfluence.influence(est, X, y, sample_weight=s, backend="numpy")
    np.testing.assert_allclose(results[0].compute(), ref.cooks_distance, rtol=1e-9)


def test_validation_is_lazy_and_names_the_argument():
    est, X, y, _ = _data("ols")
    est.fit(X, y)
    Xbad = X.copy()
    Xbad[200, 1] = np.nan
    # no extra pass to validate: the fit check's gradient pass is the first to read X
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        inf = skinfluence.influence(est, da.from_array(Xbad, chunks=(CHUNK, 3)), y)
        inf.cooks_distance.compute()
    inf = skinfluence.influence(est, da.from_array(Xbad, chunks=(CHUNK, 3)), y, fit_check="off")
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        inf.cooks_distance.compute()
    with pytest.raises(ValueError, match="X has 2 features"):
        skinfluence.influence(est, da.from_array(X[:, :2], chunks=(CHUNK, 2)), y)
    with pytest.raises(ValueError, match="2-dimensional"):
        skinfluence.influence(est, da.from_array(X[:, 0], chunks=CHUNK), y)
    unknown = da.from_array(X, chunks=(CHUNK, 3))
    unknown = unknown[unknown[:, 0] > -100]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        skinfluence.influence(est, unknown, y)
    with pytest.raises(ValueError, match="X_test contains NaN"):
        inf.loss_change(da.from_array(Xbad[190:210], chunks=10), y[190:210]).compute()


def test_column_chunks_and_integer_design_are_handled():
    est, X, y, _ = _data("ols")
    Xi = np.round(X * 10).astype(np.int64)
    est.fit(Xi, y)
    lazy = skinfluence.influence(est, da.from_array(Xi, chunks=(CHUNK, 1)), y)
    ref = skinfluence.influence(est, Xi, y)
    np.testing.assert_allclose(lazy.cooks_distance.compute(), ref.cooks_distance, rtol=1e-9)


def test_float32_design_matches_numpy_float32():
    est, X, y, _ = _data("logistic")
    X32 = X.astype(np.float32)
    est.fit(X32, y)
    lazy = skinfluence.influence(est, da.from_array(X32, chunks=(CHUNK, 3)), y)
    ref = skinfluence.influence(est, X32, y)
    # both compute float32 products per block (chunked differently) with float64
    # sums: they agree to float32 rounding, not to float64's
    np.testing.assert_allclose(lazy.cooks_distance.compute(), ref.cooks_distance, rtol=1e-5)


def test_results_write_to_zarr_without_gathering(tmp_path):
    pytest.importorskip("zarr")
    est, X, y, _ = _data("poisson")
    est.fit(X, y)
    inf = skinfluence.influence(est, da.from_array(X, chunks=(CHUNK, 3)), y)
    path = tmp_path / "cooks.zarr"
    inf.cooks_distance.to_zarr(str(path))
    back = da.from_zarr(str(path))
    assert back.chunks == ((CHUNK,) * 4,)
    np.testing.assert_allclose(back.compute(), skinfluence.influence(est, X, y).cooks_distance)


def test_importing_skinfluence_never_imports_dask():
    code = (
        "import sys, numpy as np, skinfluence\n"
        "from skinfluence.backends._dask import DaskBackend\n"
        "from sklearn.linear_model import LinearRegression\n"
        "X = np.random.default_rng(0).normal(size=(30, 2)); y = X[:, 0] + np.sin(7 * X[:, 1])\n"
        "skinfluence.influence(LinearRegression().fit(X, y), X, y).cooks_distance\n"
        "assert not DaskBackend.owns(X)\n"
        "assert 'dask' not in sys.modules, 'dask was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_entry_point_is_declared():
    text = (REPO / "pyproject.toml").read_text()
    assert 'dask = "skinfluence.backends._dask:DaskBackend"' in text


def _sampler_data(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_t(3, size=(n, 4))
    return X, X @ [1.0, 2.0, 3.0, 0.5] + rng.normal(size=n)


@pytest.mark.parametrize("make", [
    lambda: LeverageSampler(n_samples=150, method="slev", random_state=0),
    lambda: OptimalSubsampler(n_samples=200, n_pilot=400, random_state=0),
    lambda: OptimalSubsampler(n_samples=200, n_pilot=400, criterion="prediction",
                              random_state=1),
])
def test_samplers_on_dask_match_numpy_and_return_numpy(make):
    X, y = _sampler_data()
    Xd = da.from_array(X, chunks=(400, 2))  # column chunks too
    counting = _CountingScheduler()
    lazy = make()
    with dask.config.set(scheduler=counting):
        Xs, ys = lazy.fit_resample(Xd, y)
    assert type(Xs) is np.ndarray
    # X itself (n x p) is never gathered: only the score vector, p x p and the subsample
    assert max(counting.sizes) <= X.shape[0]
    ref = make()
    Xr, yr = ref.fit_resample(X, y)
    np.testing.assert_array_equal(lazy.sample_indices_, ref.sample_indices_)
    np.testing.assert_allclose(lazy.probabilities_, ref.probabilities_, rtol=1e-9)
    np.testing.assert_allclose(lazy.sample_weight_, ref.sample_weight_, rtol=1e-9)
    np.testing.assert_array_equal(Xs, Xr)
    np.testing.assert_array_equal(ys, yr)


def test_uids_on_dask_matches_numpy_and_needs_validation_data():
    X, y = load_breast_cancer(return_X_y=True)
    X = scale(X)
    Xd = da.from_array(X[:400], chunks=(100, 30))
    lazy = UIDSSampler(fraction=0.5, random_state=0)
    Xs, _ = lazy.fit_resample(Xd, y[:400], X_val=da.from_array(X[400:], chunks=50),
                              y_val=y[400:])
    ref = UIDSSampler(fraction=0.5, random_state=0)
    Xr, _ = ref.fit_resample(X[:400], y[:400], X_val=X[400:], y_val=y[400:])
    assert type(Xs) is np.ndarray
    np.testing.assert_array_equal(lazy.sample_indices_, ref.sample_indices_)
    np.testing.assert_allclose(lazy.influence_, ref.influence_, rtol=1e-8, atol=1e-14)
    np.testing.assert_array_equal(Xs, Xr)
    with pytest.raises(ValueError, match="needs X_val and y_val"):
        UIDSSampler().fit_resample(Xd, y[:400])


def test_readme_dask_section_runs_as_written(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    import re
    import tempfile

    text = (REPO / "README.md").read_text()
    section = text.split("## Tables larger than memory: the Dask backend", 1)[1].split("\n## ")[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    namespace = {}
    exec(compile(block, "README.md (Dask section)", "exec"), namespace)  # noqa: S102
    assert isinstance(namespace["cooks"], da.Array)
    assert namespace["Xs"].shape[1] == 5
    back = da.from_zarr(namespace["out"] + "/cooks.zarr").compute()
    est, X, y = namespace["est"], namespace["X"].compute(), namespace["y"].compute()
    np.testing.assert_allclose(back, skinfluence.influence(est, X, y).cooks_distance, rtol=1e-9)


@pytest.mark.parametrize("name,scale,const", [
    ("LogisticRegression", 1.0, False), ("LinearRegression", 0.5, False),
    ("PoissonRegression", 1.0, True),
])
def test_daskml_adapters_rebuild_dask_glms_objective(name, scale, const):
    """The adapter's objective equals dask-glm's own (families + l2 regularizer, the
    intercept appended last and penalized) up to the documented scale, at any theta."""
    dl = pytest.importorskip("dask_ml.linear_model")
    from dask_glm.families import Logistic, Normal, Poisson
    from dask_glm.regularizers import Regularizer

    family = {"LogisticRegression": Logistic, "LinearRegression": Normal,
              "PoissonRegression": Poisson}[name]
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3))
    y = (rng.uniform(size=300) < 0.4).astype(float) if name.startswith("Logistic") else (
        rng.poisson(2.0, size=300).astype(float))
    C = 0.3
    ours, theirs = [], []
    for _ in range(3):
        beta = rng.normal(scale=0.5, size=4)  # dask-glm's order: coef..., intercept
        est = getattr(dl, name)(C=C, solver="lbfgs")
        est.coef_, est.intercept_ = beta[:3], beta[3]
        # parameters set by hand: the objective's value is checked, not its optimum
        inf = skinfluence.influence(est, da.from_array(X, chunks=(100, 3)), y, fit_check="off")
        ours.append(inf.objective.value(backend=inf.engine.backend))
        Xi = np.hstack([X, np.ones((300, 1))])
        theirs.append(family.pointwise_loss(beta, Xi, y)
                      + Regularizer.get("l2").f(beta) / C)
    ours, theirs = np.array(ours), scale * np.array(theirs)
    if const:  # the half deviance differs from the negative log-likelihood by a constant
        ours, theirs = ours - ours[0], theirs - theirs[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-9)


def test_daskml_adapter_is_lazy_and_refuses_what_it_cannot_represent():
    dl = pytest.importorskip("dask_ml.linear_model")
    code = (
        "import sys, skinfluence, skinfluence.adapters\n"
        "assert 'dask_ml' not in sys.modules, 'dask_ml was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 2))
    y = (X[:, 0] > 0).astype(float)
    est = dl.LogisticRegression(solver="lbfgs", C=1.0, max_iter=200).fit(X, y)
    inf = skinfluence.influence(est, da.from_array(X, chunks=(100, 2)), y)
    assert inf.param_names == ["(Intercept)", "x0", "x1"]
    assert np.all(inf.objective.pen == 1.0)  # 1/C on every coordinate, intercept too
    with pytest.raises(ValueError, match="sample_weight"):
        skinfluence.influence(est, X, y, sample_weight=np.full(400, 2.0))
    l1 = dl.LogisticRegression(penalty="l1")  # fitted by hand: only the penalty matters
    l1.coef_, l1.intercept_ = np.array([1.0, 0.0]), 0.0
    with pytest.raises(TypeError, match="not smooth"):
        skinfluence.influence(l1, X, y)


# -- influence sketching and randomized leverage on dask arrays ------------------------
SKETCH_FIELDS = ("score", "cooks_distance", "leverage", "residuals")


@pytest.mark.parametrize("kind,options", [
    ("ols", {"k": 3}),
    ("logistic", {"k": 3, "projection": "gaussian", "power_iterations": 1}),
    ("poisson", {"k": 3, "projection": "countsketch"}),  # mean-form penalty share
    pytest.param("ridge", {"k": 4}, marks=pytest.mark.slow),  # k = p': the exact values
])
def test_sketch_matches_numpy_and_stays_lazy(client, kind, options):
    """Same random_state, same Omega: the dask sketch equals the NumPy one (the NumPy
    sketch is itself tested against exact diagnostics and refits in test_sketch*.py)."""
    from skinfluence.sketch import influence_sketch

    est, X, y, s = _data(kind)
    est.fit(X, y, sample_weight=s)
    Xd = da.from_array(X, chunks=(CHUNK, 3))
    lazy = influence_sketch(est, Xd, y, sample_weight=s, random_state=0, **options)
    ref = influence_sketch(est, X, y, sample_weight=s, random_state=0, **options)
    got = {name: getattr(lazy, name) for name in SKETCH_FIELDS}
    for name, value in got.items():
        assert isinstance(value, da.Array), name
        assert value.chunks == ((CHUNK,) * (X.shape[0] // CHUNK),), name
    (computed,) = dask.compute(got)
    for name, value in computed.items():
        np.testing.assert_allclose(value, getattr(ref, name), rtol=1e-10, atol=1e-13,
                                   err_msg=name)
    assert lazy.n_params == pytest.approx(ref.n_params, rel=1e-12)
    assert lazy.dispersion == pytest.approx(ref.dispersion, rel=1e-12)
    assert type(lazy.n_params) is float and type(lazy.dispersion) is float
    np.testing.assert_array_equal(lazy.top(5), ref.top(5))
    frame = lazy.summary_frame()
    assert type(frame).__module__.startswith("dask")
    np.testing.assert_allclose(frame.compute().to_numpy(), ref.summary_frame().to_numpy(),
                               rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("kind", ["ols", "poisson"])
def test_sketch_and_randomized_leverage_compute_nothing_of_length_n(kind, tmp_path):
    from skinfluence.sketch import influence_sketch, randomized_leverage

    est, X, y, s = _data(kind, n=400)
    est.fit(X, y, sample_weight=s)
    Xd = da.from_array(X, chunks=(100, 3))
    counting = _CountingScheduler()
    with dask.config.set(scheduler=counting):
        sk = influence_sketch(est, Xd, y, sample_weight=s, k=3, random_state=0)
        inf = skinfluence.influence(est, Xd, y, sample_weight=s)
        h = randomized_leverage(inf.objective, eps=0.5, random_state=0,
                                backend=inf.engine.backend)
        h_gauss = randomized_leverage(inf.objective, eps=0.5, sketch="gaussian",
                                      random_state=0, backend=inf.engine.backend)
        sketched = skinfluence.influence(est, Xd, y, sample_weight=s, leverage_method="sketch",
                                         leverage_options={"eps": 0.5, "random_state": 0})
        cooks = sketched.cooks_distance
    results = [sk.score, sk.cooks_distance, sk.leverage, h, h_gauss, cooks]
    assert all(isinstance(r, da.Array) for r in results)
    # only small things were computed: k x k and r1 x d sketches, p' x p', scalars
    # (and the linear predictor, kept once by each of the 3 objectives built here)
    r1 = 4 + int(np.ceil(16 / 0.5**2))
    _assert_small_or_eta(counting.sizes, 3 * X.shape[0], 100, r1 * 4)
    # the per-row results are written where they are, block by block
    pytest.importorskip("zarr")
    sk.cooks_distance.to_zarr(str(tmp_path / "cooks.zarr"))
    back = da.from_zarr(str(tmp_path / "cooks.zarr"))
    assert back.chunks == ((100,) * 4,)
    ref = influence_sketch(est, X, y, sample_weight=s, k=3, random_state=0)
    np.testing.assert_allclose(back.compute(), ref.cooks_distance, rtol=1e-10)
    ref_inf = skinfluence.influence(est, X, y, sample_weight=s)
    np.testing.assert_allclose(
        h.compute(), randomized_leverage(ref_inf.objective, eps=0.5, random_state=0), rtol=1e-10
    )
    ref_sketched = skinfluence.influence(est, X, y, sample_weight=s, leverage_method="sketch",
                                         leverage_options={"eps": 0.5, "random_state": 0})
    np.testing.assert_allclose(cooks.compute(), ref_sketched.cooks_distance, rtol=1e-10)
    # the Gaussian row sketch draws per row block (other numbers than NumPy's chunk
    # loop, same distribution): checked against the exact leverage instead
    rel = np.abs(h_gauss.compute() / ref_inf.leverage - 1)
    assert np.median(rel) < 0.2


def test_sketch_options_the_dask_backend_refuses():
    from skinfluence.sketch import influence_sketch

    est, X, y, _ = _data("ols")
    est.fit(X, y)
    with pytest.raises(ValueError, match="subspace='hat' is not available on the 'dask'"):
        influence_sketch(est, da.from_array(X, chunks=(CHUNK, 3)), y, k=3, subspace="hat")
