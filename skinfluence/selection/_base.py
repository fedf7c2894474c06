"""Base class of the selectors: imbalanced-learn's sampler contract, regression allowed.

imbalanced-learn's ``BaseSampler`` rejects continuous targets, and
imbalanced-learn is an optional dependency, so the selectors derive from
scikit-learn's ``BaseEstimator`` and implement the duck-typed contract that
``imblearn.pipeline.Pipeline`` checks for: a ``fit_resample(X, y)`` method
(steps having it are applied at fit time only and skipped at predict time).
"""

import numbers
import warnings
from abc import ABCMeta, abstractmethod

import numpy as np
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing, check_random_state

from .._frontdoor import own_fit_influence, validate_data
from ..backends import backend_for
from ..adapters import get_adapter


class NoValidationDataWarning(UserWarning):
    """A selector scored rows against a held-out part of the training data.

    Influence on a validation loss is only as good as the validation labels: if
    the held-out rows are as noisy as the training rows, the selected subset can
    be *worse* than the full data. Pass clean ``X_val, y_val`` to
    ``fit_resample`` (or to :class:`skinfluence.pipeline.ResampledEstimator`'s
    ``fit``) whenever you have them.
    """


def _resolve_size(n, n_samples, fraction, what="n_samples"):
    """Number of rows to select: ``n_samples`` if given, else ``fraction * n``."""
    if n_samples is not None:
        if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
            raise ValueError(f"{what} must be a positive integer; got {n_samples!r}.")
        if n_samples < 1:
            raise ValueError(f"{what} must be >= 1; got {n_samples}.")
        if n_samples > n:
            raise ValueError(
                f"{what}={n_samples} is larger than the number of candidate rows "
                f"({n})."
            )
        return int(n_samples)
    _check_fraction(fraction)
    return max(1, int(round(fraction * n)))


def _check_fraction(fraction, name="fraction"):
    if (
        isinstance(fraction, bool)
        or not isinstance(fraction, numbers.Real)
        or not 0 < fraction <= 1
    ):
        raise ValueError(f"{name} must be a number in (0, 1]; got {fraction!r}.")


def _is_classification(estimator, y):
    """Classification iff the estimator is a classifier (never guessed from y's values).

    Without an estimator: labels of a non-float dtype (int, bool, str, object)
    are classes; a float target is continuous (a whole-number float target is
    not turned into classes).
    """
    if estimator is not None:
        return is_classifier(estimator)
    return np.asarray(y).dtype.kind not in "fc"


def _default_estimator(estimator, y):
    """The estimator to fit (a clone), refusing unsupported ones before any fit.

    ``estimator=None``: ``LogisticRegression`` for labels (integer, boolean,
    string or categorical dtype), ``LinearRegression`` for a float target.
    """
    if estimator is None:
        estimator = LogisticRegression() if _is_classification(None, y) else LinearRegression()
    est = clone(estimator)
    final = est
    while hasattr(final, "steps"):
        final = final.steps[-1][1]
    get_adapter(final)  # UnsupportedEstimatorError (a TypeError) naming what works
    return est


def _fitted_influence(est, X, y):
    """Influence of the selector's own fit (see ``_frontdoor.own_fit_influence``)."""
    return own_fit_influence(est, X, y)


def _lazy_owner(X):
    """The backend of a lazy array type (dask) that owns X, else None (NumPy path)."""
    owner = backend_for(X)
    return owner if owner is not None and getattr(owner, "lazy", False) else None


def take_rows(X, idx):
    """Rows ``idx`` of X (any order, repeats allowed); a lazy X is gathered to NumPy.

    A dask X is read in sorted row order (each chunk once) and the rows are put
    back in the order of ``idx``.
    """
    owner = _lazy_owner(X)
    if owner is None:
        return _safe_indexing(X, idx)
    idx = np.asarray(idx, dtype=np.intp)
    order = np.argsort(idx, kind="stable")
    rows = owner.to_numpy(X[idx[order]])
    out = np.empty_like(rows)
    out[order] = rows
    return out


