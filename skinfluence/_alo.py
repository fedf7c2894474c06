"""Approximate leave-one-out (ALO) risk of a fitted model for any scikit-learn scorer.

The leave-one-out predictions come from :class:`skinfluence.Influence`
(``loo_decision_function``, ``loo_predict_proba``, ``loo_predict``): exact for least
squares and Ridge (the PRESS identity), one Newton step with the leave-one-out
Hessian for GLMs and the smoothed-hinge SVM (Rad & Maleki, JRSS-B 2020), and on the
active set for L1/elastic-net logistic fits (Auddy et al., AISTATS 2024).

A scorer is evaluated on them exactly as ``cross_val_score`` with leave-one-out
folds would evaluate it on ``cross_val_predict``'s output: the scorer is called on a
stand-in estimator whose ``predict``, ``predict_proba`` and ``decision_function``
return the leave-one-out predictions, so every scorer (``neg_log_loss``,
``roc_auc``, ``accuracy``, ``neg_mean_poisson_deviance``, ``make_scorer(...)``)
reads the response it normally reads.
"""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.metrics import get_scorer
from sklearn.utils._tags import ClassifierTags, RegressorTags
from sklearn.utils.metaestimators import available_if

__all__ = ["LOOPredictions", "alo_score", "resolve_scorer"]


def _has_proba(self):
    return self._proba is not None


class LOOPredictions(BaseEstimator):
    """Stand-in estimator returning one Influence's leave-one-out predictions.

    Scorers call ``predict`` / ``predict_proba`` / ``decision_function`` on it;
    ``X`` must have as many rows as the training data and is otherwise ignored
    (row i gets row i's leave-one-out prediction).

    Parameters
    ----------
    influence : Influence

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.linear_model import LinearRegression
    >>> X = np.arange(6.0)[:, None]; y = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 9.0])
    >>> stand_in = LOOPredictions(LinearRegression().fit(X, y).influence())
    >>> float(stand_in.predict(X)[-1])
    5.0
    """

    def __init__(self, influence):
        self.influence = influence
        obj = influence.objective
        self.n_ = obj.n_samples
        self._eta = influence.loo_decision_function()
        self._classes = None if obj.classes is None else np.asarray(obj.classes)
        self._proba = influence.loo_predict_proba() if obj.loss.is_probabilistic else None
        if self._classes is not None:
            self.classes_ = self._classes

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self._classes is not None:
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags()
        else:
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
        return tags

    def _check(self, X):
        if X.shape[0] != self.n_:
            raise ValueError(
                f"The leave-one-out stand-in has {self.n_} rows; the scorer passed "
                f"{X.shape[0]}."
            )

    def decision_function(self, X):
        self._check(X)
        return self._eta

    def predict(self, X):
        self._check(X)
        return self.influence.loo_predict()

    @available_if(_has_proba)
    def predict_proba(self, X):
        self._check(X)
        return self._proba

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))


def _default_scorer(objective):
    """The metric of the estimator's own ``score``: accuracy, R^2 or D^2 (deviance)."""
    from sklearn.metrics import d2_tweedie_score, make_scorer

    if objective.classes is not None:
        return get_scorer("accuracy")
    power = getattr(objective.loss, "power", None)
    if objective.loss.is_least_squares or power is None:
        return get_scorer("r2")
    return make_scorer(d2_tweedie_score, power=power)


def resolve_scorer(scoring, objective):
    """A scorer callable for ``scoring`` (None: the estimator's own ``score`` metric).

    Examples
    --------
    >>> from skinfluence._alo import resolve_scorer
    >>> resolve_scorer("neg_log_loss", None)
    make_scorer(log_loss, greater_is_better=False, response_method='predict_proba')
    """
    if scoring is None:
        return _default_scorer(objective)
    if isinstance(scoring, str):
        return get_scorer(scoring)
    if callable(scoring):
        return scoring
    raise ValueError(
        "scoring must be None, a scorer name (sklearn.metrics.get_scorer_names()) or a "
        f"callable scorer(estimator, X, y); got {scoring!r}."
    )


def alo_score(influence, scoring=None, sample_weight=None):
    """ALO estimate of a score: the scorer evaluated on the leave-one-out predictions.

    Parameters
    ----------
    influence : Influence
    scoring : str, callable or None, default=None
        A scikit-learn scorer name (``"neg_log_loss"``, ``"accuracy"``,
        ``"roc_auc"``, ``"neg_mean_squared_error"``,
        ``"neg_mean_poisson_deviance"``...), or a callable
        ``scorer(estimator, X, y)`` (``sklearn.metrics.make_scorer(metric)`` for a
        plain metric). None: the metric of the estimator's ``score`` (accuracy for
        classifiers, R^2 for least squares, D^2 of the model's deviance for
        Poisson/Gamma/Tweedie regressors). As in ``GridSearchCV``, greater is better
        (losses come negated).
    sample_weight : array-like of shape (n_samples,), default=None
        Passed to the scorer (as ``cross_val_score``'s scoring weights).

    Returns
    -------
    float
    """
    obj = influence.objective
    scorer = resolve_scorer(scoring, obj)
    stand_in = LOOPredictions(influence)
    rows = np.arange(obj.n_samples, dtype=np.float64)[:, None]
    y = obj.y
    if obj.classes is not None:  # labels as the estimator knows them (SVM codes y as +-1)
        codes = (obj.y > 0) if obj.n_outputs == 1 else obj.y
        y = np.asarray(obj.classes)[np.asarray(codes, dtype=int)]
    kwargs = {} if sample_weight is None else {"sample_weight": np.asarray(sample_weight)}
    return float(scorer(stand_in, rows, y, **kwargs))
