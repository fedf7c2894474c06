"""Exact diagnostics of wide designs (more parameters than rows): the kernel (dual) form.

With the stacked design A (row (i, k) is Xt_i's k-th row, N = n K rows), the per-row
curvature blocks W = blockdiag(B_i) and the diagonal penalty Lambda (+ damping), the
parameters split into the penalized set b (every coefficient, and a penalized
intercept) and the unpenalized set a (the intercepts of a usual fit):

    H = [[A_a' W A_a + d I + N N',  A_a' W A_b     ],
         [A_b' W A_a,                A_b' W A_b + Lambda_b]]

(d = damping, N N' the projector on a multinomial model's known null space, which
lives on the a coordinates). With Kern = A_b Lambda_b^-1 A_b' (N x N; it is
I_K (x) X Lambda^-1 X' plus a constant for a penalized intercept) and
Ws = W^1/2 (blockwise):

    Q   = Ws (I + Ws Kern Ws)^-1 Ws                  (N x N, I + ... has eigenvalues >= 1)
    S   = (A_b' W A_b + Lambda_b)^-1 = Lambda^-1 - Lambda^-1 A_b' Q A_b Lambda^-1
                                                     (push-through / Woodbury)
    P0  = A_b S A_b' = Kern - Kern Q Kern
    F   = A_a - P0 W A_a,   E = A_a' W F + d I + N_a N_a'     (u x u Schur complement)
    A H^-1 A' = P0 + F E^-1 F'                        (its diagonal blocks are C_i)

and H^-1 v by block elimination (x_a = E^-1 (v_a - A_a' W A_b S v_b),
x_b = S (v_b - A_b' W A_a x_a)). Nothing of size P x P is formed: the cost is
O(N^3 + N nnz(X)) time and O(N^2) memory, against O(P^3) and O(P^2) for the primal
Cholesky factor. For a single output with an unpenalized intercept and a scalar
penalty lambda this is the leverage formula
h = 1 - lambda diag(K^-1) + lambda (K^-1 u)^2 / (u' K^-1 u) of the design notes.
"""

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .exceptions import SingularHessianError
from .utils._chunks import chunk_rows


class DualNotApplicable(ValueError):
    """The objective's structure does not allow the kernel form (the reason says why)."""


def dual_obstacle(objective, damping=0.0):
    """Why the kernel form cannot represent this objective's Hessian, or None.

    It needs every coefficient penalized (an L2 penalty or damping > 0), the same
    penalty on every class's coefficients, and a null space (multinomial) confined
    to the unpenalized intercepts.
    """
    obj = objective
    if not (sp.issparse(obj.X) or isinstance(obj.X, np.ndarray)):
        return f"the design is a {type(obj.X).__name__}, not a NumPy array or SciPy matrix"
    K, q, fi = obj.n_outputs, obj.p_, int(obj.fit_intercept)
    lam = obj.pen.reshape(K, q) + damping
    feat = lam[:, fi:]
    if feat.shape[1] == 0:
        return "the model has no features"
    if not np.all(feat > 0):
        return ("some coefficients are unpenalized (the kernel form needs an L2 penalty "
                "on every coefficient, or damping > 0)")
    if K > 1 and not np.all(feat == feat[0]):
        return "the classes' coefficients are penalized differently"
    null = obj.null_space()
    if null is not None:
        a = _unpenalized(obj)
        b = np.setdiff1d(np.arange(obj.n_params), a)
        if np.any(null[b] != 0):
            return "the Hessian's null space reaches penalized coordinates"
    return None


def _unpenalized(obj):
    """Flat positions of the unpenalized intercepts (penalty exactly 0)."""
    if not obj.fit_intercept:
        return np.empty(0, dtype=np.intp)
    K, q = obj.n_outputs, obj.p_
    pen0 = obj.pen.reshape(K, q)[:, 0]
    return np.array([k * q for k in range(K) if pen0[k] == 0], dtype=np.intp)


def _block_sqrt(B):
    """Symmetric square roots of the (n, K, K) curvature blocks (PSD required)."""
    if B.shape[1] == 1:
        w = B[:, 0, 0]
        if np.any(w < 0):
            raise DualNotApplicable("some rows have negative curvature (observed Hessian "
                                    "of a non-canonical link)")
        return np.sqrt(w)[:, None, None]
    e, V = np.linalg.eigh(B)
    if np.any(e < -1e-12 * max(float(np.abs(e).max()), 1e-300)):
        raise DualNotApplicable("some rows' curvature blocks are not positive semi-definite")
    return np.einsum("ikc,ic,ilc->ikl", V, np.sqrt(np.clip(e, 0, None)), V)


