"""Feature-level attribution of pairwise influence scores (exact for linear models).

Every pairwise score this package computes between a test point t and a training
row i has the form ``sum_c U_c[:, t] . (Xt_i' c_i)`` -- a sum over terms c of a
parameter vector for the test point (U_c of shape (P, n_test)) dotted with a
training row's parameter gradient ``Xt_i' c_i`` (c_i of shape (K,)) -- plus, for
mean-form objectives, ``share_i (pen * theta) . U[:, t]``:

* influence functions (``loss_change``): one term, U = H^-1 grad l(z_test),
  c_i = g_i (``method="influence"``) or the leave-one-out v_i (``"newton"``);
* TracIn (:mod:`skinfluence.tracin`): one term per checkpoint,
  U_t = lr_t grad l(z_test; theta_t), c_i = g_i(theta_t).

For a linear predictor the parameter gradient of row i is ``c_ik xt_ij`` for
class k and feature j, so each score splits exactly over parameters, and
parameters map to features (summed over classes)::

    contribution[t, i, j] = sum_c sum_k c_ik x_ij U_c[(k, j), t]
                          (+ share_i pen_(k,j) theta_(k,j) U[(k, j), t])

with the intercept (j = "(Intercept)") as its own entry. Summed over the
features and the intercept they give the score exactly (Yeh et al. 2022:
word-level attribution of TracIn for text models, exact here).
"""

import numpy as np
import scipy.sparse as sp

#: refuse attribution arrays larger than this (n_test * n_rows * n_features floats)
_MAX_ENTRIES = 2**27  # 1 GiB of float64


class FeatureAttribution:
    """Per-feature contributions to a pairwise influence score.

    ``values[t, r, j]`` is feature j's contribution to the score between test
    point t and training row ``rows[r]``; ``intercept[t, r]`` the intercept's.
    ``values.sum(-1) + intercept`` equals the score (:meth:`total`).
    ``np.asarray(attribution)`` gives ``values``.

    Attributes
    ----------
    values : ndarray of shape (n_test, n_rows, n_features)
    intercept : ndarray of shape (n_test, n_rows)
        Zeros for a model without intercept.
    rows : ndarray of int, shape (n_rows,)
        Training-row positions.
    feature_names : ndarray of str, shape (n_features,)
    method : str

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from skinfluence.linear_model import LogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
    >>> inf = LogisticRegression().fit(X[:400], y[:400]).influence()
    >>> fa = inf.feature_attribution(X[400:402], y[400:402], rows=[3, 17])
    >>> fa.shape
    (2, 2, 30)
    >>> bool(np.allclose(fa.total(), inf.loss_change(X[400:402], y[400:402])[:, [3, 17]]))
    True
    """

    def __init__(self, values, intercept, rows, feature_names, method):
        self.values = values
        self.intercept = intercept
        self.rows = rows
        self.feature_names = np.asarray(feature_names, dtype=object)
        self.method = method

    @property
    def shape(self):
        return self.values.shape

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)

    def total(self):
        """The score itself, (n_test, n_rows): features plus intercept."""
        return self.values.sum(axis=-1) + self.intercept

    def top(self, test=0, row=0, n=10, by="abs"):
        """The ``n`` features contributing most to one (test point, training row) pair.

        Parameters
        ----------
        test : int, default=0
            Position among the test points.
        row : int, default=0
            Position among ``rows`` (not the training-row index).
        n : int, default=10
        by : {"abs", "positive", "negative"}, default="abs"
            Rank by |contribution|, or the largest positive / negative ones.

        Returns
        -------
        pandas.DataFrame with columns ``feature`` and ``contribution``.

        Examples
        --------
        >>> from sklearn.datasets import load_breast_cancer
        >>> from sklearn.preprocessing import scale
        >>> from skinfluence.linear_model import LogisticRegression
        >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
        >>> inf = LogisticRegression().fit(X, y).influence()
        >>> inf.feature_attribution(X[:1], y[:1], rows=[0]).top(n=3).shape
        (3, 2)
        """
        import pandas as pd

        v = self.values[test, row]
        if by == "abs":
            key = -np.abs(v)
        elif by == "positive":
            key = -v
        elif by == "negative":
            key = v
        else:
            raise ValueError(f"by must be 'abs', 'positive' or 'negative'; got {by!r}.")
        idx = np.argsort(key, kind="stable")[: int(n)]
        return pd.DataFrame({"feature": self.feature_names[idx], "contribution": v[idx]})

    def __repr__(self):
        return f"<FeatureAttribution method={self.method!r} shape={self.values.shape}>"


def resolve_feature_names(objective, feature_names=None):
    """Names of the objective's feature columns.

    ``feature_names`` may be a sequence of names or a fitted transformer/pipeline
    with ``get_feature_names_out()`` (e.g. ``pipe[:-1]`` ending in a
    ``CountVectorizer``/``TfidfVectorizer``): then the names of its output.
    Default: from the objective's parameter names.
    """
    p = objective.n_features
    if feature_names is not None:
        if hasattr(feature_names, "get_feature_names_out"):
            feature_names = feature_names.get_feature_names_out()
        names = np.asarray(feature_names, dtype=object)
        active = getattr(objective, "active_features", None)
        if active is not None and names.shape[0] != p:
            names = names[active]
        if names.shape != (p,):
            raise ValueError(
                f"feature_names has {names.shape[0]} names but the model has {p} features."
            )
        return names
    q = objective.p_
    names = list(objective.param_names or [])[:q]
    if len(names) != q:
        return np.array([f"x{j}" for j in range(p)], dtype=object)
    names = names[objective.fit_intercept:]
    if objective.n_outputs > 1:  # "class:feature" -> "feature"
        names = [s.split(":", 1)[1] if ":" in s else s for s in names]
    return np.asarray(names, dtype=object)


