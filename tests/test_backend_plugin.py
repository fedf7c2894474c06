"""Backends are plugins: a third-party backend registers by name or entry point,
importing skinfluence never imports torch, and a missing torch gives a clear error.

The in-test backend below is a deliberately naive dense implementation of the
Backend interface (no chunking, plain NumPy); the engine must give the same
diagnostics through it as through the built-in NumPy backend.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression, PoissonRegressor
from sklearn.preprocessing import scale

import skinfluence
from skinfluence import backends
from skinfluence.backends import available_backends, get_backend, register_backend

REPO = Path(__file__).resolve().parents[1]

NAIVE_BACKEND_SOURCE = '''
import numpy as np
import scipy.linalg
import scipy.sparse as sp

from skinfluence.backends import Backend


class NaiveBackend(Backend):
    """Dense, unchunked, textbook formulas: the smallest complete Backend."""

    name = "naive"
    calls = 0

    def _design(self, X, fit_intercept):
        type(self).calls += 1
        X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
        return np.hstack([np.ones((X.shape[0], 1)), X]) if fit_intercept else X

    def design_matmul(self, X, M, fit_intercept):
        return self._design(X, fit_intercept) @ np.asarray(M, dtype=np.float64)

    def design_rmatmul(self, X, V, fit_intercept):
        return self._design(X, fit_intercept).T @ np.asarray(V, dtype=np.float64)

    def weighted_gram(self, X, weights, fit_intercept):
        Xt = self._design(X, fit_intercept)
        return Xt.T @ (np.asarray(weights)[:, None] * Xt)

    def row_quadratic(self, X, blocks, fit_intercept):
        Xt = self._design(X, fit_intercept)
        Z = np.stack([Xt @ M for M in blocks], axis=1)  # (n, K, m)
        return np.einsum("ikm,ilm->ikl", Z, Z)

    def row_combination(self, X, coefs, blocks, fit_intercept):
        Xt = self._design(X, fit_intercept)
        Z = np.stack([Xt @ M for M in blocks], axis=1)
        return np.einsum("ik,ikm->im", coefs, Z)

    def cholesky(self, A):
        return np.linalg.cholesky(A)

    def solve_triangular(self, L, B, lower=True, trans=False):
        return scipy.linalg.solve_triangular(L, B, lower=lower, trans=1 if trans else 0)
'''

namespace = {}
exec(compile(NAIVE_BACKEND_SOURCE, "<naive backend>", "exec"), namespace)
NaiveBackend = namespace["NaiveBackend"]


@pytest.fixture
def registry(monkeypatch):
    """A private copy of the registry, so registrations do not leak between tests."""
    monkeypatch.setattr(backends, "_REGISTRY", dict(backends._REGISTRY))
    return backends._REGISTRY


def _problems():
    Xb, yb = load_breast_cancer(return_X_y=True)
    Xb, yb = scale(Xb)[::3, :5], yb[::3]
    Xi, yi = load_iris(return_X_y=True)
    rng = np.random.default_rng(3)
    Xp = rng.normal(size=(120, 3)) * 0.5
    yp = rng.poisson(np.exp(0.2 + Xp @ [0.4, -0.3, 0.1]))
    return [
        (LogisticRegression(C=np.inf, max_iter=1000).fit(Xb, yb), Xb, yb),
        (LogisticRegression(C=5.0, max_iter=1000).fit(Xi, yi), sp.csr_matrix(Xi), yi),
        (PoissonRegressor(alpha=0.01).fit(Xp, yp), Xp, yp),
    ]


def _assert_same(a, b):
    for q in ["leverage", "cooks_distance", "dfbeta", "dfbetas", "n_params"]:
        np.testing.assert_allclose(getattr(a, q), getattr(b, q), rtol=1e-8, atol=1e-12, err_msg=q)


def test_registered_backend_runs_the_whole_engine(registry):
    register_backend("naive", NaiveBackend)
    assert "naive" in available_backends()
    for est, X, y in _problems():
        ref = skinfluence.influence(est, X, y, backend="numpy")
        calls = NaiveBackend.calls
        got = skinfluence.influence(est, X, y, backend="naive")
        _assert_same(got, ref)
        assert NaiveBackend.calls > calls  # the work really went through the plugin
        with skinfluence.config_context(backend="naive"):
            _assert_same(skinfluence.influence(est, X, y), ref)


def test_register_backend_rejects_non_backends(registry):
    with pytest.raises(TypeError, match="subclass of skinfluence.backends.Backend"):
        register_backend("bad", object)
    with pytest.raises(TypeError):
        register_backend("bad", NaiveBackend())


def _install_fake_distribution(root, module_source, entry):
    """A module plus an installed distribution's metadata declaring the entry point."""
    (root / "fake_skinfluence_plugin.py").write_text(module_source)
    info = root / "fake_skinfluence_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fake-skinfluence-plugin\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(f"[skinfluence.backends]\n{entry}\n")


