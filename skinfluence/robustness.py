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

from ._api import _split_pipeline, influence

__all__ = ["cov_params", "dropping_robustness", "penalty_influence"]

_PAIR_BYTES = 64 * 2**20  # memory of the (rows x n) pair blocks of penalty_influence


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
    obj = inf.objective
    if obj.is_penalized or inf.engine.damping:
        raise AttributeError(
            "Standard errors are defined here for unpenalized fits only (phi H^-1 of a "
            "penalized fit is not the sampling covariance of its biased estimate). "
            "Refit without penalty (LinearRegression, LogisticRegression(C=np.inf), "
            "PoissonRegressor(alpha=0), ...) to test a coefficient."
        )
    if not inf._glm:
        raise AttributeError(
            f"Standard errors need a single-output exponential-family model; this is "
            f"{type(obj.loss).__name__}."
        )
    return inf.dispersion * inf.engine.factor("fisher").inverse()


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
        bi, ci, gi = b[i, None], c[i, None], g[i, None]
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
    work = clone(search.estimator)
    from .model_selection._search import _final_step

    final, prefix = _final_step(work)
    if search.warm_start and "warm_start" in final.get_params(deep=False):
        work.set_params(**{f"{prefix}warm_start": True})
    fit_kwargs = search._fit_kwargs(sample_weight)
    full, without = [], []
    crit = None
    for p in params:
        work.set_params(**p).fit(X, y, **fit_kwargs)
        inf = influence(work, X, y, sample_weight=sample_weight, **options)
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
