"""EK-FAC: an eigenvalue-corrected Kronecker-factored Hessian (George et al. 2018).

The Hessian of a linear model with K outputs (classes) and q = p + intercept
parameters per output is, in the parameter layout theta[k * q + j],

    H = sum_i B_i (x) xt_i xt_i'  +  diag(pen)  (+ damping I, + N N' on a null space)

with B_i the K x K curvature block of row i. K-FAC approximates the data term by
A (x) S, A = sum_i B_i / n (K x K), S = sum_i xt_i xt_i' (q x q). EK-FAC keeps
the eigenvectors Q_A (x) Q_S of that Kronecker product but replaces its
eigenvalues by the exact diagonal of H in that basis (Grosse et al. 2023, eq. 20)::

    lambda_ab = sum_i (q_a' B_i q_a) (q_b' xt_i)^2          (one chunked pass over X)
              + sum_{k,j} (Q_A)_ka^2 (Q_S)_jb^2 (pen_kj + damping)
              + diag of N N' in the basis (shift-invariant multinomial intercepts)

so that ``H^-1 v ~ (Q_A (x) Q_S) diag(1/lambda) (Q_A (x) Q_S)' v``: two small
eigendecompositions (K x K and q x q) once, then O(K^2 q + K q^2) per vector,
with no pass over X per solve (conjugate gradients need one pass per iteration).

Exact when every B_i is the same matrix and the penalty is isotropic in the
S-eigenbasis (least squares without intercept: Ridge(fit_intercept=False));
otherwise an approximation whose accuracy tests/test_ekfac.py and
benchmarks/bench_ekfac.py measure against the exact solve and CG.
"""

import numpy as np

from .utils._chunks import iter_row_chunks


class EKFACSolver:
    """Inverse-Hessian-vector products from the EK-FAC approximation.

    Parameters
    ----------
    engine : InfluenceEngine
        Supplies the objective (data, weights, penalty), backend and damping.

    Attributes
    ----------
    QA : ndarray of shape (K, K)
    QS : ndarray of shape (q, q)
    eigenvalues : ndarray of shape (K, q)
        The corrected eigenvalues lambda_ab (penalty, damping and null-space
        terms included).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import scale
    >>> from skinfluence.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True); X = scale(X)
    >>> est = LogisticRegression(max_iter=1000).fit(X, y)
    >>> ek = est.influence(solver="ekfac").loss_change(X[:5], y[:5])
    >>> exact = est.influence(solver="direct").loss_change(X[:5], y[:5])
    >>> bool(np.corrcoef(ek.ravel(), exact.ravel())[0, 1] > 0.9)
    True
    """

    name = "ekfac"

    def __init__(self, engine):
        self.engine = engine
        self._fitted = False

    def _fit(self):
        obj, be = self.engine.objective, self.engine.backend
        K, q, n = obj.n_outputs, obj.p_, obj.n_samples
        s = obj.sample_weight
        # pass 1: A = mean B_i (chunked: B for all rows would be n x K x K)
        A = np.zeros((K, K))
        for start, stop, Xc in iter_row_chunks(obj.X, q + K * K):
            A += obj.eta_hessian("observed", X=Xc, y=obj.y[start:stop],
                                 sample_weight=s[start:stop], backend=be).sum(axis=0)
        A /= n
        S = be.weighted_gram(obj.X, np.ones(n), obj.fit_intercept)
        _, QA = np.linalg.eigh(A)
        _, QS = np.linalg.eigh(S)
        # pass 2: exact diagonal of the data term in the Kronecker eigenbasis
        lam = np.zeros((K, q))
        for start, stop, Xc in iter_row_chunks(obj.X, 2 * q + K * K):
            B = obj.eta_hessian("observed", X=Xc, y=obj.y[start:stop],
                                sample_weight=s[start:stop], backend=be)
            D = np.einsum("ka,ika->ia", QA, B @ QA)                 # (rows, K): q_a' B_i q_a
            Z = be.design_matmul(Xc, QS, obj.fit_intercept)         # (rows, q): q_b' xt_i
            lam += D.T @ (Z * Z)
        pen = (obj.pen + self.engine.damping).reshape(K, q)
        lam += (QA**2).T @ pen @ (QS**2)
        N = obj.null_space()
        if N is not None:
            for c in range(N.shape[1]):
                T = QA.T @ N[:, c].reshape(K, q) @ QS
                lam += T * T
        if np.any(lam <= 0) or not np.all(np.isfinite(lam)):
            from .exceptions import SingularHessianError

            raise SingularHessianError(
                "EK-FAC: a corrected eigenvalue is zero (a direction of parameter space "
                "no row and no penalty informs). Pass damping > 0."
            )
        self.QA, self.QS, self.eigenvalues = QA, QS, lam
        self._fitted = True

    def solve(self, V):
        """Approximate (H + damping I)^-1 V for V of shape (P,) or (P, m)."""
        if not self._fitted:
            self._fit()
        V = np.asarray(V, dtype=np.float64)
        squeeze = V.ndim == 1
        if squeeze:
            V = V[:, None]
        K, q = self.eigenvalues.shape
        m = V.shape[1]
        Vk = V.reshape(K, q, m)
        T = np.einsum("ka,kjm,jb->abm", self.QA, Vk, self.QS, optimize=True)
        T /= self.eigenvalues[:, :, None]
        out = np.einsum("ka,abm,jb->kjm", self.QA, T, self.QS, optimize=True).reshape(K * q, m)
        return out[:, 0] if squeeze else out

    def __repr__(self):
        return "EKFACSolver()"
