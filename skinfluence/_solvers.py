"""Inverse Hessian-vector products behind one interface.

Every influence function needs ``H^-1 V`` for a few (or many) vectors V, with H
the Hessian of the minimized objective (observed, not Fisher), plus the optional
``damping * I``. Three solvers provide it:

``direct``
    the engine's cached Jacobi-scaled Cholesky factor (the same object the
    regression diagnostics use); O(P^3) once, then O(P^2) per vector.
``cg``
    conjugate gradients on Hessian-vector products, Jacobi preconditioned; H is
    never formed, so it works for scipy.sparse X with P = 10^5 parameters. All
    right-hand sides are iterated together: one pass over X per iteration.
``lissa``
    the stochastic Neumann series of Agarwal, Bullins & Hazan (2017) as used by
    Koh & Liang (2017): ``h <- v + h - H_batch h / scale``, result ``h / scale``,
    averaged over ``n_samples`` independent recursions of ``depth`` steps.

A multinomial model's Hessian has a known null space N (adding one constant to
an unpenalized parameter in every class changes nothing); every solver works on
``H + N N'`` so that right-hand sides orthogonal to N (all gradients are) get
the pseudo-inverse solution, exactly as the Cholesky factor does.
"""

import warnings

import numpy as np
import scipy.sparse as sp

from .exceptions import ConvergenceWarning
from .utils._chunks import iter_row_chunks as _row_chunks

#: keyword options understood by the solvers (``influence(..., **options)``)
SOLVER_OPTIONS = {
    "cg": ("tol", "max_iter", "preconditioner"),
    "lissa": ("scale", "depth", "n_samples", "batch_size", "random_state"),
}
#: options of every solver: ``strategy`` picks how the engine represents H^-1
#: (:mod:`skinfluence._strategy`); ``make_solver`` hands it to the engine
ALL_SOLVER_OPTIONS = frozenset(
    [o for opts in SOLVER_OPTIONS.values() for o in opts] + ["strategy"]
)
SOLVERS = ("auto", "direct", "cg", "lissa", "ekfac")

#: "auto" uses the direct solver up to this many parameters (dense H of 128 MiB)
AUTO_DIRECT_MAX_PARAMS = 4000


def _as_2d(V):
    V = np.asarray(V, dtype=np.float64)
    return (V[:, None], True) if V.ndim == 1 else (V, False)


