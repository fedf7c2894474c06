"""Randomized linear algebra on a fitted objective (engine level; no estimators, no
validation): relative-error leverage for tall data (Drineas, Magdon-Ismail, Mahoney & Woodruff
2012; Clarkson & Woodruff 2013).

With A = W^1/2 Xt (n x d, IRLS weights W, implicit intercept column) and, for
penalized fits, the exact penalty rows diag(sqrt(pen)) appended (so that
A_aug' A_aug is the penalized Hessian H):

1. row sketch S A (r1 x d): CountSketch (one hashed +-1 per row, O(nnz)) or
   Gaussian, computed over row chunks; the penalty rows are appended unsketched;
2. R from the QR decomposition of the sketch (so A R^-1 is nearly orthonormal);
3. h_i ~ w_i ||xt_i R^-1 Pi2||^2 with a Gaussian Pi2 (d x r2, N(0, 1/r2)); when
   r2 >= d, Pi2 is dropped and h_i = w_i ||xt_i R^-1||^2 exactly for that R;
4. debiasing: the inverse of a sketched Gram matrix overestimates on average by
   r1 / (r1 - d - 1) (inverse Wishart mean); h is multiplied by
   (r1 - d_eff - 1) / r1, with d_eff the data's share of the degrees of freedom
   estimated from sum(h).

Default sizes from ``eps`` (target relative error for about 95% of rows):
r1 = d + ceil(16 / eps^2), r2 = ceil(16 / eps^2) (a relative standard error of
about eps / 2.8 from each stage). When r1 >= n the rows are not sketched.
"""

import math
from functools import partial

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .backends import get_backend
from .exceptions import SingularHessianError, UnsupportedEstimatorError
from .utils._chunks import iter_row_chunks
from .utils._validation import check_damping, check_positive_int


def require_single_output(objective, what):
    """Refuse multi-output (multinomial, one-vs-rest) objectives for single-output methods."""
    if objective.n_outputs != 1:
        raise UnsupportedEstimatorError(
            f"{what} supports single-output models (regression GLMs, binary "
            f"logistic regression, binary SVMs); this {type(objective.loss).__name__} "
            f"objective has {objective.n_outputs} outputs. Use .influence() for "
            "multinomial models, or fit one-vs-rest binary models."
        )


def fisher_weights(objective, backend=None):
    """IRLS weights w_i (sample weights included) and per-row gradients g_i."""
    w = objective.eta_hessian("fisher", backend=backend)[:, 0, 0]
    g = objective.eta_gradient(backend=backend)[:, 0]
    if getattr(get_backend(backend), "lazy", False):  # lazy per-row arrays stay lazy
        return w.astype(np.float64), g.astype(np.float64)
    return np.asarray(w, dtype=np.float64), np.asarray(g, dtype=np.float64)

ROW_SKETCHES = ("countsketch", "gaussian")


def _native(X, backend):
    """True when X is a NumPy array or CSR matrix handled on the host by NumPy."""
    return backend.name == "numpy" or sp.issparse(X)


def _countsketch_block(Xc, buckets, signs, r1, fi):
    """S_c A_c for one row block: row i of Xt_c added, times signs[i], to row buckets[i]."""
    b = np.asarray(buckets, dtype=np.intp)
    m = Xc.shape[0]
    S = sp.csr_matrix((signs, (b, np.arange(m))), shape=(r1, m))
    P = S @ Xc
    out = np.zeros((r1, Xc.shape[1] + fi))
    out[:, fi:] = P.toarray() if sp.issparse(P) else P
    if fi:
        out[:, 0] = np.bincount(b, weights=signs, minlength=r1)
    return out


def _gaussian_block(Xc, rows, sw, r1, fi, seed):
    """G_c A_c with G_c ~ N(0, 1/r1) drawn from (seed, the block's first row)."""
    rng = np.random.default_rng([seed, int(rows[0])])
    G = rng.standard_normal((r1, Xc.shape[0])) * (sw / math.sqrt(r1))
    out = np.empty((r1, Xc.shape[1] + fi))
    out[:, fi:] = G @ Xc
    if fi:
        out[:, 0] = G.sum(axis=1)
    return out


