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


def use_sketched_leverage(influence, **options):
    """Make an :class:`skinfluence.Influence` run on randomized leverage.

    Replaces the engine's cached C_i = xt_i' H^-1 xt_i (single-output models) by
    h_i / w_i from :func:`randomized_leverage`, so that ``leverage``,
    ``cooks_distance``, the studentized residuals, ``dffits``, ``cov_ratio`` and
    the flags use the sketched leverage. ``dfbeta``/``dfbetas`` still use the
    exact factor of H (they need H^-1 anyway), with the sketched h in their
    1/(1 - h) correction. Call it before accessing any attribute.

    Parameters
    ----------
    influence : skinfluence.Influence
    **options
        Passed to :func:`randomized_leverage`.

    Returns
    -------
    influence : the same object

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
    h, R = randomized_leverage(objective, backend=engine.backend, damping=engine.damping,
                               return_factor=True, **options)
    influence._sketch_factor = R
    w = engine.B("fisher")[:, 0, 0]
    C = np.where(w > 0, h / np.where(w > 0, w, 1.0), 0.0)  # lazy on a lazy backend
    engine._cache[("C", engine._key("fisher"))] = C[:, None, None]
    influence.leverage_method = "sketch"
    return influence
