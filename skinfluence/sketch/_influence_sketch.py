"""Influence sketching (Wojnowicz et al., IEEE BigData 2016, Algorithm 1).

For a fitted single-output model with IRLS weights w_i (sample weights included),
per-row gradients g_i = s_i dloss/deta (from the objective) and a random
projection Omega (p' x k) of the implicit design Xt = [1, X]:

    Z0 = Xt Omega                                  (n x k, row chunks, never stored)
    A  = Z0' diag(w) Z0 + Omega' diag(pen) Omega   (k x k: the Hessian of the model
                                                    restricted to theta = Omega beta)
    C*_i = z0_i' A^-1 z0_i,   h*_i = w_i C*_i      (sketched leverage)
    r_i  = -g_i / sqrt(w_i)                        (Pearson residual for GLMs:
                                                    sqrt(s_i)(y_i - mu_i)/sqrt(V(mu_i)))
    c_i  = r_i^2 h*_i / (1 - h*_i)                 (the paper's score)
    D*_i = r_i^2 h*_i / (phi p (1 - h*_i)^2)       (sketched Cook's distance)

Unpenalized fits: A is the paper's W^-1 = Z'Z with Z = V^1/2 X Omega. Penalized fits
(L2): the penalty is kept, projected as Omega' diag(pen) Omega, so that h*_i is the
exact leverage of the fitted objective restricted to the k-dimensional parameter
subspace range(Omega); with k = p' and a full-rank Omega the sketch equals the
exact penalized leverage and Cook's distance of :class:`skinfluence.Influence`.

D*_i is the exact Cook's distance of :class:`skinfluence.Influence`
(``dfbeta' H dfbeta / (p phi)`` = ``g^2 C / (p phi (1 - h)^2)``) with the sketched
C*_i in place of xt_i' H^-1 xt_i, so rank correlations between the two compare
like with like. p is the number of parameters (unpenalized) or sum(h*) (penalized),
phi is 1 for binomial/Poisson and Pearson chi^2 / (n - p) otherwise. For
Poisson/Gamma/Tweedie regressors with alpha > 0, the exact Cook's distance also
removes row i's share s_i / S of the penalty; the sketch does the same on the
restricted problem.

Because range(Omega) is a subspace, h*_i <= h_i: the sketch ranks rows, it does not
estimate the exact values (see :func:`randomized_leverage` for that).
"""

import time
from functools import partial

import numpy as np
import scipy.sparse as sp

from .._engine import CholeskyFactor
from .._frontdoor import build_objective, subspace_newton_solver
from .._randomized import fisher_weights, require_single_output
from .._result import cooks_distance_formula, dispersion_formula
from ..backends import NumpyBackend, get_backend
from ..exceptions import SingularHessianError
from ..utils._chunks import iter_row_chunks, top_indices
from ..utils._validation import _is_dataframe, check_damping, check_positive_int
from ._projections import _Projection, make_projection

DEFAULT_K = 256
_KEEP_BYTES = 2**30  # Z0 up to 1 GiB is kept between the passes, else recomputed