def _row_sketch(objective, sw, r1, kind, rng, backend):
    """S A (r1 x d) with A = diag(sw) Xt, chunked over rows.

    On a non-NumPy backend (e.g. torch with X on a device) each chunk's product
    is the backend's ``design_rmatmul(Xc, S_c')`` (which also yields the
    intercept row); the random draws are the same as on the NumPy path.
    """
    X = objective.X
    n = X.shape[0]
    fi = objective.fit_intercept
    d = objective.p_
    native = _native(X, backend)
    SA = np.zeros((r1, d))
    if kind == "countsketch":
        buckets = rng.randint(r1, size=n)
        signs = rng.choice(np.array([-1.0, 1.0]), size=n) * sw
        if backend.lazy:  # the same draws; S A as a reduction over row blocks
            return backend.row_reduce(partial(_countsketch_block, r1=r1, fi=fi), X,
                                      buckets, signs, shape=(r1, d), width=2 * d)
        for start, stop, Xc in iter_row_chunks(X, 2 * d if native else r1 + d):
            b, s = buckets[start:stop], signs[start:stop]
            if not native:
                St = np.zeros((stop - start, r1))
                St[np.arange(stop - start), b] = s
                SA += backend.design_rmatmul(Xc, St, fi).T
                continue
            SA += _countsketch_block(Xc, b, s, r1, fi)
        return SA
    if kind == "gaussian" and backend.lazy:
        # draws per row block from (seed, first row): the same distribution as the
        # chunk loop's, other numbers (no n-long stream on the client)
        seed = int(rng.randint(2**31))
        return backend.row_reduce(partial(_gaussian_block, r1=r1, fi=fi, seed=seed), X,
                                  np.arange(n), sw, shape=(r1, d), width=r1 + d)
    if kind == "gaussian":
        for start, stop, Xc in iter_row_chunks(X, r1 + d):
            G = rng.standard_normal((r1, stop - start)) * (sw[start:stop] / math.sqrt(r1))
            if not native:
                SA += backend.design_rmatmul(Xc, G.T, fi).T
                continue
            P = (Xc.T @ G.T).T if sp.issparse(Xc) else G @ Xc
            SA[:, fi:] += np.asarray(P)
            if fi:
                SA[:, 0] += G.sum(axis=1)
        return SA
    raise ValueError(
        f"Unknown row sketch {kind!r}; choose one of {', '.join(map(repr, ROW_SKETCHES))}."
    )


def _exact_rows(objective, sw, backend):
    X = objective.X
    if not _native(X, backend):
        # Xt itself, through the backend (only used when the sketch would be
        # taller than the data, i.e. for small n)
        return backend.design_matmul(X, np.eye(objective.p_), objective.fit_intercept) * sw[:, None]
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    A = Xd * sw[:, None]
    if objective.fit_intercept:
        A = np.hstack([sw[:, None], A])
    return A


