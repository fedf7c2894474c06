"""The influence engine: one factorization of the Hessian, reused by every quantity.

Everything per row is expressed through the K x K blocks

    B_i = s_i d^2 loss / d eta^2          (IRLS weights for diagnostics)
    C_i = Xt_i H^-1 Xt_i'                 (Xt_i = I_K (x) [1, x_i])
    g_i = s_i d loss / d eta

so leverage is tr(B_i C_i) and the one-step leave-one-out change uses the exact
leave-one-out Hessian H - Xt_i' B_i Xt_i through the push-through identity
(Sherman-Morrison for K = 1, a K x K Woodbury update for multinomial):

    theta_(-i) - theta = H^-1 Xt_i' v_i + share_i * u0,
    v_i = (I - B_i C_i)^-1 (g_i + share_i * B_i t_i),
    u0 = H^-1 (pen * theta),  t_i = Xt_i u0.

Nothing of size n x n is formed by the primal strategy; row passes go through the
backend in chunks. For wide designs (more parameters than rows) the same
quantities come from the n x n kernel form (:mod:`skinfluence._dual`); which one
is used is decided once, by :func:`skinfluence._strategy.resolve_strategy`
(``engine.strategy``, ``engine.strategy_reason``).
"""

import warnings

import numpy as np
import scipy.linalg

from ._dual import DualFactor, DualNotApplicable
from ._strategy import (
    StrategyWarning,
    dense_budget_bytes,
    memory_error,
    memory_estimate,
    resolve_strategy,
)
from .backends import get_backend
from .exceptions import SingularHessianError
from .utils._validation import check_damping

_PIVOT_RTOL = 1e-12  # squared pivot of the Jacobi-scaled Hessian counted as zero


def _first_dependent(S):
    """Position of the first parameter whose leading minor of S is not positive
    definite (LAPACK potrf's ``info``), computed on the host whatever the backend."""
    _, info = scipy.linalg.lapack.dpotrf(np.asarray(S, dtype=np.float64), lower=1)
    if info > 0:
        return int(info) - 1
    L = np.linalg.cholesky(S)
    piv = np.diag(L) ** 2
    return int(np.argmin(piv))


class CholeskyFactor:
    """Cholesky factor of a Jacobi-scaled symmetric positive definite matrix.

    A = H + damping * I (+ projector on a known null space) is scaled to unit
    diagonal, S = D^-1 A D^-1, and factored S = L L'. Solves and the whitening
    matrix M = D^-1 L^-T (so that H^-1 = M M') come from it.

    Raises SingularHessianError when A is not positive definite or a pivot of S
    falls below 1e-12 (reciprocal condition about 1e-12).
    """

    def __init__(self, H, backend=None, null_space=None, damping=0.0, param_names=None):
        self.backend = get_backend(backend)
        A = np.array(H, dtype=np.float64, copy=True)
        if damping:
            A[np.diag_indices_from(A)] += damping
        if null_space is not None:
            A += null_space @ null_space.T
        d = np.diag(A).copy()
        names = param_names or [f"theta[{j}]" for j in range(A.shape[0])]
        if not np.all(np.isfinite(A)):
            j = int(np.argwhere(~np.isfinite(A))[0, 0])
            raise SingularHessianError(
                f"The Hessian overflowed (inf or NaN at parameter {names[j]!r}): X, the "
                "weights or the fitted values are too large for float64. Rescale the "
                "columns (e.g. StandardScaler) and refit."
            )
        bad = np.flatnonzero(~(d > 0))
        if bad.size:
            raise SingularHessianError(
                "The Hessian is singular: parameter "
                f"{names[bad[0]]!r} has zero curvature (a constant-zero column, or "
                "no sample informs it). Drop the column, add an L2 penalty, or pass "
                "damping > 0."
            )
        d = np.sqrt(d)
        S = A / d[:, None] / d[None, :]
        try:
            L = self.backend.cholesky(S)
        except np.linalg.LinAlgError:
            L = None
        piv = None if L is None else np.diag(L) ** 2
        if L is None or not np.all(np.isfinite(L)) or piv.min() < _PIVOT_RTOL:
            if piv is not None and np.all(np.isfinite(piv)):
                j = int(np.argmax(piv < _PIVOT_RTOL))  # the first tiny pivot
            else:  # the backend's factorization failed outright: ask LAPACK where
                j = _first_dependent(S)
            where = f" (first dependent parameter: {names[j]!r})" if j is not None else ""
            raise SingularHessianError(
                "The Hessian is singular or numerically singular"
                f"{where}: collinear columns, more parameters than rows in an "
                "unpenalized fit, or separated classes. Drop redundant columns, fit "
                "with an L2 penalty, or pass damping > 0."
            )
        self.L = L
        self.d = d
        self.null_space = null_space
        self._M = None

    def solve(self, B):
        """A^-1 B (on the complement of the null space: H^+ B for B orthogonal to it)."""
        B = np.asarray(B, dtype=np.float64)
        be = self.backend
        y = B / (self.d[:, None] if B.ndim == 2 else self.d)
        z = be.solve_triangular(self.L, y, lower=True)
        x = be.solve_triangular(self.L, z, lower=True, trans=True)
        return x / (self.d[:, None] if B.ndim == 2 else self.d)

    @property
    def whitening(self):
        """M = D^-1 L^-T with A^-1 = M M'; row i of Xt M has squared norm xt_i' A^-1 xt_i."""
        if self._M is None:
            Linv = self.backend.solve_triangular(self.L, np.diag(1.0 / self.d), lower=True)
            self._M = np.ascontiguousarray(Linv.T)
        return self._M

    def inverse_diag(self):
        """diag(A^-1) without forming A^-1."""
        M = self.whitening
        return np.einsum("ij,ij->i", M, M)

    def inverse(self):
        M = self.whitening
        return M @ M.T


