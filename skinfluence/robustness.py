"""Is this conclusion robust? Each row's pull on the chosen penalty; data-dropping robustness.

* :func:`penalty_influence`: the penalty an :class:`~skinfluence.model_selection.ALOSearchCV`
  would choose with each row left out (Hellton, Lingjaerde & De Bin's question for
  ridge regression, extended to GLMs by approximate leave-one-out).
* :func:`dropping_robustness`: the smallest set of rows whose removal flips the sign
  or the significance of a coefficient (or a prediction), or moves it by a given
  amount (Broderick, Giordano & Meager 2020, "Approximate Maximum Influence
  Perturbation"; zaminfluence), with influence recomputed after each removal so that
  rows that mask each other are found (Huang, Burt, Shen, Nguyen & Broderick 2024),
  and every answer verified by an actual refit.
* :func:`cov_params`: the classical covariance phi H^-1 of unpenalized fits
  (statsmodels' ``cov_params()``/``bse`` for OLS and GLMs).
"""

import numpy as np
import scipy.sparse as sp
from scipy import stats
from scipy.special import xlogy
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid
from sklearn.utils.validation import check_is_fitted

from ._frontdoor import influence, own_fit_influence, prepare
from .validation import _tight_params, _warm_fit

__all__ = ["cov_params", "dropping_robustness", "penalty_influence"]

_PAIR_BYTES = 64 * 2**20  # memory of the (rows x n) pair blocks of penalty_influence
_GREEDY_ROWS = 10  # dropping_robustness: one row per refresh when at most this many are needed
_PRUNE_ROWS = 50   # ...and try to put back each row of a set up to this size


# -- covariance of the parameters ---------------------------------------------------------
def cov_params(inf):
    """Covariance of the fitted parameters, phi H^-1 (statsmodels' ``cov_params()``).

    For unpenalized fits: ordinary least squares (phi = RSS / (n - p)) and GLMs
    (phi = 1 for binomial and Poisson, Pearson chi^2 / (n - p) otherwise), with H
    the Fisher information ``X' W X``; the square roots of its diagonal equal
    statsmodels' ``OLS(...).fit().bse`` and ``GLM(...).fit().bse``.

    Penalized fits are refused: phi H^-1 with H including the penalty is neither
    the sampling covariance of a biased ridge estimate nor a Bayesian posterior
    covariance without further assumptions, so a t-statistic built from it would
    be silently wrong. Multinomial and SVM models are refused too (their
    parameters are not identified as statsmodels' are, or there is no likelihood).

    Parameters
    ----------
    inf : Influence

    Returns
    -------
    ndarray of shape (n_params, n_params)
        Rows and columns as ``inf.param_names``.

    Raises
    ------
    AttributeError
        For penalized, damped, multi-output or non-likelihood fits.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> import skinfluence
    >>> from skinfluence.robustness import cov_params
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 2)); y = X @ [1.0, -1.0] + rng.normal(size=30)
    >>> inf = skinfluence.influence(LinearRegression().fit(X, y), X, y)
    >>> bse = np.sqrt(np.diag(cov_params(inf)))
    >>> import statsmodels.api as sm
    >>> bool(np.allclose(bse, sm.OLS(y, sm.add_constant(X)).fit().bse))
    True
    """
    return inf.cov_params()