class InfluenceSketch:
    """Sketched influence scores of a fitted model (result of :func:`influence_sketch`).

    Attributes
    ----------
    score : ndarray of shape (n_samples,)
        The paper's influence score c_i = r_i^2 h*_i / (1 - h*_i).
    cooks_distance : ndarray of shape (n_samples,)
        Sketched Cook's distance (same definition as
        :attr:`skinfluence.Influence.cooks_distance` with the sketched leverage).
    leverage : ndarray of shape (n_samples,)
        Sketched leverage h*_i (a lower bound of the exact leverage).
    residuals : ndarray of shape (n_samples,)
        Re-weighted residuals r_i = -g_i / sqrt(w_i) (Pearson residuals for GLMs).
    k : int
        Number of sketch columns.
    projection : str
    n_params : float
        p used in Cook's distance.
    dispersion : float
        phi used in Cook's distance.
    timings : dict
        Seconds spent in the projection pass, the k x k factorization and the
        leverage pass.

    Notes
    -----
    On a lazy backend (a dask array X) the per-row attributes are lazy dask
    arrays with X's row chunks (write them with ``da.to_zarr``; nothing of
    length n was computed), ``summary_frame`` is a dask DataFrame, the leverage
    pass runs when they are computed (``timings["leverage_pass"]`` is 0), and
    ``n_params``/``dispersion`` are computed when first read; ``top`` computes
    the ranked column.

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.linear_model import LinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 20)); y = X[:, 0] + rng.normal(size=200)
    >>> y[5] += 15                                        # a gross outlier
    >>> sk = LinearRegression().fit(X, y).influence_sketch(k=10, random_state=0)
    >>> int(sk.top(1)[0])
    5
    """

    def __init__(self, *, score, cooks_distance, leverage, residuals, k, projection,
                 n_params, dispersion, timings=None, index=None, backend=None):
        self.score = score
        self.cooks_distance = cooks_distance
        self.leverage = leverage
        self.residuals = residuals
        self.k = k
        self.projection = projection
        self._n_params = n_params
        self._dispersion = dispersion
        self.timings = timings or {}
        self.index = index
        self._backend = backend

    @property
    def n_params(self):
        """p used in Cook's distance, a float (on a lazy backend, computed when first read)."""
        self._n_params = float(self._n_params)
        return self._n_params

    @property
    def dispersion(self):
        """phi used in Cook's distance, a float (on a lazy backend, computed when first read)."""
        self._dispersion = float(self._dispersion)
        return self._dispersion

    def __repr__(self):
        return (
            f"<InfluenceSketch: n_samples={self.score.shape[0]}, k={self.k}, "
            f"projection={self.projection!r}>"
        )

    def top(self, n=10, by="score"):
        """Positions of the ``n`` rows with the largest ``by`` (default: ``score``).

        Examples
        --------
        >>> import numpy as np
        >>> from skinfluence.linear_model import LinearRegression
        >>> X = np.random.default_rng(0).normal(size=(20, 2)); y = X[:, 0] * 2; y[3] += 30
        >>> LinearRegression().fit(X, y).influence_sketch(k=2, random_state=0).top(1).tolist()
        [3]
        """
        values = np.asarray(getattr(self, by))
        if values.ndim != 1:
            raise ValueError(f"{by!r} is not a per-row quantity.")
        return top_indices(values, n)

    def summary_frame(self):
        """``score``, ``cooks_d``, ``hat`` and ``resid`` as a pandas DataFrame.

        Examples
        --------
        >>> import numpy as np
        >>> from skinfluence.linear_model import LinearRegression
        >>> X = np.random.default_rng(0).normal(size=(20, 2)); y = np.sin(X[:, 0])
        >>> LinearRegression().fit(X, y).influence_sketch(k=2, random_state=0).summary_frame().shape
        (20, 4)
        """
        data = {"score": self.score, "cooks_d": self.cooks_distance,
                "hat_diag": self.leverage, "resid": self.residuals}
        if self._backend is not None:  # e.g. a lazy dask DataFrame on the dask backend
            return self._backend.to_frame(data, index=self.index)
        import pandas as pd

        return pd.DataFrame(data, index=self.index)


def _nbytes(Z):
    if sp.issparse(Z):
        return Z.data.nbytes + Z.indices.nbytes + Z.indptr.nbytes
    return Z.nbytes