def solve_small(A, b):
    """Batched solve of (n, K, K) systems; plain division when K == 1."""
    if A.shape[1] == 1:
        return b / A[:, 0, :]
    return np.linalg.solve(A, b[..., None])[..., 0]


class InfluenceEngine:
    """Cached factorizations and per-row blocks for one fitted objective.

    Parameters
    ----------
    objective : LinearObjective
    backend : str or Backend, default=None
    damping : float, default=0.0
        Added to the Hessian's diagonal before factoring.
    strategy : {"auto", "primal", "dual", "iterative"}, default="auto"
        How H^-1 is represented (see :mod:`skinfluence._strategy`); resolved on
        first use, readable as ``engine.strategy``.
    """

    def __init__(self, objective, backend=None, damping=0.0, strategy="auto"):
        self.objective = objective
        self.backend = get_backend(backend)
        self.damping = check_damping(damping)
        self._cache = {}
        self.set_strategy(strategy)

    def set_strategy(self, strategy="auto"):
        """Request a representation of H^-1 (resolved on first use; clears cached factors)."""
        from ._strategy import STRATEGIES

        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}; got {strategy!r}.")
        self._requested_strategy = strategy
        self._resolved = None
        # everything downstream of a factor goes; curvature blocks and gradients stay
        self._cache = {k: v for k, v in self._cache.items()
                       if k == "g" or (isinstance(k, tuple) and k[0] in ("B", "H"))}
        return self

    def _resolve(self):
        if self._resolved is None:
            self._resolved = resolve_strategy(self.objective, self._requested_strategy,
                                              self.damping)
        return self._resolved

    @property
    def strategy(self):
        """``"primal"``, ``"dual"`` or ``"iterative"`` (see :mod:`skinfluence._strategy`)."""
        return self._resolve()[0]

    @property
    def strategy_reason(self):
        """Why :attr:`strategy` was chosen (one sentence)."""
        return self._resolve()[1]

    def _key(self, kind):
        # canonical links: IRLS weights are the observed Hessian, one factor serves both
        loss = self.objective.loss
        if kind == "fisher" and getattr(loss, "fisher_is_hessian", True):
            return "observed"
        return kind

    def _get(self, name, fn):
        if name not in self._cache:
            self._cache[name] = fn()
        return self._cache[name]

    # -- Hessian ---------------------------------------------------------------
    def B(self, kind="fisher"):
        kind = self._key(kind)
        return self._get(("B", kind), lambda: self.objective.eta_hessian(kind, backend=self.backend))

    def hessian(self, kind="fisher"):
        kind = self._key(kind)
        return self._get(
            ("H", kind),
            lambda: self.objective.hessian(kind, backend=self.backend, B=self.B(kind)),
        )

    def factor(self, kind="fisher"):
        """The factor of H (+ damping) that solves: Cholesky (primal) or DualFactor."""
        kind = self._key(kind)

        def compute():
            if self.strategy == "iterative":
                raise memory_error(self.objective, self.strategy_reason)
            if self.strategy == "dual":
                try:
                    return DualFactor(self.objective, self.B(kind), self.backend, self.damping)
                except DualNotApplicable as exc:
                    if self._requested_strategy != "auto":
                        raise
                    if memory_estimate(self.objective, "primal") > dense_budget_bytes():
                        raise memory_error(self.objective, f"{exc} The P x P Hessian exceeds "
                                           "the dense budget") from exc
                    warnings.warn(f"{exc} Using the primal P x P factor instead.",
                                  StrategyWarning, stacklevel=3)
            return CholeskyFactor(
                self.hessian(kind),
                backend=self.backend,
                null_space=self.objective.null_space(),
                damping=self.damping,
                param_names=self.objective.param_names,
            )

        return self._get(("F", kind), compute)

    def solve(self, V, kind="observed"):
        return self.factor(kind).solve(V)

    # -- per-row blocks ----------------------------------------------------------
    def g(self):
        return self._get("g", lambda: self.objective.eta_gradient(backend=self.backend))

    def _blocks(self, M):
        obj = self.objective
        q = obj.p_
        return [M[k * q:(k + 1) * q] for k in range(obj.n_outputs)]

    def C(self, kind="fisher"):
        kind = self._key(kind)

        def compute():
            obj = self.objective
            factor = self.factor(kind)
            if isinstance(factor, DualFactor):
                return factor.row_quadratic()
            blocks = self._blocks(factor.whitening)
            return self.backend.row_quadratic(obj.X, blocks, obj.fit_intercept)

        return self._get(("C", kind), compute)

    def row_solve(self, coefs, kind="observed"):
        """(n, P): row i is H^-1 Xt_i' coefs_i, coefs of shape (n, K)."""
        obj = self.objective
        factor = self.factor(kind)
        if isinstance(factor, DualFactor):
            return factor.row_solve(coefs)
        Hinv_blocks = self._blocks(factor.inverse())
        return self.backend.row_combination(obj.X, coefs, Hinv_blocks, obj.fit_intercept)

    def BC(self, kind="fisher"):
        B, C = self.B(kind), self.C(kind)
        if B.shape[1] == 1:
            return B * C
        return np.einsum("ikl,ilm->ikm", B, C)

    def leverage(self, kind="fisher"):
        BC = self.BC(kind)
        return np.einsum("ikk->i", BC)

    def penalty_terms(self, kind="fisher", solve=None):
        """(u0, t, q): u0 = H^-1 (pen*theta), t_i = Xt_i u0 (n, K), q = u0 . pen*theta.

        ``solve`` (e.g. a CG solver's) replaces the factor's on the first call,
        for engines without a dense factor (the iterative strategy).
        """
        obj = self.objective

        def compute():
            pg = obj.penalty_gradient()
            u0 = (solve or self.factor(kind).solve)(pg)
            t = self.backend.design_matmul(
                obj.X, u0.reshape(obj.n_outputs, obj.p_).T, obj.fit_intercept
            )
            return u0, t, float(u0 @ pg)

        return self._get(("pen", self._key(kind)), compute)

    def loo_v(self, kind="fisher"):
        """v_i of the module docstring, shape (n, K)."""

        def compute():
            obj = self.objective
            K = obj.n_outputs
            rhs = self.g().copy()
            share = obj.share
            if share is not None and obj.is_penalized:
                _, t, _ = self.penalty_terms(kind)
                B = self.B(kind)
                rhs += share[:, None] * np.einsum("ikl,il->ik", B, t)
            A = np.eye(K)[None] - self.BC(kind)
            # a lazy backend (dask) solves the K x K systems block by block
            return getattr(self.backend, "solve_small", solve_small)(A, rhs)

        return self._get(("v", self._key(kind)), compute)

    def loo_param_change(self, kind="fisher"):
        """theta_(-i) - theta, shape (n, P): one-step Newton with the LOO Hessian."""
        obj = self.objective
        out = self.row_solve(self.loo_v(kind), kind)
        if obj.share is not None and obj.is_penalized:
            u0, _, _ = self.penalty_terms(kind)
            out += obj.share[:, None] * u0[None, :]
        return out

    def loo_eta_change(self, kind="observed"):
        """eta_(-i),i - eta_i, shape (n, K): row i's own linear predictor with row i left out.

        xt_i' (theta_(-i) - theta) = C_i v_i + share_i t_i (no (n, P) matrix is
        formed). Exact for least squares and Ridge (the PRESS identity); for GLMs
        and the SVM one Newton step with the leave-one-out Hessian: the
        approximate leave-one-out (ALO) predictor of Rad & Maleki (2020).
        """

        def compute():
            obj = self.objective
            v = self.loo_v(kind)
            d = np.einsum("ikl,il->ik", self.C(kind), v)
            if obj.share is not None and obj.is_penalized:
                _, t, _ = self.penalty_terms(kind)
                d = d + obj.share[:, None] * t
            return d

        return self._get(("loo_eta", self._key(kind)), compute)

    def loo_param_norm(self, kind="fisher"):
        """(theta_(-i) - theta)' H (theta_(-i) - theta) per row, without forming it."""
        v = self.loo_v(kind)
        C = self.C(kind)
        val = np.einsum("ik,ikl,il->i", v, C, v)
        obj = self.objective
        if obj.share is not None and obj.is_penalized:
            _, t, qq = self.penalty_terms(kind)
            s = obj.share
            val = val + 2 * s * np.einsum("ik,ik->i", v, t) + s**2 * qq
        return val