def randomized_leverage(objective, *, eps=0.1, sketch="countsketch", sketch_size=None,
                        n_components=None, random_state=None, damping=0.0, debias=True,
                        backend=None, return_factor=False):
    """Relative-error leverage of a fitted single-output objective, by sketching.

    Approximates h_i = w_i xt_i' H^-1 xt_i (R's ``hatvalues``; the penalized hat
    matrix for L2 fits) for tall data with a moderate number of columns d, in
    O(nnz(X) + r1 d^2 + n d r2) time, r2 = min(d, 16 / eps^2).

    Parameters
    ----------
    objective : LinearObjective
        E.g. ``skinfluence.influence(est, X, y).objective``.
    eps : float, default=0.1
        Target relative error (for about 95% of rows); sets the default sizes.
    sketch : {"countsketch", "gaussian"}, default="countsketch"
        Row sketch (CountSketch costs O(nnz(X))).
    sketch_size : int, default=None
        Rows r1 of the sketch; default d + ceil(16 / eps^2).
    n_components : int, default=None
        Columns r2 of the second (Gaussian) projection; default ceil(16 / eps^2);
        dropped when >= d.
    random_state : int, RandomState instance or None, default=None
    damping : float, default=0.0
        Added to the Hessian's diagonal (as :class:`skinfluence.Influence` does).
    debias : bool, default=True
        Correct the r1 / (r1 - d - 1) bias of the sketched inverse.
    backend : str, default=None
    return_factor : bool, default=False
        Also return R (d x d, upper triangular) with R'R ~ H, the sketched
        Hessian (e.g. for an approximate Newton step).

    Returns
    -------
    leverage : ndarray of shape (n_samples,)
    R : ndarray of shape (d, d)
        Only when ``return_factor``.

    Examples
    --------
    >>> import numpy as np, skinfluence
    >>> from sklearn.linear_model import LinearRegression
    >>> from skinfluence.sketch import randomized_leverage
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(5000, 5)); y = X.sum(axis=1) + rng.normal(size=5000)
    >>> inf = skinfluence.influence(LinearRegression().fit(X, y), X, y)
    >>> h = randomized_leverage(inf.objective, eps=0.2, random_state=0)
    >>> bool(np.median(np.abs(h / inf.leverage - 1)) < 0.1)
    True
    """
    require_single_output(objective, "randomized_leverage")
    eps = float(eps)
    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1); got {eps}.")
    damping = check_damping(damping)
    be = get_backend(backend)
    rng = check_random_state(random_state)
    n, d = objective.n_samples, objective.p_
    base = math.ceil(16.0 / eps**2)
    r1 = d + base if sketch_size is None else check_positive_int(sketch_size, "sketch_size")
    r2 = base if n_components is None else check_positive_int(n_components, "n_components")
    if sketch not in ROW_SKETCHES:
        raise ValueError(
            f"Unknown row sketch {sketch!r}; choose one of {', '.join(map(repr, ROW_SKETCHES))}."
        )
    if r1 < d:
        raise ValueError(f"sketch_size={r1} must be at least the number of columns d={d}.")
    w, _ = fisher_weights(objective, backend=be)
    sw = np.sqrt(np.clip(w, 0.0, None))
    sketched = r1 < n
    SA = (_row_sketch(objective, sw, r1, sketch, rng, be) if sketched
          else be.to_numpy(_exact_rows(objective, sw, be)))  # small: n <= r1 rows
    pen = objective.pen + float(damping)
    on = np.flatnonzero(pen > 0)
    if on.size:
        P = np.zeros((on.size, d))
        P[np.arange(on.size), on] = np.sqrt(pen[on])
        SA = np.vstack([SA, P])
    R = scipy.linalg.qr(SA, mode="r", check_finite=False)[0][:d]
    diag = np.abs(np.diag(R))
    if diag.size < d or not np.all(np.isfinite(diag)) or diag.min() <= 1e-12 * diag.max():
        raise SingularHessianError(
            "The (sketched) weighted design is rank deficient: collinear or empty "
            "columns, or more parameters than rows in an unpenalized fit. Drop "
            "redundant columns, fit with an L2 penalty, or pass damping > 0."
        )
    if r2 < d:
        Pi2 = rng.standard_normal((d, r2)) / math.sqrt(r2)
    else:
        Pi2 = np.eye(d)
    M = scipy.linalg.solve_triangular(R, Pi2, lower=False, check_finite=False)
    h = w * be.row_quadratic(objective.X, [M], objective.fit_intercept)[:, 0, 0]
    if sketched and debias:
        s = h.sum()  # np.minimum/np.maximum: a lazy backend's h and s stay lazy
        d_eff = np.minimum(float(d), s * (r1 - 1) / (r1 + s))
        h = h * (np.maximum(r1 - d_eff - 1.0, 1.0) / r1)
    return (h, R) if return_factor else h


def use_sketched_leverage(influence, algorithm="auto", **options):
    """Make an :class:`skinfluence.Influence` run on randomized leverage.

    Replaces the engine's cached C_i = xt_i' H^-1 xt_i (single-output models) by
    h_i / w_i from :func:`randomized_leverage` or :func:`jl_leverage`, so that ``leverage``,
    ``cooks_distance``, the studentized residuals, ``dffits``, ``cov_ratio`` and
    the flags use the sketched leverage. ``dfbeta``/``dfbetas`` still use the
    exact factor of H (they need H^-1 anyway), with the sketched h in their
    1/(1 - h) correction. Call it before accessing any attribute.

    Parameters
    ----------
    influence : skinfluence.Influence
    algorithm : {"auto", "qr", "jl"}, default="auto"
        ``"qr"``: :func:`randomized_leverage` (relative error for tall data; it
        factors a dense d x d sketch); ``"jl"``: :func:`jl_leverage` (unbiased,
        relative standard deviation sqrt(2 / k), conjugate gradients, no dense
        P x P matrix: wide sparse data beyond the memory guard); ``"auto"``:
        ``"qr"`` while the P x P Hessian fits the dense budget, else ``"jl"``.
    **options
        Passed to the chosen estimator.

    Returns
    -------
    influence : the same object
        With ``leverage_accuracy``: None for ``"qr"``, :func:`jl_leverage`'s
        ``info`` dict (``relative_sd``, ``ratio_interval``, CG figures) for ``"jl"``.

    Examples
    --------
    >>> import numpy as np, skinfluence
    >>> from sklearn.linear_model import LinearRegression
    >>> from skinfluence.sketch import use_sketched_leverage
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(3000, 3)); y = X[:, 0] + rng.normal(size=3000)
    >>> inf = use_sketched_leverage(skinfluence.influence(LinearRegression().fit(X, y), X, y),
    ...                             eps=0.2, random_state=0)
    >>> inf.cooks_distance.shape
    (3000,)
    """
    engine = influence.engine
    objective = influence.objective
    require_single_output(objective, "use_sketched_leverage")
    influence.leverage_accuracy = None
    if choose_leverage_estimator(objective, algorithm) == "jl":
        h, influence.leverage_accuracy = jl_leverage(
            objective, backend=engine.backend, damping=engine.damping, return_info=True,
            **options)
        if objective.share is not None and objective.is_penalized \
                and engine.strategy == "iterative":
            # mean-form penalties (GLM regressors, alpha > 0): Cook's distance also
            # needs H^-1 (pen * theta); without a factor, one CG solve provides it
            from ._solvers import CGSolver, HessianOperator

            op = HessianOperator(objective, engine.backend, engine.B("fisher"),
                                 damping=engine.damping)
            engine.penalty_terms("fisher", solve=CGSolver(op, tol=1e-10).solve)
    else:
        h, R = randomized_leverage(objective, backend=engine.backend, damping=engine.damping,
                                   return_factor=True, **options)
        influence._sketch_factor = R
    w = engine.B("fisher")[:, 0, 0]
    C = np.where(w > 0, h / np.where(w > 0, w, 1.0), 0.0)  # lazy on a lazy backend
    engine._cache[("C", engine._key("fisher"))] = C[:, None, None]
    influence.leverage_method = "sketch"
    return influence