def _sketched_C(objective, proj, w, backend, damping=0.0):
    """C*_i = z0_i' A^-1 z0_i with A of the module docstring.

    Returns (C, t, q, timings); for objectives with a penalty share (mean-form
    GLM regressors) also t_i = z0_i . u and q = u . b with b = Omega' pen theta,
    u = A^-1 b (the restricted problem's penalty terms, as in the engine).
    """
    X = objective.X
    n = X.shape[0]
    k = proj.k
    t0 = time.perf_counter()
    if backend.lazy:
        return _sketched_C_lazy(objective, proj, w, backend, damping)
    A = np.zeros((k, k))
    # keep Z0 between the two passes while it is small (one projection pass)
    kept, kept_bytes = [], 0
    for start, stop, Xc in iter_row_chunks(X, proj.width):
        Z = proj.apply(Xc, backend)
        A += backend.weighted_gram(Z, w[start:stop], fit_intercept=False)
        if kept is not None:
            kept_bytes += _nbytes(Z)
            kept.append(Z)
            if kept_bytes > _KEEP_BYTES and stop < n:
                kept = None
    keep = kept is not None
    if objective.is_penalized:
        A += proj.penalty_gram(objective.pen)
    t1 = time.perf_counter()
    factor = _sketch_factor(A, backend, damping, k)
    M = factor.whitening
    shared = objective.share is not None and objective.is_penalized
    u = t = q = None
    if shared:
        b = np.asarray(proj.omega.T @ objective.penalty_gradient()).ravel()
        u = factor.solve(b)
        q = float(u @ b)
        t = np.empty(n)
    t2 = time.perf_counter()
    C = np.empty(n)
    chunks = kept if keep else (proj.apply(Xc, backend) for _, _, Xc in iter_row_chunks(X, proj.width))
    start = 0
    for Z in chunks:
        stop = start + Z.shape[0]
        C[start:stop] = backend.row_quadratic(Z, [M], fit_intercept=False)[:, 0, 0]
        if shared:
            t[start:stop] = Z @ u
        start = stop
    t3 = time.perf_counter()
    timings = {"projection_pass": t1 - t0, "factor": t2 - t1, "leverage_pass": t3 - t2}
    return C, t, q, timings


def _sketch_factor(A, backend, damping, k):
    try:
        return CholeskyFactor(A, backend=backend, damping=damping)
    except SingularHessianError as exc:
        raise SingularHessianError(
            f"The sketched Gram matrix Z'Z (k={k}) is singular: the projected design "
            "has fewer than k independent columns (k larger than the rank of the "
            "weighted design, empty or constant columns, or a sparse X whose "
            "non-zeros miss some sketch columns). Use a smaller k, another "
            "projection, or pass damping > 0."
        ) from exc


# -- row-block functions of a lazy backend (module level: picklable) ------------------
_DESIGN = NumpyBackend()  # what each row block (a NumPy array) is reduced with


def _gram_block(Xb, wb, proj):
    return _DESIGN.weighted_gram(proj.apply(Xb), wb, fit_intercept=False)


def _quadratic_block(Xb, proj, M):
    return _DESIGN.row_quadratic(proj.apply(Xb), [M], fit_intercept=False)[:, 0, 0]


def _project_block(Xb, proj, u):
    return proj.apply(Xb) @ u


def _hessian_block(Xb, wb, proj):
    Z = proj.apply(Xb)
    Z = Z.toarray() if sp.issparse(Z) else Z
    return _DESIGN.design_rmatmul(Xb, wb[:, None] * Z, proj.fit_intercept)


def _sketched_C_lazy(objective, proj, w, backend, damping=0.0):
    """:func:`_sketched_C` for a lazy backend (e.g. dask): the k x k Gram matrix as
    a reduction over row blocks (a tree reduction on dask), C and t as lazy
    per-row arrays with X's row blocks (nothing of length n is computed)."""
    X, k = objective.X, proj.k
    t0 = time.perf_counter()
    A = backend.row_reduce(partial(_gram_block, proj=proj), X, w, shape=(k, k),
                           width=proj.width)
    if objective.is_penalized:
        A += proj.penalty_gram(objective.pen)
    t1 = time.perf_counter()
    factor = _sketch_factor(A, backend, damping, k)
    M = np.asarray(factor.whitening)
    C = backend.row_map(partial(_quadratic_block, proj=proj, M=M), X, width=proj.width)
    t = q = None
    if objective.share is not None and objective.is_penalized:
        b = np.asarray(proj.omega.T @ objective.penalty_gradient()).ravel()
        u = factor.solve(b)
        q = float(u @ b)
        t = backend.row_map(partial(_project_block, proj=proj, u=u), X, width=proj.width)
    t2 = time.perf_counter()
    # the leverage pass is lazy: it runs when the results are computed
    return C, t, q, {"projection_pass": t1 - t0, "factor": t2 - t1, "leverage_pass": 0.0}


