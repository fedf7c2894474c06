"""The hot path (issue 11, item 3): work done once, not per call, and still never silently wrong.

Speed is never a timed test here: these tests count passes and calls, and check that
the shortcuts give the same numbers and the same errors as the long way.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LinearRegression, LogisticRegression, PoissonRegressor

import skinfluence
from skinfluence import losses
from skinfluence.utils import _validation


@pytest.fixture
def logistic():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 5))
    y = (X[:, 0] + rng.standard_normal(400) > 0).astype(int)
    return X, y, LogisticRegression(tol=1e-10).fit(X, y)


def _count(monkeypatch, module, name):
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_scale_pass_runs_once_per_array(monkeypatch, logistic):
    X, y, est = logistic
    X = X.copy()  # a fresh array: not remembered by another test
    passes = _count(monkeypatch, _validation, "_scale_ok_fast")
    a = skinfluence.influence(est, X, y).cooks_distance
    b = skinfluence.influence(est, X, y).cooks_distance
    assert len(passes) == 1
    np.testing.assert_array_equal(a, b)
    # another array with the same values is validated again
    skinfluence.influence(est, X.copy(), y)
    assert len(passes) == 2


def test_x_edited_in_place_after_validation_is_still_refused(logistic):
    X, y, est = logistic
    X = X.copy()
    skinfluence.influence(est, X, y)  # validated and remembered
    X[123, 2] = np.nan
    with pytest.raises(ValueError, match="not finite at row 123"):
        skinfluence.influence(est, X, y, fit_check="off").cooks_distance


@pytest.mark.parametrize("kind", ["nan", "inf", "big", "tiny"])
@pytest.mark.parametrize("sparse", [False, True])
def test_fast_scale_check_agrees_with_the_per_column_pass(kind, sparse):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((6000, 4))
    X[:5000, 3] = 0.0  # column 3 is zero in the first rows: the look at the head cannot decide
    value = {"nan": np.nan, "inf": np.inf, "big": 1e200, "tiny": 1e-200}[kind]
    if kind == "tiny":
        X[:, 3] *= 1e-200  # the whole column under the bound
    else:
        X[5999, 3] = value
    A = sp.csr_matrix(X) if sparse else X
    assert not _validation._scale_ok_fast(A)
    with pytest.raises(ValueError, match="column 3|NaN or infinity"):
        _validation.check_scale(A)
    # a column with one tiny entry among normal ones is fine
    Y = rng.standard_normal((6000, 4))
    Y[5999, 3] = 1e-200
    assert _validation._scale_ok_fast(sp.csr_matrix(Y) if sparse else Y) == (not sparse)
    _validation.check_scale(sp.csr_matrix(Y) if sparse else Y)  # no error either way


def test_training_derivatives_are_computed_once(monkeypatch, logistic):
    X, y, est = logistic
    calls = _count(monkeypatch, losses.HalfBinomialLoss, "gradient_hessian")
    inf = skinfluence.influence(est, X, y)  # the fit check needs the gradient
    inf.cooks_distance, inf.self_influence, inf.dfbeta  # the engine needs both
    assert len(calls) == 1


@pytest.mark.parametrize("loss", [
    losses.HalfSquaredError(), losses.HalfBinomialLoss(), losses.HalfPoissonLoss(),
    losses.HalfGammaLoss(), losses.HalfTweedieLoss(1.5), losses.HalfMultinomialLoss(3),
])
def test_gradient_hessian_equals_separate_calls(loss):
    rng = np.random.default_rng(2)
    if loss.n_outputs > 1:
        eta = rng.standard_normal((50, 3)) * 5
        y = rng.integers(0, 3, 50)
    else:
        eta = rng.standard_normal(50) * (30 if isinstance(loss, losses.HalfBinomialLoss) else 1)
        y = (rng.random(50) < 0.5).astype(float) if loss.is_probabilistic else rng.gamma(2.0, size=50)
    g, h = loss.gradient_hessian(y, eta)
    np.testing.assert_allclose(g, loss.gradient(y, eta), rtol=1e-15, atol=0)
    np.testing.assert_allclose(h, loss.hessian(y, eta), rtol=1e-15, atol=0)


def test_with_theta_forgets_the_cached_derivatives(logistic):
    X, y, est = logistic
    obj = skinfluence.influence(est, X, y).objective
    g0 = obj.eta_gradient().copy()
    moved = obj.with_theta(obj.theta + 0.1)
    assert not np.allclose(moved.eta_gradient(), g0)
    np.testing.assert_array_equal(obj.eta_gradient(), g0)


def test_unseen_label_is_named_by_the_one_pass_encoding(logistic):
    X, y, est = logistic
    y2 = y.copy()
    y2[7] = 5
    with pytest.raises(ValueError, match=r"labels not seen during fit: \[5\]"):
        skinfluence.influence(est, X, y2)
    # string labels, unsorted input, one unseen
    rng = np.random.default_rng(3)
    ys = np.where(y == 1, "yes", "no")
    est_s = LogisticRegression(tol=1e-10).fit(X, ys)
    ys2 = ys.astype(object)
    ys2[[3, 9]] = ["maybe", "zzz"]
    with pytest.raises(ValueError, match=r"\['maybe', 'zzz'\]"):
        skinfluence.influence(est_s, X, ys2)
    np.testing.assert_allclose(skinfluence.influence(est_s, X, ys).cooks_distance,
                               skinfluence.influence(est, X, y).cooks_distance, rtol=1e-12)
    del rng


@pytest.mark.parametrize("est", [LinearRegression(), PoissonRegressor(alpha=0.1, tol=1e-10)])
def test_regressors_unchanged_by_the_caches(est):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((200, 3))
    y = rng.poisson(np.exp(0.3 * X[:, 0])).astype(float)
    est.fit(X, y)
    a = skinfluence.influence(est, X, y)
    b = skinfluence.influence(est, X.copy(), y)  # validated and computed afresh
    np.testing.assert_allclose(a.cooks_distance, b.cooks_distance, rtol=1e-13)
    np.testing.assert_allclose(a.self_influence, b.self_influence, rtol=1e-13)


# -- float32 data: float32 products, float64 sums, a stated tolerance -----------------
def _record_gram_dtypes(monkeypatch):
    from skinfluence.backends._numpy import NumpyBackend

    seen = []
    original = NumpyBackend._gram

    def recording(X, w, fit_intercept, dtype, V=None):
        seen.append(np.dtype(dtype).name)
        return original(X, w, fit_intercept, dtype, V)

    monkeypatch.setattr(NumpyBackend, "_gram", staticmethod(recording))
    return seen


@pytest.mark.parametrize("model", ["logistic", "ols"])
def test_float32_data_computed_in_float32_within_the_stated_tolerance(monkeypatch, model):
    rng = np.random.default_rng(5)
    X64 = rng.standard_normal((3000, 8)).astype(np.float32).astype(np.float64)
    if model == "logistic":
        y = (X64[:, 0] + rng.standard_normal(3000) > 0).astype(int)
        est = LogisticRegression(tol=1e-10).fit(X64, y)
    else:
        y = X64 @ rng.standard_normal(8) + rng.standard_normal(3000)
        est = LinearRegression().fit(X64, y)
    seen = _record_gram_dtypes(monkeypatch)
    a = skinfluence.influence(est, X64.astype(np.float32), y)
    b = skinfluence.influence(est, X64, y)
    a.cooks_distance, b.cooks_distance
    assert seen == ["float32", "float64"]
    # the tolerance documented in skinfluence/backends/_numpy.py: 1e-4 relative
    for q in ("cooks_distance", "leverage", "self_influence", "dfbeta"):
        u, v = getattr(a, q), getattr(b, q)
        assert np.max(np.abs(u - v)) <= 1e-4 * np.max(np.abs(v)), q
    assert a.fit_check.status == "ok"


def test_ill_conditioned_float32_design_is_redone_in_float64(monkeypatch):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((2000, 4))
    X[:, 3] = X[:, 2] + 1e-3 * rng.standard_normal(2000)  # condition number ~1e7
    X32 = X.astype(np.float32)
    X64 = X32.astype(np.float64)
    y = X64 @ [1.0, 2.0, 3.0, 4.0] + rng.standard_normal(2000)
    est = LinearRegression().fit(X64, y)
    seen = _record_gram_dtypes(monkeypatch)
    a = skinfluence.influence(est, X32, y).cooks_distance
    assert seen == ["float32", "float64"]  # tried, refused, redone
    b = skinfluence.influence(est, X64, y).cooks_distance
    np.testing.assert_allclose(a, b, rtol=1e-9)


# -- summary_frame: one block, no extra (n, p) copies ----------------------------------
def test_summary_frame_is_one_block_and_bounded_in_memory():
    import tracemalloc

    rng = np.random.default_rng(7)
    # large enough that the fixed, cache-sized chunk buffers (a few MiB) do not count
    X = rng.standard_normal((100000, 30))
    y = X @ rng.standard_normal(30) + rng.standard_normal(100000)
    est = LinearRegression().fit(X, y)
    ref = skinfluence.influence(est, X, y)
    expected = ref.dfbetas.copy(), ref.cooks_distance.copy(), ref.influential.any(axis=1)
    tracemalloc.start()
    frame = skinfluence.influence(est, X, y).summary_frame()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out = frame.memory_usage(index=False, deep=False).sum()
    # the bound: at most 1.5x X beyond the output (was 2.5x: dfbeta, its
    # scaled copy, the frame's consolidation and |dfbetas| each held an (n, p) array)
    assert peak - out <= 1.5 * X.nbytes, (peak - out) / X.nbytes
    np.testing.assert_allclose(frame.iloc[:, :31].to_numpy(), expected[0], rtol=1e-12)
    np.testing.assert_allclose(frame["cooks_d"], expected[1], rtol=1e-12)
    np.testing.assert_array_equal(frame["influential"], expected[2])


def test_torch_backend_on_cpu_runs_the_numpy_kernels_once_validated(monkeypatch):
    torch = pytest.importorskip("torch")
    from skinfluence.backends import _torch

    rng = np.random.default_rng(8)
    X = rng.standard_normal((500, 4))
    y = (X[:, 0] + rng.standard_normal(500) > 0).astype(int)
    est = LogisticRegression(tol=1e-10).fit(X, y)
    seen = _record_gram_dtypes(monkeypatch)
    checks = _count(monkeypatch, _validation, "check_scale")
    Xt = torch.from_numpy(X.copy())
    a = skinfluence.influence(est, Xt, y).cooks_distance
    b = skinfluence.influence(est, Xt, y).cooks_distance
    assert seen == ["float64", "float64"]  # the NumPy backend's Gram, on the tensor's memory
    assert len(checks) == 1  # the same tensor, unmodified: validated once
    np.testing.assert_allclose(a, skinfluence.influence(est, X, y).cooks_distance, rtol=1e-12)
    np.testing.assert_array_equal(a, b)
    Xt[3, 1] = float("nan")  # an in-place write bumps the tensor's version: checked again
    with pytest.raises(ValueError, match="NaN or infinity"):
        skinfluence.influence(est, Xt, y)
    assert len(checks) == 2
    # a memory limit keeps torch's own passes
    be = _torch.TorchBackend("cpu", memory_limit=2**30)
    assert be._on_host(torch.from_numpy(X)) is None


def test_the_data_gradient_rides_on_the_hessians_pass(monkeypatch, logistic):
    """One pass over X fewer: the fit check's gradient comes with the Gram."""
    from skinfluence.backends._numpy import NumpyBackend

    X, y, est = logistic
    rmatmul = _count(monkeypatch, NumpyBackend, "design_rmatmul")
    fused = _count(monkeypatch, NumpyBackend, "weighted_gram_rmatmul")
    inf = skinfluence.influence(est, X, y)
    inf.cooks_distance
    assert len(fused) == 1 and len(rmatmul) == 0
    # the same gradient as the separate product
    obj = inf.objective
    separate = obj.with_theta(obj.theta).gradient()
    np.testing.assert_allclose(obj.gradient(), separate, rtol=1e-12, atol=1e-12)


