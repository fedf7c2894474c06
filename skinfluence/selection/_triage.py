"""Mislabel triage: the order in which a reviewer should check training labels."""

import numpy as np
from sklearn.utils import check_random_state

from ._base import _default_estimator, _fitted_influence

_BY = ("self_influence", "loss", "random")


def mislabel_ranking(X, y, estimator=None, *, by="self_influence", random_state=None):
    """Training rows in the order to review them for wrong labels (most suspect first).

    Koh & Liang (2017, Fig. 6): ranking by self-influence s_i^2 grad l_i' H^-1
    grad l_i finds flipped labels faster than ranking by training loss or at
    random. The estimator is fitted on (X, y) first (a clone; pass a fitted
    estimator's unfitted twin, e.g. the same constructor call).

    Parameters
    ----------
    X : array-like or sparse CSR matrix of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    estimator : estimator, default=None
        A supported linear model (or Pipeline ending in one); None:
        ``LogisticRegression`` for class labels, ``LinearRegression`` otherwise.
    by : {"self_influence", "loss", "random"}, default="self_influence"
        ``"loss"`` (training loss of each row) and ``"random"`` are the
        baselines of the paper.
    random_state : int, RandomState or None, default=None
        For ``by="random"``.

    Returns
    -------
    ndarray of shape (n_samples,)
        Row positions, most suspect first.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from skinfluence.selection import mislabel_ranking
    >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
    >>> y_noisy = y.copy(); y_noisy[:30] = 1 - y_noisy[:30]
    >>> order = mislabel_ranking(X, y_noisy)
    >>> int(np.isin(order[:57], np.arange(30)).sum()) > 15   # check 10%: most flips found
    True
    """
    if by not in _BY:
        raise ValueError(f"by must be one of {_BY}; got {by!r}.")
    n = np.shape(X)[0]
    if by == "random":
        return check_random_state(random_state).permutation(n)
    est = _default_estimator(estimator, np.asarray(y)).fit(X, y)
    inf = _fitted_influence(est, X, y)
    if by == "loss":
        score = inf.objective.per_sample_loss(backend=inf.engine.backend)
    else:
        score = np.asarray(inf.self_influence)
    return np.argsort(-score, kind="stable")