def _power_iterate(objective, proj, w, backend, n_iter, damping=0.0):
    """Randomized range finder: Omega <- orth(H Omega), ``n_iter`` times.

    H = Xt' diag(w) Xt + diag(pen) + damping I (the Fisher Hessian of the
    objective) is applied matrix-free (one pass over X per iteration), and each
    product is orthonormalized (QR), as in Halko, Martinsson & Tropp (2011,
    Algorithm 4.4). The sketch then restricts theta to (an approximation of) the
    span of H's top k eigenvectors, which carry most of the leverage when the
    spectrum decays, instead of a random k-dimensional subspace.
    """
    from ._projections import _Projection

    X, fi = objective.X, objective.fit_intercept
    pen = objective.pen + damping
    for _ in range(n_iter):
        Om = proj.dense_omega
        Y = pen[:, None] * Om
        if backend.lazy:  # one reduction over the row blocks (a tree on dask)
            Y += backend.row_reduce(partial(_hessian_block, proj=proj), X, w, shape=Y.shape,
                                    width=proj.width + X.shape[1])
        for start, stop, Xc in () if backend.lazy else iter_row_chunks(X, proj.width + X.shape[1]):
            Z = proj.apply(Xc, backend)
            Z = Z.toarray() if sp.issparse(Z) else np.asarray(Z)
            Y += backend.design_rmatmul(Xc, w[start:stop, None] * Z, fi)
        Q, _ = np.linalg.qr(Y)
        proj = _Projection(Q, fi)
    return proj


def _hat_subspace(objective, k, w, backend, random_state, damping=0.0):
    """Omega = H^-1 Xt' W^1/2 Psi (Psi: n x k Gaussian), by conjugate gradients.

    Then Z Omega = W^1/2 Xt H^-1 Xt' W^1/2 Psi is the hat matrix applied to k
    Gaussian vectors: a random k-dimensional subspace of the column space of the
    weighted design, not tilted towards its top singular directions as Xt Omega
    is for a data-independent Omega. Rows whose leverage lies in weak directions
    are no longer underestimated (rank correlation with the exact Cook's distance
    rises at the same k). Costs k right-hand sides of CG (a few dozen passes over
    X with k columns); the solve need not be exact (any Omega gives a valid
    restricted problem), so it runs to a relative residual of 1e-4.
    """
    import warnings

    from .._solvers import CGSolver, HessianOperator
    from ..exceptions import ConvergenceWarning
    from ._projections import _Projection

    rng = np.random.default_rng(random_state if not hasattr(random_state, "randint")
                                else random_state.randint(2**31))
    X, fi = objective.X, objective.fit_intercept
    n = X.shape[0]
    Psi = rng.standard_normal((n, k)) * np.sqrt(w)[:, None]
    V = backend.design_rmatmul(X, Psi, fi)
    op = HessianOperator(objective, backend, w[:, None, None], damping=damping)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Om = CGSolver(op, tol=1e-4, max_iter=200).solve(V)
    Q, _ = np.linalg.qr(Om)  # scale-free: the restricted leverage only sees range(Omega)
    return _Projection(Q, fi)