# -- per-row criteria of a grid search ------------------------------------------------------
def _row_criterion(scoring, objective):
    """f(eta, y) -> per-row contribution (greater is better) whose mean ranks the grid
    as ``scoring`` does, or ValueError for a scorer that is not a mean over rows."""
    loss = objective.loss
    classes = objective.classes
    if objective.n_outputs != 1:
        raise ValueError(
            "penalty_influence supports single-output models (regression, binary "
            "classification); this model has several outputs (multinomial)."
        )
    if scoring is None:
        scoring = "accuracy" if classes is not None else "_own"

    def mean(eta):
        return loss.mean(eta)

    def sign_label(y):  # 0/1 codes of the positive class (SVM codes y as -1/+1)
        return (y > 0).astype(float)

    table = {
        "accuracy": lambda eta, y: ((eta > 0) == (y > 0)).astype(float),
        "neg_log_loss": lambda eta, y: -loss.loss(y, eta),
        "neg_brier_score": lambda eta, y: -(mean(eta) - sign_label(y)) ** 2,
        "neg_mean_squared_error": lambda eta, y: -(y - mean(eta)) ** 2,
        "neg_root_mean_squared_error": lambda eta, y: -(y - mean(eta)) ** 2,
        "r2": lambda eta, y: -(y - mean(eta)) ** 2,  # R^2 = 1 - SSE / TSS: same ranking
        "neg_mean_absolute_error": lambda eta, y: -np.abs(y - mean(eta)),
        "neg_mean_poisson_deviance": lambda eta, y: -2 * (
            xlogy(y, y / mean(eta)) - y + mean(eta)),
        "neg_mean_gamma_deviance": lambda eta, y: -2 * (
            np.log(mean(eta) / y) + y / mean(eta) - 1),
        "_own": lambda eta, y: -loss.loss(y, eta),  # R^2 / D^2: the model's deviance
    }
    if not isinstance(scoring, str) or scoring not in table:
        raise ValueError(
            "penalty_influence needs a scoring that is a mean over rows, one of "
            f"{sorted(k for k in table if not k.startswith('_'))} or None; got {scoring!r}."
        )
    if scoring in ("neg_log_loss", "neg_brier_score") and not loss.is_probabilistic:
        raise ValueError(f"scoring={scoring!r} needs a probabilistic classifier.")
    return table[scoring]


def _grid_path(search):
    check_is_fitted(search, "cv_results_")
    params = list(ParameterGrid(search.param_grid))
    varying = sorted({k for p in params for k in p if len({repr(q.get(k)) for q in params}) > 1})
    if len(varying) != 1:
        raise ValueError(
            "penalty_influence needs a search over exactly one parameter (the penalty); "
            f"this grid varies {varying or 'nothing'}."
        )
    return params, varying[0]