# -- the subsamplers' capped probabilities: O(n) memory, same answer ------------------
@pytest.mark.parametrize("seed", range(6))
def test_capped_probabilities_solve_the_capped_equation(seed):
    from skinfluence.selection._base import _capped_probabilities

    rng = np.random.default_rng(seed)
    n = 2000
    a = rng.lognormal(0, 2.5, n)
    a[rng.random(n) < 0.2] = 0.0
    a[:3] = 1e5  # rows that must be capped at 1
    T = int(rng.integers(50, 1000))
    pi = _capped_probabilities(a, T)
    # the definition, solved independently by bisection on c: sum(min(1, c a)) = T
    lo, hi = 0.0, 1.0
    while np.minimum(1.0, hi * a).sum() < T:
        hi *= 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.minimum(1.0, mid * a).sum() < T else (lo, mid)
    np.testing.assert_allclose(pi, np.minimum(1.0, hi * a), rtol=1e-9, atol=1e-12)
    assert pi.sum() == pytest.approx(T, rel=1e-12)
    assert np.all(pi[:3] == 1.0) and np.all(pi[a == 0] == 0.0)


def test_poisson_draw_in_chunks_is_the_one_draw():
    from skinfluence.selection._base import _poisson_draw

    pi = np.random.default_rng(1).random(50_000) * 0.05
    a, b = np.random.RandomState(3), np.random.RandomState(3)
    np.testing.assert_array_equal(_poisson_draw(pi, a, chunk=777),
                                  np.flatnonzero(b.random_sample(pi.shape[0]) < pi))