def gather(values):
    """A per-row score as a NumPy vector (computes a lazy dask array once)."""
    owner = _lazy_owner(values)
    return np.asarray(values if owner is None else owner.to_numpy(values))


def _capped_probabilities(a, target):
    """pi_i = min(1, c a_i) with c chosen so that sum(pi) = target (a >= 0).

    When fewer than ``target`` rows have a_i > 0, those rows all get pi = 1.
    Only the ``target`` largest a_i can be capped, so they alone are sorted (a
    partition, then a sort of ``target`` values): memory O(n) for one copy of ``a``
    and the result, not a full argsort with its sorted copies and cumulative sums.
    """
    a = np.asarray(a, dtype=np.float64)
    n_pos = int(np.count_nonzero(a > 0))
    T = int(target)
    if n_pos <= T:
        return (a > 0).astype(np.float64)
    n = a.shape[0]
    part = np.partition(a, n - T)  # the T largest last, in no order
    rest = float(part[:n - T].sum())  # the n - T others (summed, not subtracted)
    top = np.sort(part[n - T:])[::-1]  # descending: s_0 >= s_1 >= ... >= s_{T-1}
    del part
    # tail[k] = sum_{j >= k} s_j over all n sorted values, for k < T
    tail = np.cumsum(top[::-1])[::-1] + rest
    k = np.arange(T)  # k rows capped at 1
    c = (T - k) / tail
    first = int(np.argmax(c * top <= 1.0))  # k = T - 1 always qualifies
    return np.minimum(1.0, c[first] * a)


def _poisson_draw(pi, rng, chunk=1 << 20):
    """Independent Bernoulli(pi_i) draws; returns the selected positions.

    Drawn chunk by chunk (the same random stream as one draw of n uniforms, without
    holding n of them).
    """
    n = pi.shape[0]
    parts = [start + np.flatnonzero(rng.random_sample(min(chunk, n - start)) < pi[start:start + chunk])
             for start in range(0, n, chunk)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)


