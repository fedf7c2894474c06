"""Influence filtering ("data dropout") and RDIA relabeling."""

import numbers

import numpy as np

from ._base import BaseSelector
from ._scores import validation_loss_change

_SCORES = ("validation", "cooks", "self_influence")


def _harm_scores(selector, X, y, X_val, y_val, score):
    """Per-row harm (larger = more harmful) and the fitted estimator."""
    est, inf = selector._fit_influence(X, y)
    if score == "validation":
        return -validation_loss_change(inf, X_val, y_val), est
    if score == "cooks":
        return np.asarray(inf.cooks_distance), est
    return np.asarray(inf.self_influence), est


def _flagged(harm, n_flag, threshold, auto, name):
    """Positions of the rows to act on: top ``n_flag`` or ``harm > threshold``."""
    n = harm.shape[0]
    if n_flag is not None:
        if isinstance(n_flag, bool) or not isinstance(n_flag, numbers.Real):
            raise ValueError(f"{name} must be an int or a float in (0, 1); got {n_flag!r}.")
        if isinstance(n_flag, numbers.Integral):
            if not 0 <= n_flag < n:
                raise ValueError(f"{name}={n_flag} must be in [0, n) with n={n} rows.")
            k = int(n_flag)
        else:
            if not 0 < n_flag < 1:
                raise ValueError(f"{name} as a fraction must be in (0, 1); got {n_flag!r}.")
            k = int(round(n_flag * n))
        order = np.argsort(-harm, kind="stable")
        return np.sort(order[:k])
    if isinstance(threshold, str):
        if threshold != "auto" or auto is None:
            raise ValueError(
                f"threshold='auto' is not defined here; pass a number or {name}."
            )
        threshold = auto
    return np.flatnonzero(harm > threshold)


class InfluenceFilter(BaseSelector):
    """Drop the training rows that influence diagnostics mark as harmful.

    Scores (larger = more harmful):

    * ``"validation"`` (data dropout): predicted decrease of the mean
      validation loss when the row is removed (the negated ``loss_change``
      averaged over the validation rows);
    * ``"cooks"``: Cook's distance;
    * ``"self_influence"``: s_i^2 grad l_i' H^-1 grad l_i.

    Rows are dropped by rank (``n_remove``) or by ``threshold``.

    Parameters
    ----------
    estimator : estimator, default=None
        A supported linear model (or Pipeline ending in one); None:
        ``LogisticRegression`` for class labels, ``LinearRegression`` otherwise.
    score : {"validation", "cooks", "self_influence"}, default="validation"
    n_remove : int or float, default=None
        Drop this many top-scored rows (a float in (0, 1): a fraction of them).
        Overrides ``threshold``.
    threshold : float or "auto", default="auto"
        Drop rows scoring above it; "auto": 0 for ``"validation"`` (every row
        whose removal is predicted to lower the validation loss), 4 / n for
        ``"cooks"``; ``"self_influence"`` needs ``n_remove`` or a number.
    validation_fraction : float in (0, 1), default=0.2
        Held-out share of the training rows when ``score="validation"`` and no
        validation data is given (with a warning).
    random_state : int, RandomState or None, default=None
        Used only for the held-out split.

    Attributes
    ----------
    sample_indices_ : ndarray
        The rows kept.
    removed_indices_ : ndarray
        The rows dropped.
    scores_ : ndarray of shape (n_candidates,)

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.selection import InfluenceFilter
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)); y = X @ [1.0, -1.0] + 0.1 * rng.normal(size=200)
    >>> y[:5] += 20                                          # outliers
    >>> f = InfluenceFilter(score="cooks", n_remove=5)
    >>> Xs, ys = f.fit_resample(X, y)
    >>> f.removed_indices_.tolist()
    [0, 1, 2, 3, 4]
    """

    def __init__(
        self, estimator=None, score="validation", n_remove=None, threshold="auto",
        validation_fraction=0.2, random_state=None,
    ):
        self.estimator = estimator
        self.score = score
        self.n_remove = n_remove
        self.threshold = threshold
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    @property
    def _uses_validation(self):
        return self.score == "validation"

    def _select(self, X, y, X_val, y_val, rng):
        if self.score not in _SCORES:
            raise ValueError(f"score must be one of {_SCORES}; got {self.score!r}.")
        n = X.shape[0]
        harm, est = _harm_scores(self, X, y, X_val, y_val, self.score)
        auto = {"validation": 0.0, "cooks": 4.0 / n}.get(self.score)
        drop = _flagged(harm, self.n_remove, self.threshold, auto, "n_remove")
        if drop.size == n:
            raise ValueError(
                "Every row was flagged for removal; raise the threshold or use n_remove."
            )
        keep = np.setdiff1d(np.arange(n), drop, assume_unique=True)
        self.scores_ = harm
        self.estimator_ = est
        self._removed = drop
        return (keep,)

    def fit_resample(self, X, y, X_val=None, y_val=None):
        """Drop the flagged rows; see :meth:`BaseSelector.fit_resample`."""
        out = super().fit_resample(X, y, X_val, y_val)
        cand = getattr(self, "candidate_indices_", np.arange(len(self.scores_)))
        self.removed_indices_ = cand[self._removed]
        del self._removed
        return out