class HessianOperator:
    """Hessian-vector products ``(H + damping I + N N') V`` of a LinearObjective.

    ``H = sum_i Xt_i' B_i Xt_i + diag(pen)`` with ``B_i`` the observed per-row
    K x K curvature blocks; H is never formed. One product costs one chunked
    pass over X (dense or CSR) for all columns of V together.

    Parameters
    ----------
    objective : LinearObjective
    backend : Backend
    B : ndarray of shape (n, K, K)
        Per-row curvature blocks (``objective.eta_hessian("observed")``).
    damping : float, default=0.0
    exclude : array-like of int, default=None
        Rows left out of H (for the one-step Newton estimate of removing a
        group); their share of a mean-form penalty is left out too.
    """

    def __init__(self, objective, backend, B, damping=0.0, exclude=None):
        self.objective = objective
        self.backend = backend
        self.damping = float(damping)
        pen = objective.pen
        if exclude is not None:
            exclude = np.asarray(exclude)
            B = B.copy()
            B[exclude] = 0.0
            if objective.share is not None and objective.is_penalized:
                pen = pen * (1.0 - objective.share[exclude].sum())
        self.B = B
        self.pen = pen
        self.null = objective.null_space()
        self.shape = (objective.n_params, objective.n_params)
        self.n_products = 0  # passes over X (each serves all columns of V)
        self.n_vectors = 0  # Hessian-vector products counted column by column

    @property
    def n_samples(self):
        return self.objective.n_samples

    def _data_term(self, V, rows=None, weight=1.0):
        """sum_i Xt_i' B_i Xt_i V over ``rows`` (default all), times ``weight``."""
        obj, be = self.objective, self.backend
        K, q, m = obj.n_outputs, obj.p_, V.shape[1]
        # (P, m) -> (q, K*m): column block k holds output k's parameters
        Vq = V.reshape(K, q, m).transpose(1, 0, 2).reshape(q, K * m)
        X = obj.X if rows is None else obj.X[rows]
        B = self.B if rows is None else self.B[rows]
        out = np.zeros((q, K * m))
        for start, stop, Xc in _row_chunks(X, 2 * K * m):
            E = be.design_matmul(Xc, Vq, obj.fit_intercept).reshape(-1, K, m)
            Bc = B[start:stop]
            if K == 1:
                Z = Bc[:, 0, 0, None, None] * E
            else:
                Z = np.einsum("ikl,ilm->ikm", Bc, E)
            out += be.design_rmatmul(Xc, Z.reshape(-1, K * m), obj.fit_intercept)
        out *= weight
        return out.reshape(q, K, m).transpose(1, 0, 2).reshape(K * q, m)

    def _extra(self, V, pen):
        out = (pen + self.damping)[:, None] * V
        if self.null is not None:
            out += self.null @ (self.null.T @ V)
        return out

    def matvec(self, V):
        """(H + damping I + N N') V for V of shape (P,) or (P, m)."""
        V, squeeze = _as_2d(V)
        self.n_products += 1
        self.n_vectors += V.shape[1]
        out = self._data_term(V) + self._extra(V, self.pen)
        return out[:, 0] if squeeze else out

    def batch_matvec(self, V, rows):
        """Unbiased estimate of ``matvec(V)`` from the rows ``rows`` (LiSSA)."""
        V, _ = _as_2d(V)
        self.n_products += 1
        self.n_vectors += V.shape[1]
        w = self.n_samples / len(rows)
        return self._data_term(V, rows=rows, weight=w) + self._extra(V, self.pen)

    def diagonal(self):
        """diag(H + damping I + N N') in one pass over X (Jacobi preconditioner)."""
        obj, be = self.objective, self.backend
        K, q = obj.n_outputs, obj.p_
        diag_B = np.einsum("ikk->ik", self.B)
        out = np.zeros((q, K))
        for start, stop, Xc in _row_chunks(obj.X, 2 * K + obj.n_features):
            X2 = Xc.multiply(Xc).tocsr() if sp.issparse(Xc) else Xc * Xc  # arrays and tensors
            out += be.design_rmatmul(X2, diag_B[start:stop], obj.fit_intercept)
        d = out.T.ravel() + self.pen + self.damping
        if self.null is not None:
            d += np.einsum("ij,ij->i", self.null, self.null)
        return d

    def max_eigenvalue(self, random_state=0):
        """Largest eigenvalue of the operator (Lanczos, a few dozen products)."""
        from scipy.sparse.linalg import LinearOperator, eigsh

        P = self.shape[0]
        if P == 1:
            return float(self.matvec(np.ones(1))[0])
        op = LinearOperator(self.shape, matvec=self.matvec, dtype=np.float64)
        v0 = np.random.default_rng(random_state).standard_normal(P)
        lam = eigsh(op, k=1, which="LA", v0=v0, tol=1e-3, maxiter=max(100, 10 * P),
                    return_eigenvectors=False)
        return float(lam[0])


class DirectSolver:
    """H^-1 V from the engine's cached Cholesky factor (shared with the diagnostics).

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.linear_model import Ridge
    >>> X = np.arange(12.0).reshape(6, 2) ** 0.5; y = np.arange(6.0)
    >>> inf = Ridge(alpha=1.0).fit(X, y).influence(solver="direct")
    >>> H = inf.objective.hessian("observed")
    >>> bool(np.allclose(H @ inf.solver.solve(np.ones(3)), np.ones(3)))
    True
    """

    name = "direct"

    def __init__(self, engine):
        self.engine = engine

    @property
    def factor(self):
        return self.engine.factor("observed")

    def solve(self, V):
        """(H + damping I)^-1 V (pseudo-inverse on the identifiable subspace)."""
        V, squeeze = _as_2d(V)
        out = self.factor.solve(V)
        return out[:, 0] if squeeze else out

    def __repr__(self):
        return "DirectSolver()"