def sketch_objective(objective, k=None, projection="sparse", random_state=None,
                     damping=0.0, backend=None, index=None, power_iterations=0,
                     subspace="random"):
    """Influence sketch of a :class:`~skinfluence._model.LinearObjective`.

    Same as :func:`influence_sketch` for an objective already built (e.g.
    ``skinfluence.influence(est, X, y).objective``).

    Parameters
    ----------
    objective : LinearObjective
    k, projection, random_state, damping, backend
        See :func:`influence_sketch`.
    index : pandas.Index, default=None
        Row labels for :meth:`InfluenceSketch.summary_frame`.
    power_iterations, subspace : see :func:`influence_sketch`.

    Returns
    -------
    InfluenceSketch

    Examples
    --------
    >>> import numpy as np, skinfluence
    >>> from sklearn.linear_model import PoissonRegressor
    >>> from skinfluence.sketch import sketch_objective
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 5)); y = rng.poisson(np.exp(0.3 * X[:, 0]))
    >>> obj = skinfluence.influence(PoissonRegressor().fit(X, y), X, y).objective
    >>> sketch_objective(obj, k=6, projection="gaussian", random_state=0).leverage.shape
    (100,)
    """
    require_single_output(objective, "influence_sketch")
    n_columns = objective.p_
    if k is None:
        k = min(DEFAULT_K, n_columns)
    k = check_positive_int(
        k, "k", upper=n_columns,
        upper_what="the number of design columns (n_features + fit_intercept)",
    )
    if not isinstance(projection, str):
        raise ValueError(f"projection must be a string; got {projection!r}.")
    damping = check_damping(damping)
    if (isinstance(power_iterations, (bool, np.bool_))
            or not isinstance(power_iterations, (int, np.integer)) or power_iterations < 0):
        raise ValueError(f"power_iterations must be an integer >= 0; got {power_iterations!r}.")
    be = get_backend(backend)
    proj = make_projection(projection, n_columns, k, objective.fit_intercept, random_state)
    if k == n_columns:
        # a full-rank Omega spans everything: the sketch is the exact diagnostics.
        # The identity makes that hold for every projection (a k = p' CountSketch
        # or SRHT can be rank deficient by chance).
        proj = _Projection(sp.identity(n_columns, format="csr"), objective.fit_intercept)
    w, g = fisher_weights(objective, backend=be)
    if subspace not in ("random", "hat"):
        raise ValueError(f"subspace must be 'random' or 'hat'; got {subspace!r}.")
    if subspace == "hat" and be.lazy:
        raise ValueError(
            f"subspace='hat' is not available on the {be.name!r} backend (it draws an "
            "n x k Gaussian matrix on the client); use subspace='random', with "
            "power_iterations to sharpen it."
        )
    t0 = time.perf_counter()
    if subspace == "hat":
        proj = _hat_subspace(objective, k, w, be, random_state, damping)
    if power_iterations:
        proj = _power_iterate(objective, proj, w, be, power_iterations, damping)
    t_subspace = time.perf_counter() - t0
    C, t, q, timings = _sketched_C(objective, proj, w, be, damping=damping)
    if power_iterations or subspace != "random":
        timings = {"subspace": t_subspace, **timings}
    h = w * C
    one_minus_h = np.clip(1.0 - h, np.finfo(float).tiny, None)
    pos = w > 0
    # np.where, not a masked assignment: stays lazy on a lazy backend
    r = np.where(pos, -g / np.sqrt(np.where(pos, w, 1.0)), 0.0)
    score = r**2 * h / one_minus_h
    n_obs = int(np.count_nonzero(objective.sample_weight > 0))
    if objective.is_penalized or damping:
        p = h.sum()  # lazy on a lazy backend unless n - p must be checked (n <= k)
        p = p if be.lazy and n_obs > k else float(p)
    else:
        p = float(objective.n_params)
    if objective.loss.has_variance:
        phi = dispersion_formula(objective, r**2, n_obs - p, lazy=be.lazy)
    else:
        phi = 1.0
    if t is None:
        cooks = cooks_distance_formula(r**2, h, p, phi)
    else:  # the engine's loo_param_norm on the restricted problem
        share = objective.share
        v = (g + share * w * t) / one_minus_h
        norm = v**2 * C + 2 * share * v * t + share**2 * q
        cooks = norm / (p * phi)
    return InfluenceSketch(
        score=score, cooks_distance=cooks, leverage=h, residuals=r, k=k,
        projection=projection, n_params=p, dispersion=phi, timings=timings, index=index,
        backend=be,
    )


