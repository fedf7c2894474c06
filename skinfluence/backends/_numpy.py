"""Built-in NumPy/SciPy backend: chunked row passes, BLAS syrk, LAPACK Cholesky."""

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ..utils._chunks import iter_row_chunks as _iter_chunks
from ._base import Backend


def _dense(A):
    return A.toarray() if sp.issparse(A) else A


# float32 X: the O(n p^2) passes (the weighted Gram, the leverage/whitening pass) run
# float32 products per cache-sized chunk with sums across chunks in float64 (twice
# the BLAS rate of float64), like the torch backend's "mixed" precision; linear
# predictors and gradients (O(n p), memory-bound) stay in float64. Used where that
# keeps agreement with the float64 computation on the same data: the equilibrated
# Gram's condition number must stay below _SINGLE_MAX_COND (measured: Cook's
# distance, leverage and self-influence then agree with float64 to about 1e-4
# relative; see tests/test_hot_path.py), else the pass is redone in float64
_SINGLE_MAX_COND = 1e4


def _single(X):
    return not sp.issparse(X) and X.dtype == np.float32


def _well_conditioned(A, whitening=False):
    """Is the (equilibrated) Gram A, or the Gram whose whitening factor A is,
    conditioned well enough for float32 products?"""
    A = np.asarray(A, dtype=np.float64)
    if not np.all(np.isfinite(A)):
        return False
    if whitening:  # A = D^-1 L^-T: cond(S) = cond(L)^2, triangular condition in O(p^2)
        d = np.sqrt(np.sum(A * A, axis=1))
        d[d == 0] = 1.0
        T = A / d[:, None]
        upper = np.allclose(np.tril(T, -1), 0.0)
        lower = np.allclose(np.triu(T, 1), 0.0)
        if not (upper or lower):
            return np.linalg.cond(T) ** 2 <= _SINGLE_MAX_COND
        rcond, info = scipy.linalg.lapack.dtrcon(T, norm="1", uplo="U" if upper else "L")
        return info == 0 and rcond > 0 and (1.0 / rcond) ** 2 <= _SINGLE_MAX_COND * A.shape[0]
    d = np.sqrt(np.abs(np.diag(A)))
    if np.any(d == 0):
        return False
    S = A / d[:, None] / d[None, :]
    try:
        L = scipy.linalg.cholesky(S, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return False
    rcond, info = scipy.linalg.lapack.dtrcon(L, norm="1", uplo="L")
    return info == 0 and rcond > 0 and (1.0 / rcond) ** 2 <= _SINGLE_MAX_COND * A.shape[0]


class NumpyBackend(Backend):
    """Default backend: NumPy arrays and scipy.sparse CSR matrices on the CPU.

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.backends import get_backend
    >>> be = get_backend("numpy")
    >>> be.weighted_gram(np.eye(2), np.ones(2), fit_intercept=True)
    array([[2., 1., 1.],
           [1., 1., 0.],
           [1., 0., 1.]])
    """

    name = "numpy"

    @classmethod
    def owns(cls, X):
        return isinstance(X, np.ndarray) or sp.issparse(X)

    def design_matmul(self, X, M, fit_intercept):
        M = np.asarray(M, dtype=np.float64)
        squeeze = M.ndim == 1
        if squeeze:
            M = M[:, None]
        Mx = M[1:] if fit_intercept else M
        if _single(X):
            # float32 X: upcast chunk by chunk (never a float64 copy of all of X).
            # Linear predictors stay in float64: residuals y - eta cancel, and a
            # float32 eta would make them (and the fit check) rounding noise
            out = np.empty((X.shape[0], Mx.shape[1]))
            for start, stop, Xc in _iter_chunks(X, X.shape[1] + Mx.shape[1]):
                np.matmul(Xc.astype(np.float64), Mx, out=out[start:stop])
        else:
            out = np.asarray(X @ Mx, dtype=np.float64)
        if fit_intercept:
            out += M[0]
        return out[:, 0] if squeeze else out

    def design_rmatmul(self, X, V, fit_intercept):
        V = np.asarray(V, dtype=np.float64)
        squeeze = V.ndim == 1
        if squeeze:
            V = V[:, None]
        if sp.issparse(X):
            out = np.asarray(X.T @ V, dtype=np.float64)
        elif _single(X):
            # float32 X: upcast chunk by chunk (never a float64 copy of all of X;
            # gradients stay exact for the fit check)
            out = np.zeros((X.shape[1], V.shape[1]))
            for start, stop, Xc in _iter_chunks(X, X.shape[1] + V.shape[1]):
                out += (V[start:stop].T @ Xc.astype(np.float64)).T
        else:
            # (V' X)' is the same product as X' V, without a transposed GEMM operand
            out = np.ascontiguousarray((V.T @ X).T, dtype=np.float64)
        if fit_intercept:
            out = np.vstack([V.sum(axis=0, keepdims=True), out])
        return out[:, 0] if squeeze else out

    def weighted_gram(self, X, weights, fit_intercept):
        n, p = X.shape
        w = np.asarray(weights, dtype=np.float64)
        if sp.issparse(X):
            G = np.asarray(_dense(X.T @ X.multiply(w[:, None]).tocsr()), dtype=np.float64)
            if not fit_intercept:
                return G
            xw = np.asarray(X.T @ w, dtype=np.float64).ravel()
            out = np.empty((p + 1, p + 1))
            out[0, 0] = w.sum()
            out[0, 1:] = xw
            out[1:, 0] = xw
            out[1:, 1:] = G
            return out
        return self._dense_gram(X, w, fit_intercept)[0]

    def weighted_gram_rmatmul(self, X, weights, V, fit_intercept):
        # a subclass that overrides one of the two products keeps its own (two passes)
        own = type(self).weighted_gram is NumpyBackend.weighted_gram and \
            type(self).design_rmatmul is NumpyBackend.design_rmatmul
        if sp.issparse(X) or not own:
            return super().weighted_gram_rmatmul(X, weights, V, fit_intercept)
        V = np.asarray(V, dtype=np.float64)
        squeeze = V.ndim == 1
        G, R = self._dense_gram(X, np.asarray(weights, dtype=np.float64), fit_intercept,
                                V[:, None] if squeeze else V)
        return G, (R[:, 0] if squeeze else R)

    def _dense_gram(self, X, w, fit_intercept, V=None):
        """(Gram, Xt' V or None) for dense X in one pass (float32 X: float32 products
        where well conditioned, else the Gram is redone in float64; Xt' V is float64)."""
        if _single(X):
            G, R = self._gram(X, w, fit_intercept, np.float32, V)
            if _well_conditioned(G):
                return G, R
            # float32 products would lose agreement on this ill-conditioned
            # design: the same pass in float64 (X is still read chunk by chunk)
            return self._gram(X, w, fit_intercept, np.float64)[0], R
        return self._gram(X, w, fit_intercept, np.float64, V)

    @staticmethod
    def _gram(X, w, fit_intercept, dtype, V=None):
        """([1, X]' diag(w) [1, X], [1, X]' V or None) over cache-sized chunks: the
        Gram's products in ``dtype`` accumulated in float64; Xt' V in float64."""
        # one GEMM per chunk on [1, X] scaled by sqrt(w) (or by w on one side when
        # some weights are negative); the intercept column rides along, so the
        # Gram and X'w come from the same product
        p = X.shape[1]
        q = p + fit_intercept
        nonneg = bool(np.all(w >= 0))
        G = np.zeros((q, q))
        R = None if V is None else np.zeros((q, V.shape[1]))
        buf = None  # one buffer reused by every chunk (no per-chunk page faults)
        for start, stop, Xc in _iter_chunks(X, 2 * q):
            m = stop - start
            if R is not None:  # the data gradient rides on the Gram's pass
                Vc = V[start:stop]
                Xd = Xc if Xc.dtype == np.float64 else Xc.astype(np.float64)
                if fit_intercept:
                    R[0] += Vc.sum(axis=0)
                R[fit_intercept:] += (Vc.T @ Xd).T
            if buf is None:
                buf = np.empty((m, q), dtype=dtype)
                wbuf = np.empty((m, q), dtype=dtype) if not nonneg else None
            A = buf[:m]
            wc = w[start:stop]
            if nonneg:
                sw = np.sqrt(wc).astype(dtype, copy=False)
                if fit_intercept:
                    A[:, 0] = sw
                np.multiply(Xc, sw[:, None], out=A[:, fit_intercept:])
                G += A.T @ A
            else:
                if fit_intercept:
                    A[:, 0] = 1.0
                A[:, fit_intercept:] = Xc
                np.multiply(A, wc[:, None].astype(dtype, copy=False), out=wbuf[:m])
                G += A.T @ wbuf[:m]
        if not nonneg:  # exactly symmetric, as the rank-k updates are
            G = 0.5 * (G + G.T)
        return G, R

    def row_quadratic(self, X, blocks, fit_intercept):
        K = len(blocks)
        n = X.shape[0]
        m = blocks[0].shape[1]
        C = np.empty((n, K, K))
        if K == 1 and not sp.issparse(X):
            return self._row_norms(X, np.asarray(blocks[0], dtype=np.float64), fit_intercept, C)
        for start, stop, Xc in _iter_chunks(X, K * m + 1):
            Z = [self.design_matmul(Xc, Mk, fit_intercept) for Mk in blocks]
            for k in range(K):
                for ell in range(k, K):
                    c = np.einsum("ij,ij->i", Z[k], Z[ell])
                    C[start:stop, k, ell] = c
                    C[start:stop, ell, k] = c
        return C

    def _row_norms(self, X, M, fit_intercept, C):
        """C[i, 0, 0] = ||xt_i @ M||^2 for dense X, one reused buffer per pass.

        An upper-triangular M (the Cholesky whitening) is applied with BLAS trmm:
        half the flops of a general product. float32 X: float32 products where
        the design is well conditioned, squared norms summed in float64.
        """
        dtype = np.float32 if _single(X) and _well_conditioned(M, whitening=True) else np.float64
        M = np.asarray(M, dtype=np.float64)
        fi = int(bool(fit_intercept))
        T = M[fi:, fi:]
        tri = M.shape[0] == M.shape[1] and not np.any(np.tril(M, -1))
        if tri:
            trmm = scipy.linalg.blas.strmm if dtype == np.float32 else scipy.linalg.blas.dtrmm
            T = np.asfortranarray(T, dtype=dtype)
            shift = M[0, 1:].astype(dtype) if fi else None  # the intercept's row
            const = M[0, 0] ** 2 if fi else 0.0
        else:
            Mx = (M[1:] if fi else M).astype(dtype)
            shift = M[0].astype(dtype) if fi else None
            const = 0.0
        width = T.shape[1] if tri else Mx.shape[1]
        buf = tmp = None
        for start, stop, Xc in _iter_chunks(X, width + X.shape[1]):
            rows = stop - start
            if buf is None:
                buf = np.empty((rows, width), dtype=dtype)
                tmp = np.empty(rows, dtype=dtype)
            Z = buf[:rows]
            if tri:
                Z[...] = Xc  # Z' := T' Z' in place (Z' is Fortran-ordered)
                trmm(1.0, T, Z.T, side=0, lower=0, trans_a=1, overwrite_b=1)
            elif Xc.dtype == dtype:
                np.matmul(Xc, Mx, out=Z)
            else:
                np.matmul(Xc.astype(dtype), Mx, out=Z)
            if shift is not None:
                Z += shift
            c = np.einsum("ij,ij->i", Z, Z, out=tmp[:rows])
            np.add(c, const, out=C[start:stop, 0, 0])
        return C

    def row_combination(self, X, coefs, blocks, fit_intercept):
        coefs = np.asarray(coefs, dtype=np.float64)
        n = X.shape[0]
        m = blocks[0].shape[1]
        out = np.empty((n, m))
        for start, stop, Xc in _iter_chunks(X, 2 * m + 1):
            acc = None
            for k, Mk in enumerate(blocks):
                term = self.design_matmul(Xc, Mk, fit_intercept)
                term *= coefs[start:stop, k, None]
                acc = term if acc is None else acc + term
            out[start:stop] = acc
        return out

    def cholesky(self, A):
        return scipy.linalg.cholesky(A, lower=True, check_finite=False)

    def solve_triangular(self, L, B, lower=True, trans=False):
        return scipy.linalg.solve_triangular(
            L, B, lower=lower, trans="T" if trans else "N", check_finite=False
        )