def pairwise_attribution(objective, terms, rows, share=None):
    """(values (m, r, p), intercept (m, r)) of ``sum_c U_c . Xt_i' c_i`` per feature.

    Parameters
    ----------
    objective : LinearObjective
    terms : list of (U, coef)
        U of shape (P, m): test-side parameter vectors; coef of shape (n, K): the
        training rows' eta-coefficients (only ``coef[rows]`` is read).
    rows : ndarray of int
    share : ndarray of shape (n,) or None
        Penalty shares (mean-form objectives); applied with the *first* term's U.
    """
    obj = objective
    K, q, p = obj.n_outputs, obj.p_, obj.n_features
    m = terms[0][0].shape[1]
    r = rows.size
    if m * r * p > _MAX_ENTRIES:
        raise ValueError(
            f"The attribution would hold {m} x {r} x {p} values (> {_MAX_ENTRIES:,}): "
            "pass fewer test points or select training rows with rows=[...]."
        )
    Xr = obj.X[rows]
    Xr = Xr.toarray() if sp.issparse(Xr) else np.asarray(Xr, dtype=np.float64)
    if obj.fit_intercept:
        Xr = np.hstack([np.ones((r, 1)), Xr])
    out = np.zeros((m, r, q))
    for U, coef in terms:
        Uk = np.asarray(U, dtype=np.float64).reshape(K, q, m)
        out += np.einsum("rk,kjt->trj", coef[rows], Uk) * Xr[None]
    if share is not None:
        U0 = np.asarray(terms[0][0], dtype=np.float64).reshape(K, q, m)
        pt = (obj.pen * obj.theta).reshape(K, q)
        out += share[rows][None, :, None] * np.einsum("kj,kjt->tj", pt, U0)[:, None, :]
    if obj.fit_intercept:
        return out[:, :, 1:], out[:, :, 0]
    return out, np.zeros((m, r))


def _rows(rows, n):
    """Validated row positions, in the caller's order (a mask: ascending)."""
    from ._functions import _row_indices

    if rows is None:
        return np.arange(n)
    _row_indices(rows, n)  # validates (range, dtype, non-empty)
    idx = np.asarray(rows)
    if idx.dtype == bool:
        return np.flatnonzero(idx)
    idx = np.atleast_1d(idx).astype(np.intp)
    return np.where(idx < 0, idx + n, idx)


def feature_attribution(self, X_test, y_test, rows=None, method="influence",
                        feature_names=None, tracin=None):
    """Per-feature contributions to the influence of training rows on test losses.

    For test point t and training row i the score (``loss_change(...)[t, i]``, or
    the TracIn score) is split exactly over features: for a linear model each
    row's parameter gradient is a residual times its features, so the score is
    a sum over parameters, and parameters map to features (summed over classes).

    Parameters
    ----------
    X_test, y_test : test data (as for :meth:`loss_change`)
    rows : array-like of int or bool mask, default=None
        Training rows to attribute (default: all; the result has
        n_test x n_rows x n_features values, refused beyond 2^27).
    method : {"influence", "newton", "tracin"}, default="influence"
        ``"influence"``/``"newton"``: the two methods of :meth:`loss_change`;
        ``"tracin"``: the TracIn scores of the checkpoints in ``tracin``.
    feature_names : sequence of str or fitted transformer, default=None
        Names of the model's input columns, or a fitted transformer/pipeline
        (e.g. ``pipe[:-1]`` ending in a ``CountVectorizer``) whose
        ``get_feature_names_out()`` names them; default: the estimator's
        ``feature_names_in_`` or x0, x1, ...
    tracin : TracInRecorder, default=None
        The checkpoints for ``method="tracin"``.

    Returns
    -------
    FeatureAttribution
        ``.values`` of shape (n_test, n_rows, n_features), ``.intercept``
        (n_test, n_rows); ``.total()`` equals ``loss_change(X_test,
        y_test, method)[:, rows]`` (or the TracIn scores).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from skinfluence.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> inf = LogisticRegression(max_iter=1000).fit(X, y).influence()
    >>> fa = inf.feature_attribution(X[:2], y[:2], rows=[50, 100])
    >>> fa.shape                      # summed over the 3 classes
    (2, 2, 4)
    >>> bool(np.allclose(fa.total(), inf.loss_change(X[:2], y[:2])[:, [50, 100]]))
    True
    """
    obj = self.objective
    idx = _rows(rows, obj.n_samples)
    names = resolve_feature_names(obj, feature_names)
    if method == "tracin":
        if tracin is None:
            raise ValueError(
                "method='tracin' needs the training checkpoints: pass tracin=recorder "
                "(a skinfluence.tracin.TracInRecorder used to train the model)."
            )
        X, y = self._prepare_test(X_test, y_test)
        terms = tracin._terms(obj, X, y)
        values, icpt = pairwise_attribution(obj, terms, idx)
        return FeatureAttribution(values, icpt, idx, names, method)
    if tracin is not None:
        raise ValueError("tracin= is only used with method='tracin'.")
    if method not in ("influence", "newton"):
        raise ValueError(f"method must be 'influence', 'newton' or 'tracin'; got {method!r}.")
    _, _, _, U = self._test_solution(X_test, y_test)
    if method == "newton":
        self._require_direct("feature_attribution")
        coef = self.engine.loo_v("observed")
    else:
        coef = self.engine.g()
    values, icpt = pairwise_attribution(obj, [(U, coef)], idx, self._share)
    return FeatureAttribution(values, icpt, idx, names, method)