def _pair_loo_criterion(inf, crit, chunk_rows=None):
    """(full, without) for one fit: full = mean_j f(eta_(-j),j) (ALO criterion) and
    without[i] = mean_{j != i} f(eta_(-i,-j),j), the criterion recomputed on the data
    without row i (leave-two-out linear predictors, one Newton step from theta with
    the Hessian without rows i and j: exact for least squares and Ridge)."""
    obj, eng = inf.objective, inf.engine
    n = obj.n_samples
    y = obj.y
    eta = obj.linear_predictor(backend=eng.backend)[:, 0]
    eta_loo = inf.loo_decision_function()
    f_loo = crit(eta_loo, y)
    M = eng.factor("observed").whitening                     # H^-1 = M M'
    Z = eng.backend.design_matmul(obj.X, M, obj.fit_intercept)  # rows xt_i' M, (n, P)
    c = eng.C("observed")[:, 0, 0]
    b = eng.B("observed")[:, 0, 0]
    g = eng.g()[:, 0]
    share = obj.share if (obj.share is not None and obj.is_penalized) else None
    t = eng.penalty_terms("observed")[1][:, 0] if share is not None else None
    without = np.empty(n)
    one_b_c = 1.0 - b * c
    step = max(1, int(_PAIR_BYTES // (8 * 12 * n)))  # ~12 (m, n) temporaries per chunk
    for start in range(0, n, step):
        stop = min(n, start + step)
        Cij = Z[start:stop] @ Z.T                                       # (m, n): xt_i' H^-1 xt_j
        i = np.arange(start, stop)
        bi, gi = b[i, None], g[i, None]
        det = one_b_c[i, None] * one_b_c[None, :] - bi * b[None, :] * Cij**2
        ri, rj = gi, g[None, :]
        if share is not None:
            sigma = share[i, None] + share[None, :]
            ri = ri + sigma * bi * t[i, None]
            rj = rj + sigma * b[None, :] * t[None, :]
        ui = (one_b_c[None, :] * ri + bi * Cij * rj) / det
        uj = (b[None, :] * Cij * ri + one_b_c[i, None] * rj) / det
        d = Cij * ui + c[None, :] * uj
        if share is not None:
            d = d + sigma * t[None, :]
        with np.errstate(all="ignore"):
            F = crit(eta[None, :] + d, np.broadcast_to(y, d.shape))
        F[np.arange(stop - start), i] = 0.0                   # j = i is not scored
        without[start:stop] = F.sum(axis=1) / (n - 1)
    return float(np.mean(f_loo)), without


def penalty_influence(search, X, y, sample_weight=None, *, plot=False, ax=None, n_labels=5):
    """The penalty a fitted :class:`ALOSearchCV` would choose with each row left out.

    Hellton, Lingjaerde & De Bin ("Influence of single observations on the choice
    of the penalty parameter in ridge regression") showed that one row can move a
    tuned penalty a lot. For each row i and each grid value, the search criterion
    is recomputed on the data without row i: the mean over the other rows j of the
    per-row score at j's leave-one-out prediction *on the data without i*, i.e. at
    the leave-two-out linear predictor eta_(-i,-j),j. From the one factor of H at
    each grid value, with C_ij = xt_i' H^-1 xt_j, B the curvature weights and g the
    gradients, the pair update is (K = 1)

        eta_(-i,-j),j - eta_j = [C_S (I - B_S C_S)^-1 g_S]_j,   S = {i, j},

    a 2 x 2 Woodbury step: **exact for least squares and Ridge**, one Newton step
    with the Hessian without rows i and j for GLMs and the smoothed-hinge SVM (the
    ALO approximation of the criterion, applied to the data without i). Rows j are
    processed in chunks against all rows i (O(n^2 p) time per grid value, O(n p)
    memory). What is not captured: a Pipeline's transformers are held fixed (not
    refitted without row i), and for L1 fits the active set is held fixed.

    Parameters
    ----------
    search : fitted ALOSearchCV
        Over exactly one parameter (``C``, ``alpha``, ``step__C``...), with a
        scoring that is a mean over rows: ``neg_log_loss``, ``accuracy``,
        ``neg_brier_score``, ``neg_mean_squared_error`` (and ``r2``, which ranks
        as it does), ``neg_mean_absolute_error``, ``neg_mean_poisson_deviance``,
        ``neg_mean_gamma_deviance``, or None (R^2 / D^2 rank as the model's own
        deviance).
    X, y : the data the search was fitted on
    sample_weight : array-like of shape (n_samples,), default=None
    plot : bool, default=False
        Draw the tuning curve and the curves without the ``n_labels`` most
        influential rows (needs matplotlib).
    ax : matplotlib Axes, default=None
    n_labels : int, default=5

    Returns
    -------
    pandas.DataFrame indexed like X
        ``<param>``: the value chosen without the row; ``grid_shift``: how many
        grid steps it moved from the chosen value (signed); ``log10_ratio``:
        log10(value without the row / chosen value) (NaN for non-positive
        values); ``criterion_drop``: how much the chosen value's criterion falls
        when the row is left out relative to the best value without it (>= 0).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> from skinfluence.model_selection import ALOSearchCV
    >>> from skinfluence.robustness import penalty_influence
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> search = ALOSearchCV(Ridge(), {"alpha": np.logspace(-3, 2, 11)},
    ...                      scoring="neg_mean_squared_error").fit(X, y)
    >>> frame = penalty_influence(search, X, y)
    >>> frame.shape
    (442, 4)
    >>> int((frame["grid_shift"] != 0).sum())      # rows whose removal moves alpha
    11
    """
    import pandas as pd

    params, name = _grid_path(search)
    values = [p[name] for p in params]
    options = dict(search.influence_options or {})
    work = search._path_estimator()
    fit_kwargs = search._fit_kwargs(sample_weight)
    full, without = [], []
    crit = None
    for p in params:
        work.set_params(**p).fit(X, y, **fit_kwargs)
        inf = own_fit_influence(work, X, y, sample_weight, **options)
        if crit is None:
            crit = _row_criterion(search.scoring, inf.objective)
        f, w = _pair_loo_criterion(inf, crit)
        full.append(f)
        without.append(w)
    full = np.asarray(full)
    W = np.column_stack(without)                                # (n, G)
    filled = np.where(np.isfinite(W), W, -np.inf)
    best = int(np.argmax(full))
    best_i = np.argmax(filled, axis=1)
    chosen = np.asarray(values, dtype=object)[best_i]
    with np.errstate(all="ignore"):
        num = np.asarray(values, dtype=float)
        ratio = np.where((num[best_i] > 0) & (num[best] > 0),
                         np.log10(num[best_i] / num[best]), np.nan)
    index = getattr(X, "index", None)
    frame = pd.DataFrame({
        name: pd.Series(chosen, index=index).infer_objects(),
        "grid_shift": best_i - best,
        "log10_ratio": ratio,
        "criterion_drop": filled[np.arange(len(best_i)), best_i] - filled[:, best],
    }, index=index)
    if plot:
        _plot_penalty_curves(values, full, W, frame, name, ax, n_labels)
    return frame


def _plot_penalty_curves(values, full, W, frame, name, ax, n_labels):
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover
        raise ImportError('plot needs matplotlib: pip install "skinfluence[plot]"') from exc
    if ax is None:
        _, ax = plt.subplots()
    x = np.asarray(values, dtype=float)
    order = np.lexsort((-frame["criterion_drop"].to_numpy(),
                        -np.abs(frame["grid_shift"].to_numpy())))[:n_labels]
    ax.plot(x, full, "k-o", ms=3, label="ALO criterion (all rows)")
    ax.axvline(x[int(np.argmax(full))], color="k", ls=":", lw=1)
    names = frame.index
    for i in order:
        curve = W[i]
        line, = ax.plot(x, curve, lw=1, alpha=0.8, label=f"without row {names[i]}")
        k = int(np.nanargmax(W[i]))
        ax.plot(x[k], curve[k], "o", color=line.get_color())
    if np.all(x > 0) and x.max() / x.min() > 20:
        ax.set_xscale("log")
    ax.set_xlabel(name)
    ax.set_ylabel("criterion (greater is better)")
    ax.set_title("Tuning curve and the rows that move the chosen penalty most")
    ax.legend(fontsize="small")
    return ax


# -- data-dropping robustness ----------------------------------------------------------------
def _take(X, idx):
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    return X[idx]


def _target_vector(target, inf, encoder, n_params):
    """(a, label): the target is a' theta (a coefficient, or a prediction's linear predictor)."""
    names = inf.param_names
    if isinstance(target, str):
        if target not in names:
            raise ValueError(f"target {target!r} is not a parameter; parameters: {names}.")
        a = np.zeros(n_params)
        a[names.index(target)] = 1.0
        return a, target
    if isinstance(target, (int, np.integer)):
        if not -n_params <= target < n_params:
            raise ValueError(f"target position {target} is outside [0, {n_params}).")
        a = np.zeros(n_params)
        a[target] = 1.0
        return a, names[target]
    obj = inf.objective
    if obj.n_outputs != 1:
        raise ValueError("A prediction target needs a single-output model; name a coefficient.")
    x = target if hasattr(target, "iloc") else np.asarray(target, dtype=float)
    if getattr(x, "ndim", 2) == 1:
        x = x.to_frame().T if hasattr(x, "to_frame") else x[None, :]
    xt = encoder._design(x, "target")  # the front door's transforms and checks
    xt = np.asarray(xt.toarray() if sp.issparse(xt) else xt, dtype=float)
    if xt.shape[0] != 1:
        raise ValueError(f"target must be one row of X; got {xt.shape[0]} rows.")
    active = getattr(obj, "active_features", None)
    if active is not None:
        xt = xt[:, active]
    if xt.shape[1] != obj.n_features:
        raise ValueError(f"target has {xt.shape[1]} features; the model has {obj.n_features}.")
    a = np.concatenate([[1.0], xt[0]]) if obj.fit_intercept else xt[0]
    return a, "prediction (linear predictor)"


def _psi(inf, a):
    """First-order change of a' theta when each row is removed: a' H^-1 xt_i g_i (n,)."""
    u = inf.ihvp(a)
    return inf._contract_rows(u[:, None], inf.engine.g(), inf._share)[0]


def _loo_states(inf, a, need_se):
    """(phi_(-i), se_(-i)) for each row: one-step leave-one-out target and its standard
    error (exact for OLS: dfbeta, Sherman-Morrison for H^-1, sigma_(i) for phi)."""
    phi = float(a @ inf.objective.theta) - inf.dfbeta @ a
    if not need_se:
        return phi, np.full(phi.shape, np.nan)
    obj, eng = inf.objective, inf.engine
    u = eng.solve(a, kind="fisher")
    q = eng.backend.design_matmul(obj.X, u.reshape(obj.n_outputs, obj.p_).T,
                                  obj.fit_intercept)[:, 0]
    h, w = inf.leverage, eng.B("fisher")[:, 0, 0]
    if obj.loss.is_least_squares:
        disp = inf.sigma_loo**2
    else:
        disp = inf.dispersion
    with np.errstate(all="ignore"):
        var = disp * (a @ u + w * q**2 / (1.0 - h))
    return phi, np.sqrt(np.maximum(var, 0.0))


def _state(inf, a, alpha, need_se):
    phi = float(a @ inf.objective.theta)
    if not need_se:
        return phi, np.nan, np.nan
    se = float(np.sqrt(a @ cov_params(inf) @ a))
    if inf._single and inf.objective.loss.is_least_squares:
        crit = float(stats.t.ppf(1 - alpha / 2, inf.df_resid))  # statsmodels OLS: t
    else:
        crit = float(stats.norm.ppf(1 - alpha / 2))             # statsmodels GLM: z
    return phi, se, crit


def _goal(what, phi0, significant0, delta):
    """(direction, reached(phi, se, crit), gap(phi, se, crit) >= 0)."""
    s0 = 1.0 if phi0 >= 0 else -1.0
    if what == "sign":
        return -s0, (lambda p, se, c: p * s0 < 0), (lambda p, se, c: max(p * s0, 0.0))
    if what == "significance":
        if significant0:  # lose it: |phi| / se <= crit
            return (-s0, lambda p, se, c: p * s0 <= c * se,
                    lambda p, se, c: max(p * s0 - c * se, 0.0))
        return (s0, lambda p, se, c: p * s0 >= c * se,       # gain it, same sign
                lambda p, se, c: max(c * se - p * s0, 0.0))
    d = float(delta)
    sd = 1.0 if d > 0 else -1.0
    return (sd, lambda p, se, c: (p - phi0) * sd >= abs(d),
            lambda p, se, c: max(abs(d) - (p - phi0) * sd, 0.0))


def dropping_robustness(estimator, X, y, target, what="sign", *, alpha=0.05, delta=None,
                        max_fraction=0.1, refit=True, sample_weight=None, tol=1e-10,
                        **influence_options):
    """The smallest set of rows whose removal overturns a conclusion, verified by refit.

    Broderick, Giordano & Meager (2020; R package zaminfluence) asked whether
    dropping a small fraction of the data can flip the sign or the significance of
    an estimate; the influence function ranks the rows. Single-pass rankings miss
    sets whose members mask each other (Huang, Burt, Shen, Nguyen & Broderick
    2024): here, with ``refit=True``, influence is **recomputed after each
    removal** (the model is refitted on the remaining rows, warm-started): one
    row per refresh once the linear prediction needs at most 10 more rows, half
    of the predicted rows per refresh before that; the search stops when an
    actual refit reaches the goal, and each row of a set of up to 50 is then put
    back if the goal holds without it (one refit each). The set found is small,
    not guaranteed minimal (minimality is combinatorial).

    Parameters
    ----------
    estimator : fitted supported estimator or Pipeline
        A Pipeline's transformers are held fixed; its final step is refitted.
    X, y : the training data
    target : str, int or array-like of shape (n_features,)
        A parameter name (``"(Intercept)"``, a column name, ``"<class>:<column>"``
        for multinomial models), a parameter position, or one row of X (the
        target is then the model's linear predictor at that row).
    what : {"sign", "significance", "change"} or list of them, default="sign"
        ``"sign"``: make the target change sign; ``"significance"``: make a
        significant target (|t| > critical value at level ``alpha``) lose
        significance, or a non-significant one become significant with its sign
        (standard errors of :func:`cov_params`, unpenalized fits only; t for least
        squares, z for GLMs, as statsmodels); ``"change"``: move it by ``delta``.
    alpha : float, default=0.05
    delta : float, default=None
        Signed change for ``what="change"``.
    max_fraction : float, default=0.1
        Stop after dropping this fraction of the rows (the goal is then reported
        as not achieved).
    refit : bool, default=True
        ``False``: one pass (zaminfluence's approximation): rows ranked by the
        full-data influence, the smallest prefix whose summed first-order effect
        reaches the goal (standard error held at its full-data value); no refit.
    sample_weight : array-like of shape (n_samples,), default=None
    tol : float, default=1e-10
        Solver tolerance of the refits (the full-data fit is redone at it first).
    **influence_options
        Passed to :func:`skinfluence.influence`.

    Returns
    -------
    pandas.DataFrame
        One row per ``what``: ``target``, ``original`` (and ``original_se``),
        ``n_dropped``, ``fraction``, ``rows`` (labels of X), ``approx`` (the
        target predicted by the full-data first-order influence summed over the
        set), ``newton`` (one Newton step for the group, from the full fit),
        ``refit`` and ``refit_se`` (actual refit without the set), ``achieved``
        (the refit reaches the goal; with ``refit=False``: the approximation
        does), ``n_refits``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skinfluence.robustness import dropping_robustness
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 2)); y = 0.3 * X[:, 0] + rng.normal(size=100)
    >>> ols = LinearRegression().fit(X, y)
    >>> res = dropping_robustness(ols, X, y, target="x0", what=["sign", "significance"])
    >>> res[["n_dropped", "achieved"]].to_dict("list")
    {'n_dropped': [7, 1], 'achieved': [True, True]}
    """
    import pandas as pd

    whats = [what] if isinstance(what, str) else list(what)
    for w in whats:
        if w not in ("sign", "significance", "change"):
            raise ValueError(f"what must be 'sign', 'significance' or 'change'; got {w!r}.")
    if "change" in whats and (delta is None or not np.isfinite(delta) or delta == 0):
        raise ValueError("what='change' needs a finite, non-zero delta.")
    if not 0 < max_fraction <= 1:
        raise ValueError(f"max_fraction must be in (0, 1]; got {max_fraction}.")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
    prep = prepare(estimator, X, y, sample_weight, fit_check="off")
    final, Xt, y = prep.resolved.final, prep.X, prep.y
    labels = np.asarray(X.index) if hasattr(X, "index") else np.arange(Xt.shape[0])
    n = Xt.shape[0]
    s = None if sample_weight is None else prep.sample_weight
    template = clone(final).set_params(**_tight_params(final, tol, 10_000))
    full = _warm_fit(template, final, Xt, y, s) if refit else final
    inf0 = influence(full, Xt, y, s, **influence_options)
    names = prep.resolved.feature_names()
    if names is not None:  # Xt is the validated array: keep the caller's column names
        inf0.objective.rename_features(names)
    a, label = _target_vector(target, inf0, prep.encoder, inf0.objective.n_params)
    need_se = "significance" in whats
    phi0, se0, crit0 = _state(inf0, a, alpha, need_se)
    psi0 = _psi(inf0, a)
    budget = int(np.floor(max_fraction * n))
    out = []
    for w in whats:
        direction, reached, gap = _goal(w, phi0, need_se and abs(phi0) > crit0 * se0, delta)
        n_refits = 0
        if not refit:
            order = np.argsort(-direction * psi0, kind="stable")
            gain = np.cumsum(direction * psi0[order])[:budget]
            hit = np.flatnonzero(gain >= gap(phi0, se0, crit0))
            m = int(hit[0]) + 1 if hit.size else budget
            dropped = order[:0] if reached(phi0, se0, crit0) else order[:m]
            value, se_r = np.nan, np.nan
        else:
            keep = np.ones(n, dtype=bool)
            inf, est = inf0, full
            phi, se, crit = phi0, se0, crit0
            while not reached(phi, se, crit) and (~keep).sum() < budget:
                # rank rows by how much their own (one-step) removal closes the gap
                phi_i, se_i = _loo_states(inf, a, need_se)
                now = gap(phi, se, crit)
                red = now - np.array([gap(p, q, crit) for p, q in zip(phi_i, se_i)])
                red = np.where(np.isfinite(red), red, -np.inf)
                pos = np.flatnonzero(keep)
                order = np.argsort(-red, kind="stable")
                hit = np.flatnonzero(np.cumsum(red[order]) >= now)
                m = int(hit[0]) + 1 if hit.size else int(np.sum(red > 0))
                step = 1 if m <= _GREEDY_ROWS else int(np.ceil(m / 2))
                step = min(step, budget - int((~keep).sum()))
                keep[pos[order[:step]]] = False
                idx = np.flatnonzero(keep)
                sw = None if s is None else s[idx]
                est = _warm_fit(template, est, _take(Xt, idx), y[idx], sw)
                inf = influence(est, _take(Xt, idx), y[idx], sw, **influence_options)
                n_refits += 1
                phi, se, crit = _state(inf, a, alpha, need_se)
            ok = bool(reached(phi, se, crit))
            if ok and 1 < (~keep).sum() <= _PRUNE_ROWS:
                # greedy steps can overshoot: put back each row the goal does not need
                for i in np.flatnonzero(~keep)[::-1]:
                    keep[i] = True
                    idx = np.flatnonzero(keep)
                    sw = None if s is None else s[idx]
                    est_b = _warm_fit(template, est, _take(Xt, idx), y[idx], sw)
                    inf_b = influence(est_b, _take(Xt, idx), y[idx], sw, **influence_options)
                    n_refits += 1
                    state = _state(inf_b, a, alpha, need_se)
                    if reached(*state):
                        est, (phi, se, crit) = est_b, state
                    else:
                        keep[i] = False
            dropped = np.flatnonzero(~keep)
            value, se_r = phi, se
        approx = phi0 + float(psi0[dropped].sum())
        newton = np.nan
        if dropped.size and inf0.solver.name == "direct":
            newton = phi0 + float(a @ inf0.group_param_change(dropped, method="newton"))
        elif not dropped.size:
            newton = phi0
        if not refit:
            ok = bool(reached(approx, se0, crit0))
        out.append({
            "what": w, "target": label, "original": phi0, "original_se": se0,
            "n_dropped": int(dropped.size), "fraction": dropped.size / n,
            "rows": labels[dropped].tolist(), "approx": approx, "newton": newton,
            "refit": value, "refit_se": se_r, "achieved": ok, "n_refits": n_refits,
        })
    return pd.DataFrame(out).set_index("what")
