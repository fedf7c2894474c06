"""The torch backend (CPU torch in CI) reproduces the NumPy backend.

The oracle is the NumPy backend path, which test_r_parity.py checks against R.
Every Influence quantity is compared for dense float64/float32, Fortran-ordered,
CSR and torch-tensor input, on least squares, Ridge, binary/multinomial logistic,
Poisson and Gamma fits, with chunks small enough that every pass takes several.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.preprocessing import scale

import skinfluence
from skinfluence.backends import NumpyBackend, get_backend
from skinfluence.utils._validation import check_design

torch = pytest.importorskip("torch")

from skinfluence.backends import _torch as torch_mod  # noqa: E402
from skinfluence.backends._torch import TorchBackend  # noqa: E402

GLM_QUANTITIES = [
    "leverage",
    "fitted",
    "pearson_residuals",
    "deviance_residuals",
    "dispersion",
    "studentized_residuals",
    "studentized_residuals_pearson",
    "studentized_residuals_external",
    "sigma_loo",
    "cooks_distance",
    "dfbeta",
    "dfbetas",
    "dffits",
    "cov_ratio",
    "n_params",
]
MULTI_QUANTITIES = ["leverage", "fitted", "cooks_distance", "dfbeta", "dfbetas", "n_params"]


def _datasets():
    rng = np.random.default_rng(0)
    Xd, yd = load_diabetes(return_X_y=True)
    Xd = Xd[:200, :6]
    yd = yd[:200]
    Xb, yb = load_breast_cancer(return_X_y=True)
    Xb = scale(Xb)[::2, :5]
    yb = yb[::2]
    Xi, yi = load_iris(return_X_y=True)
    Xp = rng.normal(size=(200, 4)) * 0.5
    yp = rng.poisson(np.exp(0.3 + Xp @ [0.5, -0.3, 0.2, 0.0]))
    yg = rng.gamma(2.0, np.exp(0.5 + Xp @ [0.3, -0.2, 0.1, 0.0]) / 2.0)
    w = rng.uniform(0.5, 2.0, size=200)
    return {
        "ols": (sk.LinearRegression(), Xd, yd, None),
        "ols_weighted_noint": (sk.LinearRegression(fit_intercept=False), Xd, yd, w),
        "ridge": (sk.Ridge(alpha=0.5), Xd, yd, None),
        "logistic": (sk.LogisticRegression(C=np.inf, max_iter=1000), Xb, yb, None),
        "logistic_l2": (sk.LogisticRegression(C=0.5), Xb, yb, None),
        "multinomial": (sk.LogisticRegression(C=10.0, max_iter=2000), Xi, yi, None),
        "poisson_l2": (sk.PoissonRegressor(alpha=0.01), Xp, yp, w),
        "gamma": (sk.GammaRegressor(alpha=0.0, max_iter=1000), Xp, yg, None),
    }


DATA = _datasets()
INPUTS = ["dense64", "dense32", "fortran", "csr", "tensor64", "tensor32"]


def _input(X, kind):
    if kind == "dense64":
        return X.copy()
    if kind == "dense32":
        return X.astype(np.float32)
    if kind == "fortran":
        return np.asfortranarray(X)
    if kind == "csr":
        Xs = X.copy()
        Xs[np.abs(Xs) < np.quantile(np.abs(Xs), 0.3)] = 0.0  # a really sparse pattern
        return sp.csr_matrix(Xs)
    if kind == "tensor64":
        return torch.from_numpy(X.copy())
    return torch.from_numpy(X.astype(np.float32))


def _numpy_twin(Xin):
    """The same data as the NumPy backend sees it (tensor -> ndarray, same dtype)."""
    if isinstance(Xin, torch.Tensor):
        return Xin.numpy()
    return Xin


_FITTED = {}


def _fit(name, kind):
    """The estimator fitted once on float64 data; X in the requested form."""
    est, X, y, w = DATA[name]
    if name not in _FITTED:
        _FITTED[name] = clone(est).fit(X, y, sample_weight=w)
    Xin = _input(X, kind)
    return _FITTED[name], Xin, _numpy_twin(Xin), y, w


def _close(a, b, rtol, what):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, what
    scale_ = max(float(np.max(np.abs(b))), 1e-300)
    err = float(np.max(np.abs(a - b))) / scale_
    assert err <= rtol, f"{what}: relative max error {err:.3g} > {rtol:g}"


@pytest.fixture
def small_chunks(monkeypatch):
    """Several chunks per pass and several float64 accumulation blocks per chunk."""
    monkeypatch.setattr(torch_mod, "_REDUCE_BLOCK", 16)
    with skinfluence.config_context(working_memory=0.02):
        yield


@pytest.mark.parametrize("kind", INPUTS)
@pytest.mark.parametrize("name", list(DATA))
def test_influence_parity(name, kind, small_chunks):
    est, Xin, Xfit, y, w = _fit(name, kind)
    ref = skinfluence.influence(est, Xfit, y, sample_weight=w, backend="numpy", fit_check="off")
    with skinfluence.config_context(device="cpu"):
        got = skinfluence.influence(est, Xin, y, sample_weight=w, backend="torch", fit_check="off")
    assert isinstance(got.engine.backend, TorchBackend)
    single = est.coef_.ndim == 1 or est.coef_.shape[0] == 1
    quantities = GLM_QUANTITIES if single else MULTI_QUANTITIES
    # float32 data: float32 products, float64 accumulation, vs NumPy in float64
    rtol = 2e-4 if kind in ("dense32", "tensor32") else 1e-9
    for q in quantities:
        _close(getattr(got, q), getattr(ref, q), rtol, f"{name}/{kind}/{q}")
    if single:
        np.testing.assert_array_equal(got.influential, ref.influential)
    # the observed-Hessian path (influence functions) and the total gradient
    ge, re = got.engine, ref.engine
    _close(ge.leverage("observed"), re.leverage("observed"), rtol, f"{name}/{kind}/h_obs")
    _close(ge.loo_param_change("observed"), re.loo_param_change("observed"), rtol, "loo_obs")
    obj = got.objective
    _close(obj.hessian("observed", backend=ge.backend), ref.objective.hessian("observed"), rtol, "H")
    # the gradient is ~0 at the optimum: compare on the scale of its terms
    g_err = np.abs(obj.gradient(backend=ge.backend) - ref.objective.gradient()).max()
    g_scale = np.abs(ref.objective.eta_gradient()).sum() * abs(Xfit).max()
    assert g_err <= (1e-6 if rtol > 1e-6 else 1e-13) * g_scale, (name, kind, g_err, g_scale)


@pytest.mark.parametrize("kind", ["dense32", "tensor32"])
@pytest.mark.parametrize("name", ["ols", "logistic", "multinomial", "poisson_l2"])
def test_precision_float64_matches_numpy_to_rounding(name, kind, small_chunks):
    est, Xin, Xfit, y, w = _fit(name, kind)
    # the NumPy backend computes float32 data in float32 (mixed); float64 is the
    # reference for precision="float64"
    ref = skinfluence.influence(est, Xfit.astype(np.float64), y, sample_weight=w,
                                backend="numpy", fit_check="off")
    be = TorchBackend(device="cpu", precision="float64")
    # an instance is accepted anywhere a name is
    got = skinfluence.influence(est, Xin, y, sample_weight=w, backend=be, fit_check="off")
    for q in ["leverage", "cooks_distance", "dfbeta", "dfbetas"]:
        _close(getattr(got, q), getattr(ref, q), 1e-9, f"{name}/{kind}/{q}")


def test_summary_frame_parity():
    est, Xin, Xfit, y, w = _fit("ols", "tensor64")
    ref = skinfluence.influence(est, Xfit, y, fit_check="off").summary_frame()
    with skinfluence.config_context(backend="torch", device="cpu"):
        got = skinfluence.influence(est, Xin, y, fit_check="off").summary_frame()
    assert list(got.columns) == list(ref.columns)
    np.testing.assert_allclose(got.to_numpy(float), ref.to_numpy(float), rtol=1e-9, atol=1e-12)


def test_dropin_estimator_and_set_config():
    from skinfluence.linear_model import LogisticRegression

    _, X, y, _ = DATA["logistic_l2"]
    est = LogisticRegression(C=0.5).fit(X, y)
    ref = est.influence()
    got = est.influence(backend="torch")
    _close(got.cooks_distance, ref.cooks_distance, 1e-9, "mixin")
    old = skinfluence.get_config()
    try:
        skinfluence.set_config(backend="torch", device="cpu")
        inf = est.influence()
        assert isinstance(inf.engine.backend, TorchBackend)
        _close(inf.leverage, ref.leverage, 1e-9, "set_config")
    finally:
        skinfluence.set_config(backend=old["backend"])
        skinfluence._config._get_threadlocal_config()["device"] = old["device"]


# -- the Backend methods one by one, against the NumPy backend -------------------
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("kind", ["dense64", "csr", "tensor64"])
def test_backend_methods(kind, fit_intercept, small_chunks):
    with skinfluence.config_context(working_memory=0.001):  # ~10 rows per chunk
        _check_backend_methods(kind, fit_intercept)


def _check_backend_methods(kind, fit_intercept):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(97, 5))
    Xin = _input(X, kind)
    Xnp = _numpy_twin(Xin)
    tb, nb = TorchBackend("cpu"), NumpyBackend()
    q = 5 + fit_intercept
    M1, M2 = rng.normal(size=q), rng.normal(size=(q, 3))
    V1, V2 = rng.normal(size=97), rng.normal(size=(97, 2))
    w = rng.normal(size=97)  # negative weights: the observed Hessian of non-canonical links
    blocks = [rng.normal(size=(q, 4)) for _ in range(3)]
    coefs = rng.normal(size=(97, 3))
    for M in (M1, M2):
        _close(tb.design_matmul(Xin, M, fit_intercept), nb.design_matmul(Xnp, M, fit_intercept), 1e-12, "matmul")
    for V in (V1, V2):
        _close(tb.design_rmatmul(Xin, V, fit_intercept), nb.design_rmatmul(Xnp, V, fit_intercept), 1e-12, "rmatmul")
    for ww in (w, np.abs(w)):
        G = tb.weighted_gram(Xin, ww, fit_intercept)
        np.testing.assert_array_equal(G, G.T)
        _close(G, nb.weighted_gram(Xnp, ww, fit_intercept), 1e-12, "gram")
    _close(tb.row_quadratic(Xin, blocks, fit_intercept), nb.row_quadratic(Xnp, blocks, fit_intercept), 1e-12, "rowq")
    _close(
        tb.row_combination(Xin, coefs, blocks, fit_intercept),
        nb.row_combination(Xnp, coefs, blocks, fit_intercept),
        1e-12,
        "rowc",
    )


def test_cholesky_and_triangular_solves():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(6, 6))
    A = A @ A.T + 6 * np.eye(6)
    tb, nb = TorchBackend("cpu"), NumpyBackend()
    L = tb.cholesky(A)
    _close(L, nb.cholesky(A), 1e-12, "chol")
    B = rng.normal(size=(6, 2))
    for lower in (True, False):
        T = L if lower else L.T
        for trans in (False, True):
            for rhs in (B, B[:, 0]):
                _close(tb.solve_triangular(T, rhs, lower, trans),
                       nb.solve_triangular(T, rhs, lower, trans), 1e-12, "trsm")
    with pytest.raises(np.linalg.LinAlgError):
        tb.cholesky(np.array([[1.0, 2.0], [2.0, 1.0]]))


def test_results_do_not_depend_on_chunking():
    est, Xin, Xfit, y, w = _fit("logistic_l2", "tensor32")
    with skinfluence.config_context(backend="torch", device="cpu"):
        big = skinfluence.influence(est, Xin, y, fit_check="off").cooks_distance
    with skinfluence.config_context(backend="torch", device="cpu", working_memory=0.001):
        small = skinfluence.influence(est, Xin, y, fit_check="off").cooks_distance
    _close(small, big, 1e-6, "chunking")


def test_user_arrays_not_modified():
    est, X, y, w = DATA["poisson_l2"]
    est = clone(est).fit(X, y, sample_weight=w)
    Xn = X.copy()
    Xt = torch.from_numpy(X.astype(np.float32))
    Xt_copy = Xt.clone()
    for Xin in (Xn, Xt):
        inf = skinfluence.influence(est, Xin, y, sample_weight=w, backend="torch", fit_check="off")
        inf.dfbeta, inf.cooks_distance, inf.leverage
    np.testing.assert_array_equal(Xn, X)
    assert torch.equal(Xt, Xt_copy)


# -- check_design lets tensors through on their device -----------------------------
def test_check_design_tensor_passthrough():
    X = torch.randn(20, 3, dtype=torch.float32)
    be = get_backend("torch", device="cpu")
    out = check_design(X, n_features=3, backend=be)
    assert isinstance(out, torch.Tensor) and out.data_ptr() == X.data_ptr()
    Xg = torch.randn(5, 2, dtype=torch.float64, requires_grad=True)
    assert not check_design(Xg, backend=be).requires_grad
    assert check_design(torch.ones(4, 2, dtype=torch.int64), backend=be).dtype == torch.float64
    bad = X.clone()
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinity"):
        check_design(bad, backend=be)
    with pytest.raises(ValueError, match="2-dimensional"):
        check_design(torch.ones(3), backend=be)
    with pytest.raises(ValueError, match="features"):
        check_design(X, n_features=4, backend=be)
    with pytest.raises(TypeError, match="sparse torch tensor"):
        check_design(X.to_sparse(), backend=be)
    # NumPy and CSR behave as before
    Xn = np.arange(6.0).reshape(3, 2)
    assert check_design(Xn) is Xn
    Xs = sp.csr_matrix(Xn)
    assert check_design(Xs) is Xs


# -- bad input ------------------------------------------------------------------
def test_unknown_backend_and_device():
    with pytest.raises(ValueError, match="Unknown backend 'nope'"):
        get_backend("nope")
    with pytest.raises(ValueError, match="Unknown torch device 'gpu0'"):
        get_backend("torch", device="gpu0")
    with pytest.raises(ValueError, match="precision"):
        TorchBackend("cpu", precision="half")
    _, X, y, _ = DATA["ols"]
    est = sk.LinearRegression().fit(X, y)
    with skinfluence.config_context(backend="torch", device="tpu-9"):
        with pytest.raises(ValueError, match="Unknown torch device"):
            skinfluence.influence(est, X, y, fit_check="off")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        get_backend("torch", device="cuda")


def test_mixed_devices_are_an_error():
    M = np.ones(3)
    X_meta = torch.empty(4, 2, device="meta")
    with pytest.raises(ValueError, match="mixed devices"):
        TorchBackend("cpu").design_matmul(X_meta, M, True)
    be = TorchBackend()  # device from the first tensor it sees
    be.design_matmul(torch.ones(4, 2), M, True)
    assert be.torch_device == torch.device("cpu")
    with pytest.raises(ValueError, match="mixed devices"):
        be.weighted_gram(X_meta, np.ones(4), True)


def test_device_without_room_for_one_chunk():
    X = np.ones((10, 1000))
    be = TorchBackend("cpu", memory_limit=4000)
    with pytest.raises(MemoryError, match="one chunk of a row pass needs"):
        be.design_matmul(X, np.ones(1001), True)
    # room for a few rows: chunks shrink to fit, results unchanged
    be = TorchBackend("cpu", memory_limit=80_000)
    _close(be.design_matmul(X, np.ones(1001), True), np.full(10, 1001.0), 0, "limited")


def test_out_of_memory_during_a_pass_is_reraised_clearly(monkeypatch):
    # a memory limit keeps torch's own passes on the CPU (no NumPy kernels)
    be = TorchBackend("cpu", memory_limit=2**30)

    def oom(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(be, "_to_device", oom)
    with pytest.raises(MemoryError, match="working_memory"):
        be.row_quadratic(np.ones((5, 2)), [np.ones((3, 2))], True)

    def other(*args, **kwargs):
        raise RuntimeError("something else")

    monkeypatch.setattr(be, "_to_device", other)
    with pytest.raises(RuntimeError, match="something else"):
        be.design_rmatmul(np.ones((5, 2)), np.ones(5), True)


def test_sparse_torch_tensor_is_refused_by_the_backend():
    with pytest.raises(TypeError, match="Sparse torch tensors"):
        TorchBackend("cpu").design_matmul(torch.ones(3, 2).to_sparse(), np.ones(3), True)


# -- influence functions (issue 3) and their solvers ------------------------------
needs_functions = pytest.mark.skipif(
    not hasattr(skinfluence.Influence, "loss_change"), reason="influence functions not available"
)
FN_PROBLEMS = ["logistic_l2", "multinomial", "poisson_l2", "ridge"]


FN_CASES = [(name, kind, "direct") for name in FN_PROBLEMS
            for kind in ["dense64", "csr", "tensor64", "tensor32"]]
FN_CASES += [(name, kind, solver) for solver in ["cg", "lissa"]
             for name in ["logistic_l2", "multinomial"] for kind in ["csr", "tensor64"]]


@needs_functions
@pytest.mark.parametrize("name, kind, solver", FN_CASES)
def test_influence_function_parity(name, kind, solver):
    est, Xin, Xfit, y, w = _fit(name, kind)
    test_rows = slice(0, 7)
    Xte_in, Xte = Xin[test_rows], Xfit[test_rows]
    yte = y[test_rows]
    opts = {"solver": solver}
    if solver == "lissa":
        opts.update(random_state=0, n_samples=1, depth=30)
    ref = skinfluence.influence(est, Xfit, y, sample_weight=w, backend="numpy", **opts, fit_check="off")
    with skinfluence.config_context(backend="torch", device="cpu"):
        got = skinfluence.influence(est, Xin, y, sample_weight=w, **opts, fit_check="off")
        rtol = 2e-4 if kind == "tensor32" else (1e-9 if solver == "direct" else 1e-7)
        pairs = [
            ("loss_change", got.loss_change(Xte_in, yte), ref.loss_change(Xte, yte)),
            ("up_loss", got.up_loss(Xte_in, yte), ref.up_loss(Xte, yte)),
            ("pert_loss", got.pert_loss(Xte_in, yte, reduce="mean"), ref.pert_loss(Xte, yte, reduce="mean")),
            ("self_influence", got.self_influence, ref.self_influence),
            ("param_change", got.param_change(), ref.param_change()),
            ("group", got.group_loss_change([1, 4, 9], Xte_in, yte),
             ref.group_loss_change([1, 4, 9], Xte, yte)),
        ]
        if solver == "direct":
            pairs.append(("loss_change_newton", got.loss_change(Xte_in, yte, method="newton"),
                          ref.loss_change(Xte, yte, method="newton")))
            pairs.append(("group_newton", got.group_param_change([2, 3], method="newton"),
                          ref.group_param_change([2, 3], method="newton")))
    for q, a, b in pairs:
        _close(a, b, rtol, f"{name}/{kind}/{solver}/{q}")


# -- influence sketching (issue 5) ---------------------------------------------------
@pytest.mark.parametrize("projection", ["sparse", "gaussian", "countsketch", "srht"])
@pytest.mark.parametrize("kind", ["csr", "dense64", "tensor64"])
def test_influence_sketch_parity(projection, kind):
    sketch = pytest.importorskip("skinfluence.sketch")
    if not hasattr(sketch, "influence_sketch"):
        pytest.skip("influence sketching not available")
    X = sp.random(400, 120, density=0.05, format="csr", random_state=0)
    y = (np.asarray(X.sum(axis=1)).ravel() > 3.0).astype(int)
    est = sk.LogisticRegression(C=10.0).fit(X, y)
    Xnp = X if kind == "csr" else X.toarray()
    Xin = torch.from_numpy(Xnp) if kind == "tensor64" else Xnp
    opts = dict(k=24, projection=projection, random_state=0)
    ref = sketch.influence_sketch(est, Xnp, y, backend="numpy", fit_check="off", **opts)
    got = sketch.influence_sketch(est, Xin, y, backend="torch", fit_check="off", **opts)
    for q in ["score", "cooks_distance", "leverage"]:
        _close(getattr(got, q), getattr(ref, q), 1e-9, f"sketch/{projection}/{kind}/{q}")


def test_tensor_targets_weights_and_backend_mismatch():
    """y and sample_weight may be tensors (they come to the host); a tensor X with
    the NumPy backend is refused with a message naming the fix."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    import skinfluence

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    est = LogisticRegression().fit(X, y)
    got = skinfluence.influence(
        est, torch.from_numpy(X), torch.from_numpy(y), backend="torch",
        sample_weight=torch.ones(200, dtype=torch.float64),
    ).cooks_distance
    np.testing.assert_allclose(got, skinfluence.influence(est, X, y, fit_check="off").cooks_distance, rtol=1e-9)
    with pytest.raises(ValueError, match="backend='torch'"):
        skinfluence.influence(est, torch.from_numpy(X), y, backend="numpy")