def influence_sketch(estimator, X, y, sample_weight=None, *, k=None, projection="sparse",
                     random_state=None, damping=0.0, backend=None, power_iterations=0,
                     subspace="random", fit_check="auto", **adapter_options):
    """Influence sketching (Wojnowicz et al. 2016): influential rows of huge fits.

    Projects the IRLS-weighted design onto ``k`` random directions, inverts the
    k x k Gram matrix, and scores every row with the sketched leverage h*_i, the
    paper's c_i = r_i^2 h*_i / (1 - h*_i) and a sketched Cook's distance. X may be
    dense or CSR (never densified); memory is O(nnz(X) + p k + chunk * k), time
    O(nnz(X) k) for ``"sparse"``/``"countsketch"`` plus O(n k^2).

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
        A supported single-output linear model (regression GLMs, binary logistic
        regression incl. the L1 active set, binary SVMs), or a Pipeline ending in one.
    X : array-like or sparse CSR matrix of shape (n_samples, n_features)
        Other sparse formats are converted to CSR with a warning.
    y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None
    k : int, default=None
        Sketch columns, 1 <= k <= n_features + fit_intercept; None: min(256, that).
    projection : {"sparse", "gaussian", "countsketch", "srht"}, default="sparse"
        ``"sparse"``: sparse sign (density 1/sqrt(p)); ``"gaussian"``: dense
        Gaussian; ``"countsketch"``: one +-1 per feature (fastest, O(nnz));
        ``"srht"``: subsampled randomized DCT (fast transform on dense X).
    random_state : int, RandomState instance or None, default=None
        Seeds Omega; an int makes the scores reproducible.
    damping : float, default=0.0
        Added to the k x k matrix's diagonal before factoring.
    backend : str, default=None
    power_iterations : int, default=0
        Sharpen the subspace with this many power iterations of a randomized
        range finder (Halko, Martinsson & Tropp 2011): Omega <- orth(H Omega)
        with H the model's Hessian, applied matrix-free. Each iteration costs one
        more pass over X (plus a p' x k QR and a dense p' x k Omega). It helps
        when fewer than k directions carry the leverage (a strong penalty, a
        fast-decaying spectrum); with a mildly decaying spectrum it tilts the
        subspace further towards the top directions and ranks rows *worse*
        (``benchmarks/RESULTS.md``, issue 11): prefer ``subspace="hat"`` there.
    subspace : {"random", "hat"}, default="random"
        ``"random"``: theta restricted to range(Omega) (Wojnowicz et al.);
        ``"hat"``: Omega = H^-1 Xt' W^1/2 Psi for a Gaussian n x k Psi (computed
        by conjugate gradients with k right-hand sides, relative residual 1e-4),
        so that the sketch spans a random subspace of the weighted design's
        column space (the hat matrix applied to random vectors) instead of one
        tilted towards its top singular directions: better ranking at the same
        k on mildly decaying spectra, at the cost of the CG passes. The
        ``projection`` is then not used.
    fit_check : {"auto", "warn", "raise", "off"}, default="auto"
        As for :func:`skinfluence.influence` (no ``"polish"``: the Hessian is
        never formed). The check takes one Newton step restricted to a small
        Gaussian sketch of the parameter space (a lower bound of the distance
        to the optimum) plus the degenerate-fit checks.
    **adapter_options
        Options the estimator's adapter declares (e.g. ``temperature``).

    Returns
    -------
    InfluenceSketch

    Raises
    ------
    ValueError
        For k out of range, an unknown projection, NaN/inf or shape mismatches.
    skinfluence.exceptions.UnsupportedEstimatorError
        For unsupported estimators and multinomial models.
    skinfluence.exceptions.SingularHessianError
        When the sketched Gram matrix is singular (k above the design's rank).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skinfluence.sketch import influence_sketch
    >>> X = sp.random(500, 200, density=0.05, format="csr", random_state=0)
    >>> y = (np.asarray(X.sum(axis=1)).ravel() > 5).astype(int)
    >>> est = LogisticRegression(C=10).fit(X, y)
    >>> sk = influence_sketch(est, X, y, k=32, random_state=0)
    >>> sk.score.shape, sk.k
    ((500,), 32)
    """
    if fit_check == "polish":
        raise ValueError("fit_check='polish' needs the Hessian; influence_sketch never forms it.")
    index = X.index if _is_dataframe(X) else None
    objective, prep = build_objective(
        estimator, X, y, sample_weight, backend=backend, fit_check=fit_check,
        what="influence_sketch", solve=subspace_newton_solver(backend),
        **adapter_options,
    )
    return sketch_objective(
        objective, k=k, projection=projection, random_state=random_state,
        damping=damping, backend=prep.backend, index=index,
        power_iterations=power_iterations, subspace=subspace,
    )
