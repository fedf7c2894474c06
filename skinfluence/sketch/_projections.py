"""Column projections Omega (p' x k) of the implicit design Xt = [1, X].

Every projection is materialized as a small object that can

* ``apply(Xc)``: return ``Xt_c @ Omega`` (dense, (n_c, k)) for a row chunk of X,
  dense or CSR, without densifying a sparse X;
* ``penalty_gram(pen)``: return ``Omega' diag(pen) Omega`` (k x k).

Projections (all scale-free for leverage: rescaling Omega changes nothing):

``"gaussian"``     dense i.i.d. N(0, 1/k) (scikit-learn's GaussianRandomProjection)
``"sparse"``       sparse sign, density 1/sqrt(p') (Achlioptas; Li, Hastie & Church;
                   scikit-learn's SparseRandomProjection)
``"countsketch"``  one +-1 per row of Omega in a hashed column (Clarkson & Woodruff);
                   X @ Omega costs O(nnz(X)); every column gets at least one feature
``"srht"``         subsampled randomized DCT: sqrt(p'/k) D F S (random signs D,
                   orthonormal DCT-II F, k sampled columns S); on dense X the fast
                   transform (scipy.fft) is applied to each row chunk, on sparse X
                   the same Omega is materialized (dense p' x k) to avoid densifying X
"""

import numpy as np
import scipy.fft
import scipy.sparse as sp
from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection
from sklearn.utils import check_random_state

PROJECTIONS = ("gaussian", "sparse", "countsketch", "srht")


class _Projection:
    """Omega of shape (n_columns, k) with n_columns = n_features + fit_intercept."""

    def __init__(self, omega, fit_intercept):
        self.omega = omega
        self.fit_intercept = bool(fit_intercept)
        self.n_columns, self.k = omega.shape
        self._dense_omega = None

    @property
    def dense_omega(self):
        """Omega as a dense (n_columns, k) array (built once)."""
        if self._dense_omega is None:
            Om = self.omega
            self._dense_omega = Om.toarray() if sp.issparse(Om) else np.asarray(Om)
        return self._dense_omega

    def apply(self, Xc, backend=None):
        """Xt_c @ Omega, shape (n_c, k).

        CSR when both X and Omega are sparse (a row of Z then has about
        nnz(x_i) * nnz(row of Omega) entries, and the k x k Gram matrix and the
        row norms are cheaper on it than on a dense Z); a dense float64 array
        otherwise. With a non-NumPy ``backend`` and dense X (e.g. a torch tensor
        on a GPU) the product runs on that backend.
        """
        fi = self.fit_intercept
        if backend is not None and backend.name != "numpy" and not sp.issparse(Xc):
            return backend.design_matmul(Xc, self.dense_omega, fi)
        Om = self.omega
        if sp.issparse(Om) and sp.issparse(Xc):
            Z = sp.csr_matrix(Xc @ Om[1:] if fi else Xc @ Om, dtype=np.float64)
            if fi:
                ones = sp.csr_matrix(np.ones((Xc.shape[0], 1)))
                Z = (Z + ones @ Om[:1]).tocsr()
            return Z
        if sp.issparse(Om):
            # dense X: a BLAS product with the (small) dense Omega beats sparse kernels
            Om = self.dense_omega
        Z = np.asarray(Xc @ (Om[1:] if fi else Om), dtype=np.float64)
        if fi:
            Z += Om[0]
        return Z

    def penalty_gram(self, pen):
        """Omega' diag(pen) Omega (k x k)."""
        pen = np.asarray(pen, dtype=np.float64)
        Om = self.omega
        if sp.issparse(Om):
            G = Om.T @ sp.diags(pen) @ Om
            return np.asarray(G.toarray(), dtype=np.float64)
        return Om.T @ (pen[:, None] * Om)

    @property
    def width(self):
        """Float64 columns one row of a chunk needs."""
        return self.k


class _SRHT(_Projection):
    """Subsampled randomized DCT; fast transform on dense chunks."""

    def __init__(self, n_columns, k, rng, fit_intercept):
        self.signs = rng.choice(np.array([-1.0, 1.0]), size=n_columns)
        self.cols = np.sort(rng.choice(n_columns, size=k, replace=False))
        self.scale = np.sqrt(n_columns / k)
        # Omega[:, j] = scale * signs * F' e_{cols_j}  (F orthonormal DCT-II)
        E = np.zeros((n_columns, k))
        E[self.cols, np.arange(k)] = 1.0
        omega = scipy.fft.idct(E, norm="ortho", axis=0)
        omega *= (self.scale * self.signs)[:, None]
        super().__init__(omega, fit_intercept)

    def apply(self, Xc, backend=None):
        if sp.issparse(Xc) or (backend is not None and backend.name != "numpy"):
            return super().apply(Xc, backend)
        Xc = np.asarray(Xc, dtype=np.float64)
        if self.fit_intercept:
            Xt = np.empty((Xc.shape[0], self.n_columns))
            Xt[:, 0] = 1.0
            Xt[:, 1:] = Xc
        else:
            Xt = Xc.copy()
        Xt *= self.signs
        T = scipy.fft.dct(Xt, norm="ortho", axis=1, overwrite_x=True)
        return T[:, self.cols] * self.scale

    @property
    def width(self):
        return self.k + 2 * self.n_columns


def _countsketch(n_columns, k, rng):
    # a random permutation of 0..k-1 for k features, hashed buckets for the rest:
    # no empty column of Omega (an empty column would make Z'Z singular)
    buckets = np.concatenate([rng.permutation(k), rng.randint(k, size=n_columns - k)])
    buckets = buckets[rng.permutation(n_columns)]
    signs = rng.choice(np.array([-1.0, 1.0]), size=n_columns)
    return sp.csr_matrix((signs, (np.arange(n_columns), buckets)), shape=(n_columns, k))


def make_projection(name, n_columns, k, fit_intercept, random_state=None):
    """Draw Omega for ``n_columns`` design columns and ``k`` sketch columns.

    Parameters
    ----------
    name : {"gaussian", "sparse", "countsketch", "srht"}
    n_columns : int
        Columns of the implicit design (n_features + fit_intercept).
    k : int
        Sketch size, 1 <= k <= n_columns.
    fit_intercept : bool
        Whether row 0 of Omega multiplies the implicit intercept column.
    random_state : int, RandomState instance or None

    Returns
    -------
    projection : object with ``omega``, ``apply(Xc)`` and ``penalty_gram(pen)``

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.sketch import make_projection
    >>> proj = make_projection("countsketch", 6, 3, fit_intercept=True, random_state=0)
    >>> proj.omega.shape
    (6, 3)
    >>> proj.apply(np.ones((2, 5))).shape
    (2, 3)
    """
    rng = check_random_state(random_state)
    # sklearn's transformers only look at the shape of what they are fitted on
    shape_only = sp.csr_matrix((1, n_columns))
    if name == "gaussian":
        t = GaussianRandomProjection(n_components=k, random_state=rng).fit(shape_only)
        return _Projection(np.ascontiguousarray(t.components_.T), fit_intercept)
    if name == "sparse":
        t = SparseRandomProjection(
            n_components=k, density="auto", dense_output=False, random_state=rng
        ).fit(shape_only)
        return _Projection(sp.csr_matrix(t.components_.T), fit_intercept)
    if name == "countsketch":
        return _Projection(_countsketch(n_columns, k, rng), fit_intercept)
    if name == "srht":
        return _SRHT(n_columns, k, rng, fit_intercept)
    raise ValueError(
        f"Unknown projection {name!r}; choose one of {', '.join(map(repr, PROJECTIONS))}."
    )