#: right-hand sides of the JL leverage estimator by default: relative sd sqrt(2/128) = 0.125
JL_DEFAULT_K = 128
LEVERAGE_ALGORITHMS = ("auto", "qr", "jl")


def jl_accuracy(k, level=0.95):
    """Stated accuracy of :func:`jl_leverage` with k Gaussian right-hand sides.

    With an exact solve, estimate / exact leverage follows chi^2_k / k for every
    row (whatever the data): mean 1 (unbiased), relative standard deviation
    sqrt(2 / k), and the central ``level`` interval of that law.

    Returns
    -------
    dict
        ``k``, ``relative_sd``, ``level`` and ``ratio_interval``: (lo, hi) with
        P(lo <= estimate / exact <= hi) = level for each row; equivalently the
        exact leverage lies in [estimate / hi, estimate / lo] with that probability.

    Examples
    --------
    >>> from skinfluence._randomized import jl_accuracy
    >>> acc = jl_accuracy(128)
    >>> round(acc["relative_sd"], 3), [round(v, 2) for v in acc["ratio_interval"]]
    (0.125, [0.77, 1.26])
    """
    from scipy.stats import chi2

    k = check_positive_int(k, "k")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}.")
    lo, hi = chi2.ppf([(1 - level) / 2, (1 + level) / 2], k) / k
    return {"k": k, "relative_sd": math.sqrt(2.0 / k), "level": float(level),
            "ratio_interval": (float(lo), float(hi))}


