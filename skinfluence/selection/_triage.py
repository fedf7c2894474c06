"""Label-error review: which training labels a person should check first, and how many.

Everything comes from the fitted model the user already has, through
``skinfluence.influence`` (one factorization of the Hessian, no refit): the
leave-one-out class probabilities P_(-i)(y_i) (exact for least squares, one
Newton step with the leave-one-out Hessian for GLMs and the SVM), the training
loss, self-influence.

The estimate of *how many* labels are wrong is confident learning (Northcutt,
Jiang & Chuang 2021) on the leave-one-out probabilities: per-class thresholds
t_k = the mean leave-one-out self-confidence of the rows labelled k; a row
labelled i whose probability of some class j reaches t_j (the largest such j)
counts in the confident joint C[i, j]; calibrated to the class sizes, class i
has n_i (1 - C[i, i] / sum_j C[i, j]) wrong labels, and that many rows of
class i (the most suspect by the chosen score, among the rows whose
leave-one-out prediction is not their label) are flagged.
"""

import numpy as np
from scipy import stats
from sklearn.base import is_classifier
from sklearn.utils import check_random_state

from .._frontdoor import influence

_METHODS = ("auto", "loo_confidence", "loo_class_aware", "loss", "loo_loss",
            "self_influence", "random")


def _confidence(inf, y_idx):
    """Leave-one-out confidence in the given label, shape (n,), and the LOO scores.

    Probabilistic classifiers: P_(-i)(y_i) and the (n, K) probabilities;
    others (SVM): the leave-one-out margin of the given class over the best
    other class, and the (n, K) decision values (binary: [-eta, eta] / 2).
    """
    n = y_idx.shape[0]
    if inf.objective.loss.is_probabilistic:
        P = inf.loo_predict_proba()
    else:
        eta = inf.loo_decision_function()
        P = np.column_stack([-eta / 2, eta / 2]) if eta.ndim == 1 else eta
    own = P[np.arange(n), y_idx]
    if P.shape[1] == 1:  # pragma: no cover - defensive
        raise ValueError("A classifier with one class has no label errors to find.")
    if not inf.objective.loss.is_probabilistic:
        other = P.copy()
        other[np.arange(n), y_idx] = -np.inf
        own = own - other.max(axis=1)
    return own, P


def _class_thresholds(conf, y_idx, n_classes):
    """t_k = mean confidence of the rows labelled k (NaN for an empty class)."""
    t = np.full(n_classes, np.nan)
    for k in range(n_classes):
        m = y_idx == k
        if m.any():
            t[k] = conf[m].mean()
    return t


def _confident_learning_counts(P, y_idx):
    """Estimated number of wrong labels per given class (confident learning, calibrated)."""
    K = P.shape[1]
    t = np.array([P[y_idx == k, k].mean() if np.any(y_idx == k) else np.inf
                  for k in range(K)])
    above = P >= t[None, :]
    masked = np.where(above, P, -np.inf)
    counted = above.any(axis=1)
    j = np.argmax(masked, axis=1)
    joint = np.zeros((K, K))
    np.add.at(joint, (y_idx[counted], j[counted]), 1.0)
    sizes = np.bincount(y_idx, minlength=K)
    rows = joint.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        off = np.where(rows > 0, 1.0 - np.diag(joint) / rows, 0.0)
    return np.rint(sizes * off).astype(int)


def _label_indices(y, classes):
    """Positions of y's labels in ``classes`` (error naming y for unknown labels)."""
    lookup = {c: k for k, c in enumerate(np.asarray(classes).tolist())}
    try:
        return np.array([lookup[v] for v in np.asarray(y).tolist()], dtype=np.intp)
    except KeyError as exc:
        raise ValueError(
            f"y contains the label {exc.args[0]!r}, which the fitted estimator has not "
            f"seen (classes_ = {list(classes)[:10]})."
        ) from None