def _bmul(B, Z):
    """Per-row block product: out[i] = B[i] @ Z[i] for Z of shape (n, K, m)."""
    if B.shape[1] == 1:
        return B[:, 0, 0, None, None] * Z
    return np.einsum("ikl,ilm->ikm", B, Z)


def kernel_matrix(X, lam):
    """G = X diag(1/lam) X' (n x n, float64) in column-bounded chunks; X dense or CSR."""
    n, p = X.shape
    lam = np.asarray(lam, dtype=np.float64)
    uniform = bool(np.all(lam == lam[0]))
    G = np.zeros((n, n))
    if sp.issparse(X):
        Xs = X.tocsr().astype(np.float64)
        if not uniform:
            Xs = Xs.multiply(1.0 / np.sqrt(lam)[None, :]).tocsr()
        step = chunk_rows(n, p)  # rows of X whose transpose is densified at once
        for start in range(0, n, step):
            stop = min(n, start + step)
            G[:, start:stop] = Xs @ Xs[start:stop].T.toarray()
    else:
        X = np.asarray(X)
        step = max(1, chunk_rows(p, n))  # feature columns per chunk
        for start in range(0, p, step):
            stop = min(p, start + step)
            Xc = np.asarray(X[:, start:stop], dtype=np.float64)
            if not uniform:
                Xc = Xc / np.sqrt(lam[start:stop])
            G += Xc @ Xc.T
    if uniform:
        G /= lam[0]
    return G