@pytest.mark.parametrize("row_sketch", ["countsketch", "gaussian"])
@pytest.mark.parametrize("kind", ["dense64", "tensor64", "tensor32"])
def test_randomized_leverage_parity(row_sketch, kind):
    """The row sketch runs through the backend (design_rmatmul) with the same
    random draws as the NumPy path, so the two agree to rounding."""
    sketch = pytest.importorskip("skinfluence.sketch")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 6)) * rng.uniform(0.5, 3, size=6)
    y = X @ rng.normal(size=6) + rng.normal(size=3000)
    est = sk.Ridge(alpha=1.0).fit(X, y)
    Xin = {"dense64": X, "tensor64": torch.from_numpy(X), "tensor32": torch.from_numpy(X.astype(np.float32))}[kind]
    ref_obj = skinfluence.influence(est, X, y, fit_check="off").objective
    got_obj = skinfluence.influence(est, Xin, y, backend="torch", fit_check="off").objective
    opts = dict(eps=0.3, sketch=row_sketch, random_state=0)
    ref = sketch.randomized_leverage(ref_obj, backend="numpy", **opts)
    got = sketch.randomized_leverage(got_obj, backend="torch", **opts)
    _close(got, ref, 1e-9 if kind != "tensor32" else 2e-4, f"randomized_leverage/{row_sketch}/{kind}")