class CGSolver:
    """Conjugate gradients on Hessian-vector products (H is never formed).

    All columns of V are iterated together (one pass over X per iteration), each
    with its own step sizes, until ``||H x - v|| <= tol * ||v||`` for every column.

    Parameters
    ----------
    operator : HessianOperator
    tol : float, default=1e-10
        Relative residual at which a column has converged.
    max_iter : int, default=None
        Iteration cap; default ``min(max(100, P), 2000)`` (2 P for tiny P).
    preconditioner : {"jacobi", None}, default="jacobi"

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.linear_model import LogisticRegression
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
    >>> est = LogisticRegression(max_iter=1000).fit(X, y)
    >>> v = np.ones(31)
    >>> cg = est.influence(solver="cg").solver.solve(v)
    >>> exact = est.influence(solver="direct").solver.solve(v)
    >>> bool(np.linalg.norm(cg - exact) < 1e-8 * np.linalg.norm(exact))
    True
    """

    name = "cg"

    def __init__(self, operator, tol=1e-10, max_iter=None, preconditioner="jacobi"):
        if not tol > 0:
            raise ValueError(f"tol must be > 0, got {tol}.")
        if preconditioner not in ("jacobi", None):
            raise ValueError(f"preconditioner must be 'jacobi' or None, got {preconditioner!r}.")
        self.operator = operator
        self.tol = float(tol)
        P = operator.shape[0]
        self.max_iter = int(max_iter) if max_iter is not None else min(max(100, 2 * P), 2000)
        self.preconditioner = preconditioner
        self._dinv = None
        self.n_iter_ = None
        self.residual_ = None

    def _precondition(self, R):
        if self.preconditioner is None:
            return R
        if self._dinv is None:
            d = self.operator.diagonal()
            self._dinv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 1.0)
        return self._dinv[:, None] * R

    def solve(self, V):
        """(H + damping I)^-1 V for V of shape (P,) or (P, m)."""
        V, squeeze = _as_2d(V)
        A = self.operator
        bnorm = np.linalg.norm(V, axis=0)
        x = np.zeros_like(V)
        r = V.copy()
        z = self._precondition(r)
        p = z.copy()
        rz = np.einsum("ij,ij->j", r, z)
        active = bnorm > 0
        it = 0
        rel = np.zeros(V.shape[1])
        while it < self.max_iter:
            rel = np.linalg.norm(r, axis=0) / np.where(bnorm > 0, bnorm, 1.0)
            active = rel > self.tol
            if not active.any():
                break
            idx = np.flatnonzero(active)
            Ap = A.matvec(p[:, idx])
            pAp = np.einsum("ij,ij->j", p[:, idx], Ap)
            if np.any(pAp <= 0):
                raise np.linalg.LinAlgError(
                    "Conjugate gradients met non-positive curvature: the Hessian "
                    "is not positive definite here. Pass damping > 0."
                )
            alpha = rz[idx] / pAp
            x[:, idx] += alpha * p[:, idx]
            r[:, idx] -= alpha * Ap
            z_new = self._precondition(r[:, idx])
            rz_new = np.einsum("ij,ij->j", r[:, idx], z_new)
            beta = rz_new / rz[idx]
            p[:, idx] = z_new + beta * p[:, idx]
            rz[idx] = rz_new
            it += 1
        else:
            rel = np.linalg.norm(r, axis=0) / np.where(bnorm > 0, bnorm, 1.0)
        self.n_iter_ = it
        self.residual_ = float(rel.max()) if rel.size else 0.0
        if self.residual_ > self.tol:
            warnings.warn(
                f"Conjugate gradients did not converge in {self.max_iter} iterations: "
                f"relative residual reached {self.residual_:.3g} (tol={self.tol:g}). "
                "Increase max_iter, add damping, or use solver='direct'.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return x[:, 0] if squeeze else x

    def __repr__(self):
        return f"CGSolver(tol={self.tol:g}, max_iter={self.max_iter}, preconditioner={self.preconditioner!r})"


class LissaSolver:
    """LiSSA: stochastic Neumann-series estimate of (H + damping I)^-1 V.

    Recursion (Agarwal et al. 2017; Koh & Liang 2017), for each column v::

        h_0 = v,   h_t = v + h_{t-1} - H_batch h_{t-1} / scale,   result h_depth / scale

    averaged over ``n_samples`` independent runs. ``H_batch`` is the unbiased
    estimate of H (damping and penalty included) from ``batch_size`` rows drawn
    at random. The series converges when ``scale`` exceeds the largest
    eigenvalue of every ``H_batch``; its error after ``depth`` steps is about
    ``(1 - lambda_min / scale)^depth``.

    Parameters
    ----------
    operator : HessianOperator
    scale : float or None, default=None
        ``None``: 1.5 times the largest eigenvalue of H (a Lanczos estimate
        costing a few dozen Hessian-vector products).
    depth : int or None, default=None
        Recursion steps; ``None``: enough for the error bound above to fall to
        1e-3 with lambda_min the smallest eigenvalue's Lanczos estimate, capped at
        10,000.
    n_samples : int, default=1
        Independent recursions averaged.
    batch_size : int or None, default=None
        Rows drawn (without replacement) for each step's Hessian estimate;
        ``None``: ``min(n_samples_train, 2000)``. With all rows the recursion is
        deterministic; smaller batches make each step cheaper and the result noisier
        (average more ``n_samples``).
    random_state : int, Generator or None, default=0

    Raises
    ------
    ValueError
        When the recursion diverges (``scale`` below the largest eigenvalue of a
        mini-batch Hessian), naming a larger ``scale`` to try.

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.linear_model import Ridge
    >>> X = np.arange(12.0).reshape(6, 2) ** 0.5; y = np.arange(6.0)
    >>> inf = Ridge(alpha=1.0).fit(X, y).influence(solver="lissa")
    >>> exact = np.linalg.solve(inf.objective.hessian("observed"), np.ones(3))
    >>> bool(np.allclose(inf.solver.solve(np.ones(3)), exact, rtol=1e-2))
    True
    """

    name = "lissa"
    _TARGET = 1e-3
    _MAX_DEPTH = 10_000

    def __init__(self, operator, scale=None, depth=None, n_samples=1, batch_size=None,
                 random_state=0):
        if scale is not None and not scale > 0:
            raise ValueError(f"scale must be > 0, got {scale}.")
        if depth is not None and int(depth) < 1:
            raise ValueError(f"depth must be >= 1, got {depth}.")
        if int(n_samples) < 1:
            raise ValueError(f"n_samples must be >= 1, got {n_samples}.")
        self.operator = operator
        n = operator.n_samples
        if batch_size is None:
            batch_size = min(n, 2000)
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
        self.batch_size = min(int(batch_size), n)
        self.n_samples = int(n_samples)
        self.random_state = random_state
        self._scale = None if scale is None else float(scale)
        self._depth = None if depth is None else int(depth)
        self._lam = None

    def _eigenvalues(self):
        if self._lam is None:
            from scipy.sparse.linalg import LinearOperator, eigsh

            op = self.operator
            lmax = op.max_eigenvalue()
            P = op.shape[0]
            if P <= 2:
                lmin = float(np.linalg.eigvalsh(op.matvec(np.eye(P)))[0])
            else:
                # smallest eigenvalue of H from the largest of (lmax I - H)
                shifted = LinearOperator(op.shape, dtype=np.float64,
                                         matvec=lambda v: lmax * v - op.matvec(v))
                v0 = np.random.default_rng(1).standard_normal(P)
                top = eigsh(shifted, k=1, which="LA", v0=v0, tol=1e-2,
                            maxiter=max(100, 10 * P), return_eigenvectors=False)[0]
                lmin = max(lmax - float(top), 0.0)
            self._lam = (lmax, lmin)
        return self._lam

    @property
    def scale(self):
        if self._scale is None:
            self._scale = 1.5 * self._eigenvalues()[0]
        return self._scale

    @property
    def depth(self):
        if self._depth is None:
            lmin = self._eigenvalues()[1]
            if lmin <= 0:
                self._depth = self._MAX_DEPTH
            else:
                rate = -np.log1p(-min(lmin / self.scale, 0.999999))
                self._depth = int(min(self._MAX_DEPTH, np.ceil(-np.log(self._TARGET) / rate)))
        return self._depth

    def solve(self, V):
        """Estimate (H + damping I)^-1 V for V of shape (P,) or (P, m)."""
        V, squeeze = _as_2d(V)
        op = self.operator
        n = op.n_samples
        scale, depth = self.scale, self.depth
        rng = np.random.default_rng(self.random_state)
        vnorm = np.linalg.norm(V, axis=0)
        full = self.batch_size >= n
        total = np.zeros_like(V)
        for _ in range(self.n_samples):
            h = V.copy()
            for t in range(depth):
                if full:
                    Hh = op.matvec(h)
                else:
                    Hh = op.batch_matvec(h, rng.choice(n, self.batch_size, replace=False))
                h = V + h - Hh / scale
                # with scale >= lambda_max, ||h_t|| <= (t + 2) ||v||; far beyond: diverging
                hn = np.linalg.norm(h, axis=0)
                if not np.all(np.isfinite(hn)) or np.any(hn > 10.0 * (t + 2) * vnorm + 1e-300):
                    lmax = self._lam[0] if self._lam is not None else op.max_eigenvalue()
                    raise ValueError(
                        f"LiSSA diverged after {t + 1} of {depth} steps: scale={scale:.4g} "
                        f"is below the largest eigenvalue of the (mini-batch) Hessian "
                        f"(about {lmax:.4g} for the full Hessian). Pass a larger scale, "
                        f"e.g. scale={2 * lmax:.4g}, or leave scale=None to set it "
                        "automatically."
                    )
            total += h / scale
        out = total / self.n_samples
        return out[:, 0] if squeeze else out

    def __repr__(self):
        return (
            f"LissaSolver(scale={self._scale}, depth={self._depth}, n_samples={self.n_samples}, "
            f"batch_size={self.batch_size}, random_state={self.random_state!r})"
        )


def make_solver(engine, solver="auto", **options):
    """Build the inverse-Hessian-vector-product solver for an InfluenceEngine.

    Parameters
    ----------
    engine : InfluenceEngine
    solver : {"auto", "direct", "cg", "lissa"}, default="auto"
        ``"auto"``: direct when the engine's strategy is ``"dual"`` (exact
        n x n kernel form of a wide design) or when there are at most 4,000
        parameters, conjugate gradients otherwise.
    **options
        Solver options (``tol``, ``max_iter``, ``preconditioner`` for CG;
        ``scale``, ``depth``, ``n_samples``, ``batch_size``, ``random_state``
        for LiSSA). Options of another solver are refused. ``strategy``
        (``"auto"``, ``"primal"``, ``"dual"``, ``"iterative"``) is passed to
        ``engine.set_strategy`` (how H^-1 is represented; see
        :mod:`skinfluence._strategy`).

    Returns
    -------
    DirectSolver, CGSolver or LissaSolver

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skinfluence.linear_model import Ridge
    >>> from skinfluence._solvers import make_solver
    >>> X, y = load_diabetes(return_X_y=True)
    >>> make_solver(Ridge().fit(X, y).influence().engine, "cg", tol=1e-8)
    CGSolver(tol=1e-08, max_iter=100, preconditioner='jacobi')
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}; got {solver!r}.")
    obj = engine.objective
    if "strategy" in options:
        engine.set_strategy(options.pop("strategy"))
    if solver == "auto":
        strategy = getattr(engine, "strategy", "primal")
        if strategy == "dual":
            solver = "direct"
        elif strategy == "iterative":
            solver = "cg"
        else:
            solver = "direct" if obj.n_params <= AUTO_DIRECT_MAX_PARAMS else "cg"
    allowed = SOLVER_OPTIONS.get(solver, ())
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(
            f"Option(s) {unknown} do not apply to solver={solver!r}"
            + (f"; it accepts {list(allowed)}." if allowed else " (it takes none).")
        )
    if solver == "direct":
        return DirectSolver(engine)
    if solver == "ekfac":  # eigenvalue-corrected Kronecker factors (skinfluence/_ekfac.py)
        from ._ekfac import EKFACSolver

        return EKFACSolver(engine)
    op = HessianOperator(obj, engine.backend, engine.B("observed"), damping=engine.damping)
    if solver == "cg":
        return CGSolver(op, **options)
    return LissaSolver(op, **options)