def mislabel_ranking(estimator, X, y, *, method="auto", sample_weight=None,
                     random_state=None, **influence_options):
    """Training rows in the order to review them for wrong labels, and how many are wrong.

    Uses the fitted model you already have (nothing is refitted): its
    :class:`skinfluence.Influence` gives each row's class probabilities with
    that row left out of the fit, P_(-i). ``method`` orders the rows:

    * ``"loo_confidence"``: 1 - P_(-i)(y_i), the leave-one-out self-confidence
      score of confident learning, from one fit instead of k cross-validation
      refits. SVMs (no probabilities): minus the leave-one-out margin of the
      given class.
    * ``"loo_class_aware"``: t_(y_i) - P_(-i)(y_i), the same confidence
      measured against the mean self-confidence t_k of the rows labelled k
      (confident learning's per-class threshold). Better when the noise is
      one-sided (labels of one class pushed into another).
    * ``"loss"``: the training loss of each row at the fitted parameters.
    * ``"loo_loss"``: the loss at the leave-one-out prediction (regressors too).
    * ``"self_influence"``: s_i^2 grad l_i' H^-1 grad l_i (Koh & Liang 2017,
      Fig. 6). Kept for comparison: with random label noise it finds *fewer*
      wrong labels than plain training loss on all four real data sets
      measured, and with one-sided noise it loses to ``"loo_class_aware"``
      (``benchmarks/RESULTS.md``): it favours high-leverage rows over badly
      fitted ones.
    * ``"random"``: the baseline.
    * ``"auto"`` (default): ``"loo_confidence"`` for classifiers, chosen by
      the benchmark (``benchmarks/bench_label_errors.py``): it matches
      cleanlab's 5-fold recipe (within one point of recall at 5% and 10%
      checked on four real data sets) at 0.01-0.2x its time, and unlike the
      class-aware score it does not fail on imbalanced classes;
      ``"loo_loss"`` for regressors.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
        A supported linear model (or Pipeline ending in one), fitted on
        ``(X, y)``, as for :func:`skinfluence.influence`.
    X : array-like, DataFrame or sparse CSR matrix of shape (n_samples, n_features)
        The training data (with the given, possibly wrong, labels ``y``).
    y : array-like of shape (n_samples,)
    method : str, default="auto"
        One of ``"auto"``, ``"loo_confidence"``, ``"loo_class_aware"``,
        ``"loss"``, ``"loo_loss"``, ``"self_influence"``, ``"random"``.
    sample_weight : array-like of shape (n_samples,), default=None
        The weights passed to ``fit``.
    random_state : int, RandomState or None, default=None
        For ``method="random"``.
    **influence_options
        Passed to :func:`skinfluence.influence` (``backend``, ``damping``, ...).

    Returns
    -------
    pandas.DataFrame
        One row per training row, indexed like X (a RangeIndex for arrays),
        most suspect first, with columns

        * ``score``: larger = more suspect;
        * ``is_label_issue``: bool, the estimated set of wrong labels.
          Classifiers: confident learning on the leave-one-out probabilities
          estimates how many rows of each given class are wrong and flags that
          many (the highest ``score`` within the class, among the rows whose
          leave-one-out prediction differs from the label); SVMs: the rows the
          leave-one-out prediction misclassifies. Regressors: rows whose
          externally studentized residual is a Bonferroni outlier at 5%
          (R's ``car::outlierTest``), flagged by ``score``;
        * ``label``: the given label;
        * ``loo_predicted``: the leave-one-out prediction (class or mean).

    Raises
    ------
    ValueError
        For an unknown ``method``, a method a regressor does not have, or
        labels the estimator has not seen.

    Notes
    -----
    Leave-one-out probabilities from one Newton step agree with actual refits
    (every row refitted): binary logistic regression median 2e-5, max 1.4e-3
    in probability (the refits move them by up to 0.15); multinomial (wine)
    max 0.028 (moves up to 0.38); exact for least squares and Ridge. The
    ranking of the most suspect rows is the refits' ranking
    (``tests/test_label_errors.py``; README, "Finding label errors").
    Cost: one factorization of the Hessian (also for multinomial models) plus
    one pass over X.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.preprocessing import scale
    >>> from skinfluence.selection import mislabel_ranking
    >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
    >>> y_noisy = y.copy(); y_noisy[:30] = 1 - y_noisy[:30]
    >>> est = LogisticRegression(max_iter=1000).fit(X, y_noisy)
    >>> frame = mislabel_ranking(est, X, y_noisy)
    >>> list(frame.columns)
    ['score', 'is_label_issue', 'label', 'loo_predicted']
    >>> int(frame.index[:57].isin(range(30)).sum()) >= 25   # check 10%: most flips found
    True
    >>> 20 <= int(frame["is_label_issue"].sum()) <= 45      # about 30 labels are wrong
    True
    """
    import pandas as pd

    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}.")
    inf = influence(estimator, X, y, sample_weight=sample_weight, **influence_options)
    obj = inf.objective
    n = obj.n_samples
    y_arr = np.asarray(y)
    classifier = obj.classes is not None or is_classifier(estimator)
    if method == "auto":
        method = "loo_confidence" if classifier else "loo_loss"
    if not classifier and method in ("loo_confidence", "loo_class_aware"):
        raise ValueError(
            f"method={method!r} needs a classifier; for regressors use 'loo_loss' "
            "(or 'loss', 'self_influence', 'random')."
        )

    if classifier:
        classes = np.asarray(obj.classes)
        y_idx = _label_indices(y_arr, classes)
        conf, P = _confidence(inf, y_idx)
        predicted = classes[np.argmax(P, axis=1)]
        if obj.loss.is_probabilistic:
            per_class = _confident_learning_counts(P, y_idx)
        else:
            per_class = np.bincount(y_idx[predicted != y_arr], minlength=classes.size)
    else:
        predicted = inf.loo_predict()

    if method == "loo_confidence":
        score = (1.0 - conf) if obj.loss.is_probabilistic else -conf
    elif method == "loo_class_aware":
        score = _class_thresholds(conf, y_idx, classes.size)[y_idx] - conf
    elif method == "loss":
        score = np.asarray(inf.per_sample_loss, dtype=np.float64)
    elif method == "loo_loss":
        score = np.asarray(inf.loo_per_sample_loss(), dtype=np.float64)
    elif method == "self_influence":
        score = np.asarray(inf.self_influence, dtype=np.float64)
    else:
        score = check_random_state(random_state).random_sample(n)

    flagged = np.zeros(n, dtype=bool)
    if classifier:
        for k, m in enumerate(per_class):
            # a row whose leave-one-out prediction is its label is never flagged
            rows = np.flatnonzero((y_idx == k) & (predicted != y_arr))
            if m > 0:
                flagged[rows[np.argsort(-score[rows], kind="stable")[:m]]] = True
    else:
        t = np.abs(np.asarray(inf.studentized_residuals_external))
        df = max(inf.df_resid - 1, 1)
        m = int(np.count_nonzero(t > stats.t.ppf(1 - 0.05 / (2 * n), df)))
        flagged[np.argsort(-score, kind="stable")[:m]] = True

    index = X.index if hasattr(X, "index") and hasattr(X, "columns") else pd.RangeIndex(n)
    frame = pd.DataFrame(
        {"score": score, "is_label_issue": flagged, "label": y_arr, "loo_predicted": predicted},
        index=index,
    )
    order = np.argsort(-score, kind="stable")
    return frame.iloc[order]