def jl_leverage(objective, *, k=JL_DEFAULT_K, tol=1e-3, max_iter=None, random_state=None,
                damping=0.0, backend=None, return_info=False):
    """Unbiased leverage with a stated accuracy, without any dense P x P or n x n matrix.

    With A = [W^1/2 Xt; diag(pen + damping)^1/2] (so that A'A = H, the penalized
    Fisher Hessian), the leverage is h_i = w_i xt_i' H^-1 xt_i = ||A H^-1 a_i||^2
    with a_i = w_i^1/2 xt_i. A Gaussian sketch Pi (k x (n + P)) of the rows of
    A gives the Johnson-Lindenstrauss estimate

        h_i ~ w_i ||Y' xt_i||^2 / k,   Y = H^-1 A' Pi'   (P x k),

    i.e. k right-hand sides of conjugate gradients on Hessian-vector products
    (Jacobi preconditioned; one pass over X per iteration for all k together)
    and one more pass over X for the row norms. For an exact solve, estimate /
    h_i ~ chi^2_k / k for every row: unbiased, relative standard deviation
    sqrt(2 / k) (0.125 for the default k = 128; 95% of rows within about
    -23% / +26%), see :func:`jl_accuracy`. The CG tolerance adds a relative error
    of about ``tol`` per row (measured at most 1.5 x tol against an exact solve;
    ``benchmarks/RESULTS.md``, issue 11), negligible against sqrt(2 / k).

    Time O(iterations * nnz(X) * k), memory O(P k + chunk * k): for sparse X
    with 10^5 features, where neither the P x P Hessian nor the n x n kernel
    fits, and where :func:`randomized_leverage` (which factors a d x d sketch)
    does not apply.

    Parameters
    ----------
    objective : LinearObjective
        A single-output fitted objective, e.g. ``skinfluence.influence(est, X,
        y).objective``.
    k : int, default=128
        Gaussian right-hand sides (relative standard deviation sqrt(2 / k)).
    tol : float, default=1e-3
        Relative residual at which CG stops.
    max_iter : int, default=None
        CG iteration cap (see :class:`skinfluence._solvers.CGSolver`); a
        ConvergenceWarning says when it is reached.
    random_state : int, RandomState instance or None, default=None
    damping : float, default=0.0
        Added to the Hessian's diagonal (as :class:`skinfluence.Influence` does).
    backend : str, default=None
    return_info : bool, default=False
        Also return a dict: :func:`jl_accuracy`'s keys plus ``cg_iterations``,
        ``cg_residual`` and ``hessian_vector_products``.

    Returns
    -------
    leverage : ndarray of shape (n_samples,)
    info : dict
        Only when ``return_info``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, skinfluence
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skinfluence.sketch import jl_leverage
    >>> X = sp.random(2000, 300, density=0.03, format="csr", random_state=0)
    >>> y = (np.asarray(X.sum(axis=1)).ravel() > 4.5).astype(int)
    >>> inf = skinfluence.influence(LogisticRegression(tol=1e-8).fit(X, y), X, y)
    >>> h, info = jl_leverage(inf.objective, k=200, random_state=0, return_info=True)
    >>> round(info["relative_sd"], 2)
    0.1
    >>> bool(abs(np.median(h / inf.leverage) - 1) < 0.05)
    True
    """
    from ._solvers import CGSolver, HessianOperator

    require_single_output(objective, "jl_leverage")
    k = check_positive_int(k, "k")
    damping = check_damping(damping)
    be = get_backend(backend)
    rng = check_random_state(random_state)
    X, fi, d = objective.X, objective.fit_intercept, objective.p_
    w, _ = fisher_weights(objective, backend=be)
    sw = np.sqrt(np.clip(w, 0.0, None))
    # A' Pi' = Xt' W^1/2 G1 + diag(pen + damping)^1/2 G2, G1 (n x k) drawn chunk by chunk
    V = np.zeros((d, k))
    for start, stop, Xc in iter_row_chunks(X, 2 * k):
        G = rng.standard_normal((stop - start, k)) * sw[start:stop, None]
        V += be.design_rmatmul(Xc, G, fi)
    V += np.sqrt(objective.pen + damping)[:, None] * rng.standard_normal((d, k))
    op = HessianOperator(objective, be, w[:, None, None], damping=damping)
    cg = CGSolver(op, tol=tol, max_iter=max_iter)
    Y = cg.solve(V)
    Y /= math.sqrt(k)
    h = w * be.row_quadratic(X, [Y], fi)[:, 0, 0]
    over = int(np.count_nonzero(h >= 1.0))
    if over:
        import warnings

        warnings.warn(
            f"{over} row(s) have an estimated leverage >= 1 (the JL estimate's relative "
            f"error is about {math.sqrt(2.0 / k):.2g} per row, so their leverage is close "
            "to 1); 1/(1 - h) diagnostics are not meaningful there. Increase k.",
            UserWarning, stacklevel=2,
        )
    if not return_info:
        return h
    info = jl_accuracy(k)
    info.update(cg_iterations=cg.n_iter_, cg_residual=cg.residual_,
                hessian_vector_products=op.n_vectors)
    return h, info


def choose_leverage_estimator(objective, algorithm="auto"):
    """``"qr"`` (:func:`randomized_leverage`) or ``"jl"`` (:func:`jl_leverage`).

    ``"auto"``: the QR sketch factors a dense d x d matrix, so it is used while
    the P x P Hessian fits the dense budget (:mod:`skinfluence._strategy`);
    beyond it, the JL estimator (no dense P x P matrix).
    """
    from ._strategy import dense_budget_bytes, memory_estimate

    if algorithm not in LEVERAGE_ALGORITHMS:
        raise ValueError(
            f"algorithm must be one of {LEVERAGE_ALGORITHMS}; got {algorithm!r}.")
    if algorithm != "auto":
        return algorithm
    fits = memory_estimate(objective, "primal") <= dense_budget_bytes()
    return "qr" if fits else "jl"
