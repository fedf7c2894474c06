"""Check influence estimates against actual retraining, on your own model and data.

:func:`loo_check` refits the model without each of a few selected training rows
(warm-started from the full fit, at a tight tolerance) and compares the actual
changes of the parameters and of test losses with the predicted ones
(:meth:`skinfluence.Influence.param_change` and
:meth:`skinfluence.Influence.loss_change`), reporting Pearson and Spearman
correlations. High correlations (Koh & Liang report r ~ 0.99 for logistic
regression) mean the influence estimates can be trusted for that model.
"""

import numpy as np
import scipy.sparse as sp
from scipy import stats
from sklearn.base import clone

from ._frontdoor import influence, prepare, resolve
from .adapters import get_adapter

__all__ = ["LooCheckResult", "loo_check"]


def _tight_params(estimator, tol, max_iter):
    params = estimator.get_params(deep=False)
    new = {}
    if "tol" in params and tol is not None:
        new["tol"] = tol
    if "max_iter" in params and max_iter is not None:
        new["max_iter"] = max(int(params["max_iter"] or 0), int(max_iter))
    if "warm_start" in params:
        new["warm_start"] = True
    return new


def _warm_fit(template, source, X, y, sample_weight):
    """Clone ``template``, start it from ``source``'s coefficients, fit."""
    est = clone(template)
    if est.get_params(deep=False).get("warm_start", False):
        for attr in ("coef_", "intercept_"):
            if hasattr(source, attr):
                setattr(est, attr, np.array(getattr(source, attr), copy=True))
    return est.fit(X, y, sample_weight=sample_weight)


def _pearson(a, b):
    a, b = np.ravel(a), np.ravel(b)
    if a.size < 2 or np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _spearman(a, b):
    a, b = np.ravel(a), np.ravel(b)
    if a.size < 2 or np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(stats.spearmanr(a, b).statistic)