class InfluenceRelabeler(BaseSelector):
    """Flip the labels of harmful training rows instead of dropping them (RDIA).

    Kong et al. (2022): a row whose removal is predicted to lower the
    validation loss by more than ``threshold`` (or one of the ``n_relabel``
    most harmful rows) gets the other label of a binary problem. All rows are
    returned (``sample_indices_`` lists them), with the new labels.

    Parameters
    ----------
    estimator : classifier, default=None
        A supported binary classifier (or Pipeline ending in one); None:
        ``LogisticRegression``.
    n_relabel : int or float, default=None
        Relabel this many of the most harmful rows (a float in (0, 1): a
        fraction of them). Overrides ``threshold``.
    threshold : float, default=0.0
        Relabel rows whose predicted decrease of the mean validation loss on
        removal exceeds it.
    validation_fraction : float in (0, 1), default=0.2
        Held-out share of the training rows when no validation data is given
        (with a warning; those rows are not returned).
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    sample_indices_ : ndarray
    relabeled_indices_ : ndarray
        Training rows whose label was flipped.
    scores_ : ndarray of shape (n_candidates,)
        Harm of each candidate row (predicted decrease of the validation loss).

    Notes
    -----
    With the default ``threshold=0.0`` every row predicted to be harmful at all
    is flipped, which also flips many clean rows whose harm is tiny; in our
    experiments that gave a *higher* test log-loss than dropping the same rows.
    Capping the number of relabeled rows made relabeling better than dropping
    (breast cancer, 30% flipped labels, ``n_relabel=0.1``: test log-loss 0.267
    vs 0.283; see ``examples/subsampling_selectors.py``). Set ``n_relabel`` (or
    a positive ``threshold``) to about the label-noise rate you expect.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from skinfluence.selection import InfluenceRelabeler
    >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
    >>> flip = np.random.default_rng(0).choice(450, 40, replace=False)   # 9% noise
    >>> y_noisy = y.copy(); y_noisy[flip] = 1 - y_noisy[flip]
    >>> r = InfluenceRelabeler(n_relabel=40)
    >>> Xs, ys = r.fit_resample(X[:450], y_noisy[:450], X_val=X[450:], y_val=y[450:])
    >>> float(np.isin(r.relabeled_indices_, flip).mean())   # share of true flips
    0.55
    """

    _uses_validation = True

    def __init__(
        self, estimator=None, n_relabel=None, threshold=0.0, validation_fraction=0.2,
        random_state=None,
    ):
        self.estimator = estimator
        self.n_relabel = n_relabel
        self.threshold = threshold
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def _select(self, X, y, X_val, y_val, rng):
        classes = np.unique(y)
        if classes.size != 2:
            raise ValueError(
                f"InfluenceRelabeler flips binary labels; y has {classes.size} classes."
            )
        harm, est = _harm_scores(self, X, y, X_val, y_val, "validation")
        flip = _flagged(harm, self.n_relabel, self.threshold, None, "n_relabel")
        y_new = y.copy()
        y_new[flip] = np.where(y[flip] == classes[0], classes[1], classes[0])
        self.scores_ = harm
        self.estimator_ = est
        self._flip = flip
        return np.arange(X.shape[0]), None, y_new

    def fit_resample(self, X, y, X_val=None, y_val=None):
        """Relabel the flagged rows; see :meth:`BaseSelector.fit_resample`."""
        out = super().fit_resample(X, y, X_val, y_val)
        self.relabeled_indices_ = self.candidate_indices_[self._flip]
        del self._flip
        return out