def test_entry_point_plugin_is_discovered_and_loaded_lazily(tmp_path, monkeypatch, registry):
    _install_fake_distribution(
        tmp_path, NAIVE_BACKEND_SOURCE, "naive_ep = fake_skinfluence_plugin:NaiveBackend"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fake_skinfluence_plugin", raising=False)
    assert "naive_ep" in available_backends()
    assert "fake_skinfluence_plugin" not in sys.modules  # listed, not imported
    be = get_backend("naive_ep", device="anywhere")
    assert type(be).__name__ == "NaiveBackend" and be.device == "anywhere"
    assert "fake_skinfluence_plugin" in sys.modules
    est, X, y = _problems()[0]
    _assert_same(skinfluence.influence(est, X, y, backend="naive_ep"),
                 skinfluence.influence(est, X, y, backend="numpy"))


def test_entry_point_plugin_with_a_missing_dependency(tmp_path, monkeypatch, registry):
    _install_fake_distribution(
        tmp_path,
        "import a_dependency_that_is_not_installed_xyz\n",
        "broken_ep = fake_skinfluence_plugin:Whatever",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fake_skinfluence_plugin", raising=False)
    with pytest.raises(ImportError, match="'broken_ep' backend could not be loaded"):
        get_backend("broken_ep")


def test_unknown_backend_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"Unknown backend 'cupy-ish'; available: \[.*'numpy'"):
        get_backend("cupy-ish")


def test_torch_entry_point_is_declared():
    assert "torch" in available_backends()


def test_missing_torch_gives_install_hint(monkeypatch, registry):
    monkeypatch.setitem(sys.modules, "torch", None)  # "import torch" now fails
    with pytest.raises(ImportError, match=r'pip install "skinfluence\[torch\]"'):
        get_backend("torch", device="cpu")
    est, X, y = _problems()[0]
    with pytest.raises(ImportError, match=r'pip install "skinfluence\[torch\]"'):
        skinfluence.influence(est, X, y, backend="torch")
    # skinfluence itself keeps working
    assert skinfluence.influence(est, X, y).cooks_distance.shape == (X.shape[0],)


def _run(code, env=None):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, cwd=str(REPO), env=env, timeout=300,
    )


def test_importing_skinfluence_never_imports_torch():
    res = _run(
        """
        import sys
        import skinfluence, skinfluence.backends, skinfluence.backends._torch
        from skinfluence.utils._validation import check_design
        import numpy as np
        print(skinfluence.backends.available_backends())
        check_design(np.ones((2, 2)))
        assert "torch" not in sys.modules, "torch was imported"
        """
    )
    assert res.returncode == 0, res.stderr


def _torch_hidden_env(tmp_path):
    blocker = tmp_path / "block_torch"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(textwrap.dedent(
        """
        import sys

        class _HideTorch:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ModuleNotFoundError("No module named 'torch' (hidden for this test)", name=name)
                return None

        sys.meta_path.insert(0, _HideTorch())
        """
    ))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(blocker), env.get("PYTHONPATH", "")])
    return env


def test_without_torch_doctests_skip_and_skinfluence_works(tmp_path):
    """With torch uninstalled (hidden by a sitecustomize): ``pytest --doctest-modules``
    still collects the backends, the torch tests skip, skinfluence imports and works,
    and asking for the torch backend says how to install it."""
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         "skinfluence/backends", "skinfluence/utils", "tests/test_backend_torch.py",
         "tests/test_backend_plugin.py::test_missing_torch_gives_install_hint"],
        capture_output=True, text=True, cwd=str(REPO), env=_torch_hidden_env(tmp_path),
        timeout=300,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "skipped" in res.stdout and "passed" in res.stdout, res.stdout[-2000:]