class LooCheckResult:
    """Predicted vs actual leave-one-out changes (returned by :func:`loo_check`).

    Attributes
    ----------
    rows : ndarray of shape (n_rows,)
        Positions of the training rows that were left out.
    predicted_loss_change, actual_loss_change : ndarray of shape (n_rows, n_test)
        l(z_test; theta_(-i)) - l(z_test; theta_hat), predicted and from refits.
    predicted_param_change, actual_param_change : ndarray of shape (n_rows, n_params)
        theta_(-i) - theta_hat (multinomial: on the identifiable subspace).
    pearson_loss, spearman_loss, pearson_params, spearman_params : float
        Correlations over all (row, test point) or (row, parameter) pairs.
    method : str
        ``"influence"`` or ``"newton"``.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> from skinfluence.validation import loo_check
    >>> X, y = load_diabetes(return_X_y=True)
    >>> res = loo_check(Ridge(alpha=0.1).fit(X[:300], y[:300]), X[:300], y[:300],
    ...                 X[300:305], y[300:305], n_rows=5)
    >>> bool(res.pearson_loss > 0.99)          # Ridge: the prediction is exact
    True
    """

    def __init__(self, rows, predicted_loss_change, actual_loss_change,
                 predicted_param_change, actual_param_change, method):
        self.rows = rows
        self.predicted_loss_change = predicted_loss_change
        self.actual_loss_change = actual_loss_change
        self.predicted_param_change = predicted_param_change
        self.actual_param_change = actual_param_change
        self.method = method
        self.pearson_loss = _pearson(predicted_loss_change, actual_loss_change)
        self.spearman_loss = _spearman(predicted_loss_change, actual_loss_change)
        self.pearson_params = _pearson(predicted_param_change, actual_param_change)
        self.spearman_params = _spearman(predicted_param_change, actual_param_change)

    def __repr__(self):
        return (
            f"<LooCheckResult: {len(self.rows)} rows retrained, method={self.method!r}; "
            f"test-loss change r={self.pearson_loss:.4f} (Spearman {self.spearman_loss:.4f}), "
            f"parameter change r={self.pearson_params:.4f} "
            f"(Spearman {self.spearman_params:.4f})>"
        )

    def plot(self, ax=None, what="loss"):
        """Scatter predicted vs actual changes with the identity line; returns the Axes.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        what : {"loss", "params"}, default="loss"
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # pragma: no cover
            raise ImportError('plot needs matplotlib: pip install "skinfluence[plot]"') from exc
        if what == "loss":
            a, p, r = self.actual_loss_change, self.predicted_loss_change, self.pearson_loss
            label = "test-loss change"
        elif what == "params":
            a, p, r = self.actual_param_change, self.predicted_param_change, self.pearson_params
            label = "parameter change"
        else:
            raise ValueError(f"what must be 'loss' or 'params'; got {what!r}.")
        if ax is None:
            _, ax = plt.subplots()
        a, p = np.ravel(a), np.ravel(p)
        ax.scatter(a, p, s=12, alpha=0.7)
        lo, hi = float(min(a.min(), p.min())), float(max(a.max(), p.max()))
        ax.plot([lo, hi], [lo, hi], ls="--", color="grey", lw=1)
        ax.set_xlabel(f"actual {label} (retrained)")
        ax.set_ylabel(f"predicted {label} ({self.method})")
        ax.set_title(f"Leave-one-out check: Pearson r = {r:.3f}")
        return ax


def loo_check(estimator, X, y, X_test, y_test, *, sample_weight=None, n_rows=40, rows=None,
              select="largest", method="influence", random_state=None, tol=1e-10,
              max_iter=10_000, plot=False, ax=None, **influence_options):
    """Compare predicted with actual (retrained) leave-one-out changes.

    The model is first refitted on all rows at a tight tolerance (warm-started
    from ``estimator``), so that theta_hat is the optimum the formulas assume;
    then, for each selected row, refitted without that row (warm-started from
    theta_hat). For a Pipeline, the final step is retrained on the transformed
    data (the earlier steps are kept fixed).

    Parameters
    ----------
    estimator : fitted supported estimator or Pipeline
    X, y : training data the estimator was fitted on
    X_test, y_test : test points whose losses are tracked
    sample_weight : array-like of shape (n_samples,), default=None
    n_rows : int, default=40
        Number of rows to leave out (ignored when ``rows`` is given).
    rows : array-like of int, default=None
        Explicit rows to leave out.
    select : {"largest", "random"}, default="largest"
        ``"largest"``: the rows with the largest predicted effect
        (sum over test points of |predicted loss change|); ``"random"``.
    method : {"influence", "newton"}, default="influence"
        Estimate to check (see :meth:`skinfluence.Influence.loss_change`).
    random_state : int, Generator or None, default=None
        For ``select="random"``.
    tol, max_iter : float, int
        Solver tolerance and iteration cap for the refits (only parameters the
        estimator has are changed; ``None`` keeps the estimator's own).
    plot : bool, default=False
        Draw predicted vs actual test-loss changes (needs matplotlib).
    ax : matplotlib Axes, default=None
        Where to draw when ``plot=True``.
    **influence_options
        Passed to :func:`skinfluence.influence` (``solver``, ``damping``, ...).

    Returns
    -------
    LooCheckResult

    Notes
    -----
    ``class_weight="balanced"`` is recomputed by scikit-learn on every refit,
    which changes all rows' weights slightly; the predictions do not include
    that effect.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skinfluence.validation import loo_check
    >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
    >>> est = LogisticRegression().fit(X[:300], y[:300])
    >>> res = loo_check(est, X[:300], y[:300], X[300:310], y[300:310], n_rows=10)
    >>> res.pearson_loss > 0.95
    True
    """
    if select not in ("largest", "random"):
        raise ValueError(f"select must be 'largest' or 'random'; got {select!r}.")
    prep, Xt, y_arr, s, template, full, Xte, yte = _retraining_setup(
        estimator, X, y, sample_weight, X_test, y_test, tol, max_iter, influence_options)
    n = Xt.shape[0]
    inf = influence(full, Xt, y_arr, s, **influence_options)

    pred_loss = inf.loss_change(Xte, yte, method=method)  # (n_test, n)
    if rows is None:
        n_rows = min(int(n_rows), n)
        if select == "largest":
            score = np.abs(pred_loss).sum(axis=0)
            rows = np.argsort(-score, kind="stable")[:n_rows]
        else:
            rows = np.random.default_rng(random_state).choice(n, n_rows, replace=False)
    rows = np.asarray(rows)
    pred_params = inf.param_change(method=method)[rows]

    base_obj = prep.encoder.objective(full, Xte, yte)
    base_loss = base_obj.per_sample_loss()
    null = base_obj.null_space()
    actual_loss = np.empty((rows.size, Xte.shape[0]))
    actual_params = np.empty((rows.size, base_obj.n_params))
    keep = np.ones(n, dtype=bool)
    for j, i in enumerate(rows):
        keep[i] = False
        Xi = Xt[keep] if not sp.issparse(Xt) else Xt[np.flatnonzero(keep)]
        est_i = _warm_fit(template, full, Xi, y_arr[keep], None if s is None else s[keep])
        keep[i] = True
        obj_i = prep.encoder.objective(est_i, Xte, yte)
        actual_loss[j] = obj_i.per_sample_loss() - base_loss
        d = obj_i.theta - base_obj.theta
        if null is not None:
            d = d - null @ (null.T @ d)
        actual_params[j] = d

    result = LooCheckResult(rows, pred_loss[:, rows].T, actual_loss, pred_params,
                            actual_params, method)
    if plot:
        result.plot(ax=ax)
    return result


def _retraining_setup(estimator, X, y, sample_weight, X_test, y_test, tol, max_iter,
                      influence_options):
    """Validated data (through the front door) and the tight full refit that
    retraining checks start from.

    Returns (prep, Xt, y, s, template, full, Xt_test, y_test): the front door's
    preparation, the final step's training data, a tight-tolerance warm-start
    template, the full refit from ``estimator``, and the test data through the
    same transforms (full width, labels as given).
    """
    adapter_keys = getattr(get_adapter(resolve(estimator).final), "options", ())
    adapter_options = {k: v for k, v in influence_options.items() if k in adapter_keys}
    prep = prepare(estimator, X, y, sample_weight, fit_check="off", **adapter_options)
    final, Xt, y_arr = prep.resolved.final, prep.X, prep.y
    s = None if sample_weight is None else prep.sample_weight
    template = clone(final).set_params(**_tight_params(final, tol, max_iter))
    full = _warm_fit(template, final, Xt, y_arr, s)
    Xte, yte = prep.encoder.data(X_test, y_test)
    return prep, Xt, y_arr, s, template, full, Xte, yte


class LdsCheckResult:
    """Linear datamodeling score of attribution scores (returned by :func:`lds_check`).

    Attributes
    ----------
    lds : float
        Mean over test points of the Spearman correlation, across the random
        subsets, between the summed attribution scores and the retrained output.
    per_test : ndarray of shape (n_test,)
        The Spearman correlation for each test point (NaN where constant).
    predicted, actual : ndarray of shape (n_subsets, n_test)
        Summed attributions of each subset's rows; each test point's loss after
        retraining on the subset.
    subsets : ndarray of bool, shape (n_subsets, n_samples)
    method : str

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.validation import LdsCheckResult
    >>> r = LdsCheckResult(np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [3.0], [2.0]]),
    ...                    np.ones((3, 4), bool), "influence")
    >>> round(r.lds, 2)
    0.5
    """

    def __init__(self, predicted, actual, subsets, method):
        self.predicted = predicted
        self.actual = actual
        self.subsets = subsets
        self.method = method
        self.per_test = np.array([_spearman(predicted[:, t], actual[:, t])
                                  for t in range(actual.shape[1])])
        finite = np.isfinite(self.per_test)
        self.lds = float(np.mean(self.per_test[finite])) if finite.any() else float("nan")

    def __repr__(self):
        return (f"<LdsCheckResult: LDS={self.lds:.4f} over {self.actual.shape[1]} test points, "
                f"{self.actual.shape[0]} retrained subsets, method={self.method!r}>")


def lds_check(estimator, X, y, X_test, y_test, *, sample_weight=None, n_subsets=50, alpha=0.5,
              method="influence", scores=None, random_state=None, tol=1e-10, max_iter=10_000,
              **influence_options):
    """Linear datamodeling score (LDS) of influence scores, by actual retraining.

    Park et al. (TRAK, ICML 2023), as dattri's ``metric.lds`` defines it: draw
    ``n_subsets`` random subsets S_m of ``alpha * n`` training rows, retrain the
    model on each (warm-started from the full fit, at a tight tolerance), and
    for each test point take the Spearman correlation over m between the
    predicted output, the sum over i in S_m of row i's attribution score, and the
    actual output of the retrained model (here: the test point's loss); the LDS
    is its mean over test points. 1 means the scores rank subsets exactly as
    retraining does; random scores give about 0. For a Pipeline the final step
    is retrained on the transformed data.

    Parameters
    ----------
    estimator : fitted supported estimator or Pipeline
    X, y : training data the estimator was fitted on
    X_test, y_test : test points whose losses are the model outputs
    sample_weight : array-like of shape (n_samples,), default=None
    n_subsets : int, default=50
    alpha : float, default=0.5
        Fraction of the training rows in each subset.
    method : {"influence", "newton"}, default="influence"
        Scores from :meth:`skinfluence.Influence.loss_change` (ignored when
        ``scores`` is given).
    scores : ndarray of shape (n_test, n_samples), default=None
        Any attribution to check, in ``loss_change``'s convention (the change of
        each test loss when a training row is removed): an influence sketch,
        TracIn, a peer library's scores.
    random_state : int, Generator or None, default=None
    tol, max_iter : solver tolerance and iteration cap of the retraining
    **influence_options
        Passed to :func:`skinfluence.influence`.

    Returns
    -------
    LdsCheckResult

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skinfluence.validation import lds_check
    >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
    >>> est = LogisticRegression(solver="newton-cholesky").fit(X[:300], y[:300])
    >>> res = lds_check(est, X[:300], y[:300], X[300:340], y[300:340], n_subsets=20,
    ...                 random_state=0)
    >>> res.lds > 0.7
    True
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
    if int(n_subsets) < 3:
        raise ValueError(f"n_subsets must be at least 3; got {n_subsets}.")
    prep, Xt, y_arr, s, template, full, Xte, yte = _retraining_setup(
        estimator, X, y, sample_weight, X_test, y_test, tol, max_iter, influence_options)
    n = Xt.shape[0]
    if scores is None:
        inf = influence(full, Xt, y_arr, s, **influence_options)
        scores = inf.loss_change(Xte, yte, method=method)
    else:
        method = "given scores"
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != (Xte.shape[0], n):
            raise ValueError(
                f"scores must have shape (n_test, n_samples) = {(Xte.shape[0], n)}; "
                f"got {scores.shape}."
            )
    rng = np.random.default_rng(random_state)
    size = max(1, round(alpha * n))
    subsets = np.zeros((int(n_subsets), n), dtype=bool)

    actual = np.empty((int(n_subsets), Xte.shape[0]))
    for m in range(int(n_subsets)):
        idx = np.sort(rng.choice(n, size, replace=False))
        subsets[m, idx] = True
        est_m = _warm_fit(template, full, Xt[idx], y_arr[idx], None if s is None else s[idx])
        actual[m] = prep.encoder.objective(est_m, Xte, yte).per_sample_loss()
    # including row i changes a test loss by -(its removal effect): sum over the subset
    predicted = -(subsets.astype(np.float64) @ scores.T)
    return LdsCheckResult(predicted, actual, subsets, method)