class DualFactor:
    """H^-1 through the n x n kernel form (see the module docstring).

    Offers what the engine needs of a factor of H without forming it:
    :meth:`solve`, :meth:`inverse_diag`, :meth:`row_quadratic` (the C_i blocks)
    and :meth:`row_solve` (rows H^-1 Xt_i' c_i, e.g. dfbeta).

    Parameters
    ----------
    objective : LinearObjective
    B : ndarray of shape (n, K, K)
        Per-row curvature blocks of the Hessian to represent (Fisher or observed).
    backend : Backend
    damping : float, default=0.0

    Raises
    ------
    DualNotApplicable
        When the penalty or curvature structure does not allow the kernel form.
    SingularHessianError
        When the Hessian (its unpenalized block) is singular.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> import skinfluence
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(20, 60)); y = (X[:, 0] > 0).astype(int)
    >>> inf = skinfluence.influence(LogisticRegression().fit(X, y), X, y)
    >>> inf.engine.strategy
    'dual'
    >>> H = inf.objective.hessian("fisher")          # 61 x 61, only to check
    >>> bool(np.allclose(H @ inf.engine.factor("fisher").solve(np.ones(61)), 1.0))
    True
    """

    strategy = "dual"

    def __init__(self, objective, B, backend, damping=0.0):
        reason = dual_obstacle(objective, damping)
        if reason is not None:
            raise DualNotApplicable(f"The kernel (dual) form does not apply: {reason}.")
        obj = self.objective = objective
        self.backend = backend
        self.damping = float(damping)
        n, K, q = obj.n_samples, obj.n_outputs, obj.p_
        fi = obj.fit_intercept
        self.n, self.K, self.q = n, K, q
        self.B = np.asarray(B, dtype=np.float64)
        self.R = _block_sqrt(self.B)
        lam = (obj.pen + self.damping).reshape(K, q)
        self.a = _unpenalized(obj)
        mask = np.ones(obj.n_params, dtype=bool)
        mask[self.a] = False
        self.mask = mask
        lam_flat = lam.ravel()
        self.lam_inv = np.where(mask, 1.0 / np.where(mask, lam_flat, 1.0), 0.0)
        # intercepts that are penalized add 1/lambda_k to class k's kernel
        self.c = np.array([1.0 / lam[k, 0] if (fi and lam[k, 0] > 0 and mask[k * q]) else 0.0
                           for k in range(K)])
        self.G0 = kernel_matrix(obj.X, lam[0, int(fi):])
        self._factor_core()
        # unpenalized block: A_a (n, K, u), F, E
        u = self.a.size
        Au = np.zeros((n, K, u))
        for col, j in enumerate(self.a):
            Au[:, j // q, col] = 1.0
        self.Au = Au
        if u:
            self.F = Au - self._p0(_bmul(self.B, Au))
            E = self._at(_bmul(self.B, self.F)) + self.damping * np.eye(u)
            null = obj.null_space()
            if null is not None:
                Na = null[self.a]
                E += Na @ Na.T
            E = 0.5 * (E + E.T)
            try:
                self.E_chol = scipy.linalg.cho_factor(E, lower=True)
                ok = np.all(np.diag(self.E_chol[0]) ** 2 > 1e-12 * np.diag(E).max())
            except np.linalg.LinAlgError:
                ok = False
            if not ok:
                raise SingularHessianError(
                    "The Hessian is singular: the unpenalized intercept is not identified "
                    "(e.g. all sample weights zero). Pass damping > 0."
                )

    # -- the N x N core ------------------------------------------------------------
    def _ws_kern(self):
        """Ws Kern (N x N): entry ((i, k), (j, l)) = R_i[k, l] G_l(i, j)."""
        n, K = self.n, self.K
        R, G0, c = self.R, self.G0, self.c
        if K == 1:
            out = self.G0 + c[0] if c[0] else self.G0.copy()
            out *= R[:, 0, 0, None]
            return out
        out = R[:, :, None, :] * G0[:, None, :, None]
        if np.any(c):
            out += R[:, :, None, :] * c[None, None, None, :]
        return out.reshape(n * K, n * K)

    def _factor_core(self):
        """L L' = I + Ws Kern Ws (eigenvalues >= 1: always well conditioned).

        Also keeps V = L^-1 Ws Kern, from which P0 = Kern - V' V and
        Q Kern = Ws L^-T V follow without an N x N inverse.
        """
        n, K = self.n, self.K
        N = n * K
        WK = self._ws_kern()
        if K == 1:
            M = WK * self.R[:, 0, 0][None, :]
        else:
            M = np.einsum("ikjc,jcl->ikjl", WK.reshape(n, K, n, K), self.R).reshape(N, N)
        M[np.diag_indices(N)] += 1.0
        self.L = scipy.linalg.cholesky(M, lower=True, overwrite_a=True, check_finite=False)
        if K == 1:
            # single output: C_i and T come from M^-1 (one dpotri, shared with
            # diag(H^-1)) instead of V = L^-1 Ws Kern (an N^3 triangular solve)
            self._WK, self._V = WK, None
        else:
            self._WK = None
            self._V = scipy.linalg.solve_triangular(self.L, WK, lower=True, overwrite_b=True,
                                                    check_finite=False)

    @property
    def V(self):
        """L^-1 Ws Kern (N x N), formed only when asked for (multi-output models)."""
        if self._V is None:
            self._V = scipy.linalg.solve_triangular(self.L, self._WK, lower=True,
                                                    check_finite=False)
        return self._V

    def _minv(self):
        """M^-1 = (I + Ws Kern Ws)^-1 (N x N, symmetric), cached."""
        if getattr(self, "_Minv", None) is None:
            Minv, info = scipy.linalg.lapack.dpotri(self.L, lower=1)
            if info != 0:  # pragma: no cover - I + PSD is always positive definite
                raise SingularHessianError("I + W^1/2 K W^1/2 is not positive definite.")
            self._Minv = np.tril(Minv) + np.tril(Minv, -1).T
        return self._Minv

    def _through_minv(self):
        """Rows where the M^-1 identities are accurate (single output), and the
        weights' square roots r: with Ws Kern = (M - I) Ws^-1,
        Kern_ii - (V'V)_ii = (1 - M^-1_ii) / r_i^2 and I - Q Kern = Ws M^-1 Ws^-1.
        They divide by r_i^2: rows whose r_i^2 Kern_ii is below 1e-2 (tiny IRLS
        weights, zero sample weights) are computed by the direct formulas."""
        r = self.R[:, 0, 0]
        kdiag = np.diag(self.G0) + self.c[0]
        return r * r * kdiag >= 1e-2, r

    def _qmul(self, Z):
        """Q Z = Ws (I + M)^-1 Ws Z for Z of shape (n, K, m)."""
        n, K, m = Z.shape
        Y = _bmul(self.R, Z).reshape(n * K, m)
        Y = scipy.linalg.cho_solve((self.L, True), Y, check_finite=False)
        return _bmul(self.R, Y.reshape(n, K, m))

    def _q_matrix(self):
        """Q (N x N), explicitly (for diag(H^-1)); cached."""
        if getattr(self, "_Q", None) is None:
            n, K = self.n, self.K
            N = n * K
            Minv = self._minv()
            if K == 1:
                r = self.R[:, 0, 0]
                self._Q = Minv * r[:, None]
                self._Q *= r[None, :]
            else:
                Q = np.einsum("ika,iajl->ikjl", self.R, Minv.reshape(n, K, n, K))
                self._Q = np.einsum("ikjb,jbl->ikjl", Q, self.R).reshape(N, N)
        return self._Q

    def _kern(self, Z):
        """Kern Z for Z of shape (n, K, m)."""
        out = np.tensordot(self.G0, Z, axes=(1, 0))
        if np.any(self.c):
            out = out + self.c[None, :, None] * Z.sum(axis=0)[None]
        return out

    def _p0(self, Z):
        """P0 Z = Kern Z - Kern Q Kern Z."""
        KZ = self._kern(Z)
        return KZ - self._kern(self._qmul(KZ))

    def _at(self, Z):
        """A_a' Z, shape (u, m)."""
        q = self.q
        return np.stack([Z[:, j // q, :].sum(axis=0) for j in self.a]) if self.a.size else \
            np.zeros((0, Z.shape[2]))

    def _xmul(self, V):
        """Xt V: (P, m) -> (n, K, m)."""
        obj, K, q = self.objective, self.K, self.q
        m = V.shape[1]
        Vq = V.reshape(K, q, m).transpose(1, 0, 2).reshape(q, K * m)
        return self.backend.design_matmul(obj.X, Vq, obj.fit_intercept).reshape(-1, K, m)

    def _xrmul(self, Z):
        """Xt' Z: (n, K, m) -> (P, m)."""
        obj, K, q = self.objective, self.K, self.q
        n, _, m = Z.shape
        out = self.backend.design_rmatmul(obj.X, Z.reshape(n, K * m), obj.fit_intercept)
        return out.reshape(q, K, m).transpose(1, 0, 2).reshape(K * q, m)

    def _s(self, Y):
        """S Y for Y (P, m) supported on the penalized coordinates."""
        Ly = self.lam_inv[:, None] * Y
        corr = self._xrmul(self._qmul(self._xmul(Ly)))
        return Ly - self.lam_inv[:, None] * corr

    def _e_solve(self, Y):
        return scipy.linalg.cho_solve(self.E_chol, Y)

    # -- what the engine uses ---------------------------------------------------------
    def solve(self, V):
        """(H + damping I + N N')^-1 V for V of shape (P,) or (P, m)."""
        V = np.asarray(V, dtype=np.float64)
        squeeze = V.ndim == 1
        if squeeze:
            V = V[:, None]
        Vb = V * self.mask[:, None]
        Sb = self._s(Vb)
        if self.a.size:
            xa = self._e_solve(V[self.a] - self._at(_bmul(self.B, self._xmul(Sb))))
            x = self._s(Vb - self.mask[:, None] * self._xrmul(_bmul(self.B, self._au(xa))))
            x[self.a] = xa
        else:
            x = Sb
        return x[:, 0] if squeeze else x

    def _au(self, xa):
        """A_a xa: (u, m) -> (n, K, m)."""
        return np.einsum("ikc,cm->ikm", self.Au, xa)

    def row_quadratic(self):
        """C_i = Xt_i H^-1 Xt_i' (n, K, K): diagonal blocks of P0 + F E^-1 F'."""
        n, K = self.n, self.K
        if K == 1:
            ok, r = self._through_minv()
            C = np.empty((n, 1, 1))
            d = np.diag(self._minv())
            C[ok, 0, 0] = (1.0 - d[ok]) / (r[ok] * r[ok])
            rest = np.flatnonzero(~ok)
            if rest.size:
                Vr = scipy.linalg.solve_triangular(self.L, self._WK[:, rest], lower=True,
                                                   check_finite=False)
                C[rest, 0, 0] = np.diag(self.G0)[rest] + self.c[0] - np.einsum(
                    "ri,ri->i", Vr, Vr)
        else:
            V = self.V.reshape(-1, n, K)
            C = -np.einsum("rik,ril->ikl", V, V)
            dg = np.diag(self.G0)
            for k in range(K):
                C[:, k, k] += dg + self.c[k]
        if self.a.size:
            F = self.F
            EF = self._e_solve(F.reshape(n * K, -1).T).T.reshape(n, K, -1)
            C += np.einsum("ikc,ilc->ikl", F, EF)
        return C

    def _t_matrix(self):
        """T = I - Q Kern = I - Ws L^-T V (N x N): S A_b' = Lambda^-1 A_b' T."""
        n, K = self.n, self.K
        N = n * K
        if K == 1:
            ok, r = self._through_minv()
            T = self._minv() * r[:, None]
            T[:, ok] /= r[ok][None, :]
            rest = np.flatnonzero(~ok)
            if rest.size:  # columns e_j - Ws M^-1 Ws Kern e_j, solved directly
                Y = scipy.linalg.cho_solve((self.L, True), self._WK[:, rest],
                                           check_finite=False)
                Y *= -r[:, None]
                Y[rest, np.arange(rest.size)] += 1.0
                T[:, rest] = Y
            return T
        Y = scipy.linalg.solve_triangular(self.L, self.V, lower=True, trans="T",
                                          check_finite=False)
        if K == 1:  # in place: one N x N temporary
            Y *= -self.R[:, 0, 0, None]
            T = Y
        else:
            T = -_bmul(self.R, Y.reshape(n, K, N)).reshape(N, N)
        T[np.diag_indices(N)] += 1.0
        return T

    def row_solve(self, coefs):
        """(n, P): row i is H^-1 Xt_i' coefs_i (coefs of shape (n, K)); e.g. dfbeta rows.

        Column block of rows [i0, i1): x_b = Lambda^-1 A_b' T (I - W A_a E^-1 F') D,
        x_a = E^-1 F' D, with D[(i, k), i] = coefs[i, k]: one N x N product and one
        pass of A_b' per block, O(N^2 (P + N)) in all.
        """
        n, K = self.n, self.K
        N = n * K
        coefs = np.asarray(coefs, dtype=np.float64).reshape(n, K)
        T = self._t_matrix()
        if self.a.size:
            # T (I - W A_a E^-1 F'): rank-u update
            WAu = _bmul(self.B, self.Au).reshape(N, -1)
            EF = self._e_solve(self.F.reshape(N, -1).T)  # (u, N)
            T = T - (T @ WAu) @ EF
        out = np.empty((n, self.objective.n_params))
        step = max(1, chunk_rows(n, 3 * self.objective.n_params))
        for start in range(0, n, step):
            stop = min(n, start + step)
            m = stop - start
            # Y[:, t] = sum_k T[:, (i_t, k)] coefs[i_t, k]
            Tc = T.reshape(N, n, K)[:, start:stop, :]
            Y = np.einsum("Nik,ik->Ni", Tc, coefs[start:stop]).reshape(n, K, m)
            xb = self.lam_inv[:, None] * self._xrmul(Y)
            if self.a.size:
                Fc = self.F[start:stop]  # (m, K, u)
                xb[self.a] = self._e_solve(np.einsum("ikc,ik->ci", Fc, coefs[start:stop]))
            out[start:stop] = xb.T
        return out

    def inverse_diag(self):
        """diag((H + damping I + N N')^-1) without forming it."""
        obj = self.objective
        n, K, q = self.n, self.K, self.q
        fi = int(obj.fit_intercept)
        Q4 = self._q_matrix().reshape(n, K, n, K)
        quad = np.zeros((K, q))
        X = obj.X
        Xc_all = X.tocsc() if sp.issparse(X) else X
        p = obj.n_features
        step = max(1, chunk_rows(p, 2 * n))
        for k in range(K):
            Qkk = np.ascontiguousarray(Q4[:, k, :, k])
            if fi:
                quad[k, 0] = Qkk.sum()
            for start in range(0, p, step):
                stop = min(p, start + step)
                Xc = Xc_all[:, start:stop]
                if sp.issparse(Xc):
                    QX = np.asarray(Xc.T @ Qkk).T  # Q_kk X_c (n, m), Q symmetric
                    quad[k, fi + start:fi + stop] = np.asarray(
                        Xc.multiply(QX).sum(axis=0)).ravel()
                else:
                    Xc = np.asarray(Xc, dtype=np.float64)
                    quad[k, fi + start:fi + stop] = np.einsum("ij,ij->j", Xc, Qkk @ Xc)
        li = self.lam_inv
        d = li - li**2 * quad.ravel()
        if self.a.size:
            # H^-1_bb = S + Y E^-1 Y' with Y = S A_b' W A_a = Lambda^-1 A_b' T W A_a
            WAu = _bmul(self.B, self.Au)
            TW = WAu - self._qmul(self._kern(WAu))  # T = I - Q Kern
            Y = li[:, None] * self._xrmul(TW)
            Y[self.a] = 0.0
            d += np.einsum("jc,cj->j", Y, self._e_solve(Y.T))
            Einv = self._e_solve(np.eye(self.a.size))
            d[self.a] = np.diag(Einv)
        return d
