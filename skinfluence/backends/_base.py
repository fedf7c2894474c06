"""The backend interface: every O(n p^2) operation of the engine goes through it.

A backend receives the design X (as the user gave it, or as ``prepare`` returned
it) and performs row passes over the implicit design ``Xt = [1, X]`` (the
intercept column is never materialized). All results the engine needs back are
small (p x p matrices) or per-row blocks (n x K x K), returned as NumPy arrays.

A new backend subclasses :class:`Backend`, implements the abstract methods and is
registered either by :func:`skinfluence.backends.register_backend` or through
the ``skinfluence.backends`` entry-point group (value: ``module:BackendClass``).
"""

from abc import ABC, abstractmethod

import numpy as np

from ..utils._chunks import iter_row_chunks


class Backend(ABC):
    """Abstract linear-algebra backend.

    Parameters
    ----------
    device : str or None
        Backend-specific device name (``None``: the backend's default).

    Examples
    --------
    A backend that counts its Gram products (everything else from NumPy's):

    >>> from skinfluence.backends import NumpyBackend, register_backend
    >>> class CountingBackend(NumpyBackend):
    ...     name = "counting"
    ...     calls = 0
    ...     def weighted_gram(self, X, weights, fit_intercept):
    ...         CountingBackend.calls += 1
    ...         return super().weighted_gram(X, weights, fit_intercept)
    >>> register_backend("counting", CountingBackend)
    >>> import skinfluence
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import LinearRegression
    >>> X, y = load_diabetes(return_X_y=True)
    >>> inf = skinfluence.influence(LinearRegression().fit(X, y), X, y, backend="counting")
    >>> _ = inf.cooks_distance, inf.dfbeta, inf.leverage
    >>> CountingBackend.calls            # one factorization serves them all
    1
    """

    name = None
    #: True when per-row results are lazy arrays (e.g. dask): callers then build
    #: one lazy expression over all rows instead of looping over row chunks
    lazy = False

    def __init__(self, device=None):
        self.device = device

    # -- the array seam: how a backend recognizes, validates and returns its arrays --
    @classmethod
    def owns(cls, X):
        """True if ``X`` is an array of this backend's own library.

        Checked without importing that library (e.g. through ``sys.modules``).
        The front door uses it to pick a plugin backend for an array when no
        backend is named: an entry point whose name is the top-level module of
        ``type(X)`` (``"torch"`` for a ``torch.Tensor``) is loaded and asked.
        """
        return False

    def check_design(self, X, *, name="X"):
        """Validate a design this backend owns (2-d, real, finite); return it.

        Called by the front door for arrays the backend :meth:`owns`; NumPy
        arrays, scipy.sparse matrices and DataFrames are validated by the
        front door itself. Raise ValueError/TypeError naming ``name``.
        """
        raise TypeError(
            f"{name} is a {type(X).__module__}.{type(X).__name__}, which the "
            f"{self.name!r} backend does not accept."
        )

    def to_numpy(self, a):
        """Bring ``a`` (an array this backend owns, or any array-like) to the host."""
        return np.asarray(a)

    def to_frame(self, data, index=None):
        """A data frame of per-row columns ``{name: array}`` (default: pandas)."""
        import pandas as pd

        return pd.DataFrame(data, index=index)

    def prepare(self, X):
        """Return X in the form the other methods accept (e.g. moved to a device)."""
        return X

    # -- generic row passes: a function of a row block, reduced or mapped -------------
    def row_reduce(self, fn, X, *rows, shape, width=None):
        """Sum over row blocks b of ``fn(X_b, *rows_b)``: a small NumPy array of ``shape``.

        ``rows`` are per-row arrays (first axis of length n) sliced like X's rows.
        The default loops over cache-sized row chunks (``width``: float64 columns
        one row of ``fn``'s work needs, default X's); a distributed backend makes
        it a tree reduction over its row blocks. ``fn`` receives the blocks as
        the backend holds them (NumPy for the NumPy and dask backends) and must
        be a module-level function or a ``functools.partial`` of one (picklable).

        Examples
        --------
        >>> import numpy as np
        >>> from skinfluence.backends import get_backend
        >>> X = np.arange(6.0).reshape(3, 2)
        >>> get_backend("numpy").row_reduce(lambda Xb, wb: Xb.T @ wb, X, np.ones(3), shape=(2,))
        array([6., 9.])
        """
        out = np.zeros(shape)
        for start, stop, Xc in iter_row_chunks(X, width or X.shape[1]):
            out += fn(Xc, *(r[start:stop] for r in rows))
        return out

    def row_map(self, fn, X, *rows, shape=(), width=None):
        """Per-row results ``fn(X_b, *rows_b)`` of shape ``(n, *shape)``, block by block.

        Same conventions as :meth:`row_reduce`; a lazy backend returns a lazy
        array with X's row blocks (nothing computed), the default a NumPy array.

        Examples
        --------
        >>> import numpy as np
        >>> from skinfluence.backends import get_backend
        >>> X = np.arange(6.0).reshape(3, 2)
        >>> get_backend("numpy").row_map(lambda Xb: Xb.sum(axis=1), X)
        array([1., 5., 9.])
        """
        out = np.empty((X.shape[0],) + tuple(shape))
        for start, stop, Xc in iter_row_chunks(X, width or X.shape[1]):
            out[start:stop] = fn(Xc, *(r[start:stop] for r in rows))
        return out

    def like_rows(self, v, like):
        """A per-row host array ``v`` in the form of the backend's per-row array ``like``
        (the NumPy backend: ``v`` itself; dask: a dask array with ``like``'s row chunks).

        Examples
        --------
        >>> import numpy as np
        >>> from skinfluence.backends import get_backend
        >>> get_backend("numpy").like_rows(np.ones(2), np.zeros(2))
        array([1., 1.])
        """
        return v

    def persist(self, a):
        """Keep a lazy per-row array's values once computed (no-op for eager backends).

        Examples
        --------
        >>> import numpy as np
        >>> from skinfluence.backends import get_backend
        >>> get_backend("numpy").persist(np.ones(2))
        array([1., 1.])
        """
        return a

    @abstractmethod
    def design_matmul(self, X, M, fit_intercept):
        """Xt @ M for M of shape (p', m); returns an (n, m) NumPy array."""

    @abstractmethod
    def design_rmatmul(self, X, V, fit_intercept):
        """Xt.T @ V for V of shape (n, m); returns a (p', m) NumPy array."""

    @abstractmethod
    def weighted_gram(self, X, weights, fit_intercept):
        """Xt.T @ diag(weights) @ Xt, shape (p', p')."""

    def weighted_gram_rmatmul(self, X, weights, V, fit_intercept):
        """``(weighted_gram(X, weights), design_rmatmul(X, V))``: the Hessian's Gram
        and the data gradient together, in one pass over X where the backend can fuse
        them (the default makes the two calls: two passes).

        Examples
        --------
        >>> import numpy as np
        >>> from skinfluence.backends import get_backend
        >>> G, g = get_backend("numpy").weighted_gram_rmatmul(
        ...     np.eye(2), np.ones(2), np.array([1.0, 2.0]), fit_intercept=True)
        >>> G.tolist(), g.tolist()
        ([[2.0, 1.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 1.0]], [3.0, 1.0, 2.0])
        """
        return (self.weighted_gram(X, weights, fit_intercept),
                self.design_rmatmul(X, V, fit_intercept))

    @abstractmethod
    def row_quadratic(self, X, blocks, fit_intercept):
        """Per-row Gram of projected rows.

        ``blocks`` is a list of K matrices M_k of shape (p', m). Returns C of shape
        (n, K, K) with C[i, k, l] = (xt_i @ M_k) . (xt_i @ M_l).
        """

    @abstractmethod
    def row_combination(self, X, coefs, blocks, fit_intercept):
        """out[i] = sum_k coefs[i, k] * (xt_i @ M_k); coefs (n, K); returns (n, m)."""

    @abstractmethod
    def cholesky(self, A):
        """Lower Cholesky factor of a symmetric positive definite (P, P) matrix;
        raises numpy.linalg.LinAlgError when A is not positive definite."""

    @abstractmethod
    def solve_triangular(self, L, B, lower=True, trans=False):
        """Solve L x = B (or L' x = B when trans) for triangular L."""

    def __repr__(self):
        return f"{type(self).__name__}(device={self.device!r})"