class BaseSelector(BaseEstimator, metaclass=ABCMeta):
    """Common validation and bookkeeping of the influence-based selectors (abstract).

    The base class validates; a subclass only selects: it implements
    ``_select(X, y, X_val, y_val, rng)`` returning the selected positions (and
    optionally weights and a new target) and sets ``_uses_validation = True``
    if it scores rows against a validation loss.

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.selection import BaseSelector
    >>> class KeepEven(BaseSelector):
    ...     def _select(self, X, y, X_val, y_val, rng):
    ...         return (np.arange(0, X.shape[0], 2),)   # (positions[, weights[, new y]])
    >>> Xs, ys = KeepEven().fit_resample(np.eye(4), np.arange(4.0))
    >>> ys
    array([0., 2.])
    """

    _uses_validation = False
    # filters/relabelers return the rows held out for validation unchanged (a
    # samplers' subset leaves them out)
    _returns_held_out = False

    @abstractmethod
    def _select(self, X, y, X_val, y_val, rng):
        """Return ``(positions,)``, ``(positions, weights)`` or
        ``(positions, weights, new_y)`` for the validated candidate rows."""

    def fit_resample(self, X, y, X_val=None, y_val=None):
        """Select training rows; return the selected ``X`` and ``y``.

        Parameters
        ----------
        X : array-like, DataFrame or sparse CSR matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels or a continuous target.
        X_val, y_val : array-like, default=None
            Validation data for selectors that score rows by their influence on
            a validation loss (ignored by the others). Without it, such
            selectors hold out ``validation_fraction`` of the training rows
            (with a :class:`NoValidationDataWarning`); those rows are not
            returned.

        Returns
        -------
        X_resampled : same type as X, shape (n_selected, n_features)
        y_resampled : ndarray of shape (n_selected,)
        """
        Xc, yc = validate_data(X, y)
        owner = _lazy_owner(Xc)
        if (X_val is None) != (y_val is None):
            raise ValueError("Pass both X_val and y_val, or neither.")
        if owner is not None and self._uses_validation and X_val is None:
            raise ValueError(
                f"{type(self).__name__} on a {owner.name} array needs X_val and y_val "
                "(holding out part of a distributed X is not supported)."
            )
        rng = check_random_state(getattr(self, "random_state", None))
        candidates = np.arange(Xc.shape[0])
        if self._uses_validation:
            if X_val is None:
                candidates, X_val, y_val = self._hold_out(Xc, yc, rng)
            else:
                X_val, y_val = validate_data(X_val, y_val, X_name="X_val", y_name="y_val",
                                             n_features=Xc.shape[1])
                self._check_validation_labels(yc, y_val)
        elif X_val is not None:
            warnings.warn(
                f"{type(self).__name__} does not use validation data; X_val and "
                "y_val are ignored.",
                UserWarning,
                stacklevel=2,
            )
        Xs = _safe_indexing(Xc, candidates) if candidates.size < Xc.shape[0] else Xc
        ys = yc[candidates]
        out = self._select(Xs, ys, X_val, y_val, rng)
        idx, weight, y_new = tuple(out) + (None,) * (3 - len(out))
        idx = np.asarray(idx, dtype=np.intp)
        if idx.size == 0:
            raise ValueError(
                f"{type(self).__name__} selected no rows; increase the target size "
                "(n_samples / fraction) or lower the threshold."
            )
        if self._uses_validation:
            self.candidate_indices_ = candidates
        self.sample_indices_ = candidates[idx]
        if weight is not None:
            self.sample_weight_ = np.asarray(weight, dtype=np.float64)
        y_out = ys[idx] if y_new is None else y_new
        if self._returns_held_out and candidates.size < Xc.shape[0]:
            y_full = yc.copy()
            y_full[self.sample_indices_] = y_out
            self.sample_indices_ = np.union1d(
                self.sample_indices_, np.setdiff1d(np.arange(Xc.shape[0]), candidates)
            )
            y_out = y_full[self.sample_indices_]
        if owner is not None:  # the subsample comes back in memory, as NumPy
            return take_rows(Xc, self.sample_indices_), y_out
        # rows of the caller's own container (a DataFrame keeps its index); other
        # array-likes come back as the validated array
        indexable = hasattr(X, "iloc") or hasattr(X, "tocsr") or isinstance(X, np.ndarray)
        return _safe_indexing(X if indexable else Xc, self.sample_indices_), y_out

    # -- validation data -----------------------------------------------------------
    def _hold_out(self, X, y, rng):
        frac = getattr(self, "validation_fraction", 0.2)
        if isinstance(frac, bool) or not isinstance(frac, numbers.Real) or not 0 < frac < 1:
            raise ValueError(f"validation_fraction must be in (0, 1); got {frac!r}.")
        warnings.warn(
            f"{type(self).__name__}: no validation data given; holding out "
            f"{frac:.0%} of the training rows as validation set (they are not "
            "returned). Influence on a validation loss is only as good as the "
            "validation labels: with labels as noisy as the training labels the "
            "selected subset can be worse than the full data. Pass clean X_val, "
            "y_val when you have them.",
            NoValidationDataWarning,
            stacklevel=3,
        )
        idx = np.arange(X.shape[0])
        strat = y if _is_classification(getattr(self, "estimator", None), y) else None
        if strat is not None and np.min(np.unique(y, return_counts=True)[1]) < 2:
            strat = None
        tr, va = train_test_split(
            idx, test_size=frac, stratify=strat, random_state=rng.randint(2**31 - 1)
        )
        tr.sort()
        va.sort()
        return tr, _safe_indexing(X, va), y[va]

    def _check_validation_labels(self, y, y_val):
        if not _is_classification(getattr(self, "estimator", None), y):
            return
        unseen = np.setdiff1d(np.unique(y_val), np.unique(y))
        if unseen.size:
            raise ValueError(
                f"y_val contains classes not present in the training labels: "
                f"{unseen.tolist()[:10]}."
            )

    # -- influence of a fitted model ------------------------------------------------
    def _fit_influence(self, X, y):
        """Fit a clone of the estimator on (X, y); return (fitted, Influence)."""
        est = _default_estimator(getattr(self, "estimator", None), y)
        est.fit(X, y)
        return est, _fitted_influence(est, X, y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
