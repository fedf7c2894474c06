"""ALOSearchCV: grid search scored by approximate leave-one-out, one fit per grid value."""

import time
import warnings
from copy import deepcopy

import numpy as np
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import ParameterGrid
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._alo import alo_score, resolve_scorer
from .._frontdoor import own_fit_influence

__all__ = ["ALOSearchCV"]


def _estimator_has(attr):
    """Delegate ``attr`` to best_estimator_ (fitted) or the template (unfitted)."""

    def check(self):
        if not self.refit:
            raise AttributeError(
                f"This {type(self).__name__} was fitted with refit=False; {attr} needs "
                "the refitted best estimator."
            )
        getattr(getattr(self, "best_estimator_", self.estimator), attr)
        return True

    return check


def _final_step(estimator):
    """(final estimator, prefix for its parameter names) of an estimator or Pipeline."""
    prefix = ""
    while isinstance(estimator, Pipeline):
        name, estimator = estimator.steps[-1]
        prefix += f"{name}__"
    return estimator, prefix


def _masked_params(candidates):
    out = {}
    names = sorted({k for c in candidates for k in c})
    for name in names:
        arr = np.ma.MaskedArray(np.empty(len(candidates), dtype=object), mask=True)
        for i, c in enumerate(candidates):
            if name in c:
                arr[i] = c[name]
        out[f"param_{name}"] = arr
    return out


class ALOSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Exhaustive search over a parameter grid scored by approximate leave-one-out.

    Like :class:`sklearn.model_selection.GridSearchCV`, but each grid value is
    fitted **once**, on all the rows, and scored by the leave-one-out estimate of
    :meth:`skinfluence.Influence.alo_score`: exact leave-one-out for least
    squares and Ridge (the PRESS identity), the approximate leave-one-out of Rad &
    Maleki (2020) for logistic, Poisson/Gamma/Tweedie and smoothed-hinge models
    (one Newton step with the leave-one-out Hessian, from the one factorization
    of the Hessian). No folds. Successive fits are warm-started from the previous
    grid value's coefficients when the estimator has ``warm_start``, so order the
    grid along the path (e.g. ``np.logspace`` for ``C``).

    Parameters
    ----------
    estimator : estimator or Pipeline
        A model skinfluence supports (see
        :func:`skinfluence.adapters.supported_estimators`) or a Pipeline ending in
        one; parameters of a Pipeline's steps are named ``step__param``.
    param_grid : dict or list of dicts
        As ``GridSearchCV``'s (any parameters, usually the penalty ``C`` or
        ``alpha``).
    scoring : str, callable or None, default=None
        A scorer name or ``scorer(estimator, X, y)`` callable evaluated on the
        leave-one-out predictions; None: the estimator's ``score`` metric
        (accuracy, R^2, D^2). Greater is better.
    refit : bool, default=True
        Expose the best grid value's model as ``best_estimator_`` (already
        fitted on all rows during the search: no extra fit; its ``warm_start``
        is reset to the template's).
    warm_start : bool, default=True
        Start each fit from the previous grid value's solution.
    influence_options : dict, default=None
        Passed to :func:`skinfluence.influence` (e.g. ``{"active_set": True}``
        for L1 logistic fits, ``{"temperature": 0.1}``).
    error_score : "raise" or float, default=np.nan
        Score recorded when a fit or its ALO score fails (with a
        ``FitFailedWarning``); ``"raise"`` re-raises.

    Attributes
    ----------
    cv_results_ : dict of arrays
        ``params``, ``param_<name>`` (masked arrays), ``mean_test_score`` (the
        ALO score), ``rank_test_score``, ``mean_fit_time``, ``std_fit_time``,
        ``mean_score_time`` (influence + scoring), ``std_score_time``; loads into
        ``pandas.DataFrame`` like ``GridSearchCV``'s. There are no folds, hence no
        ``split<k>_*`` columns and no ``std_test_score``.
    best_index_, best_score_, best_params_ : int, float, dict
    best_estimator_ : estimator (``refit=True``)
    refit_time_ : float
    scorer_ : callable
    n_features_in_, feature_names_in_, classes_ : from ``best_estimator_``

    Notes
    -----
    Sample weights, when given, are used by each fit and by the leave-one-out
    predictions; the score itself is unweighted, as ``GridSearchCV``'s. A
    Pipeline's transformers are refitted on all rows for each grid value, and
    the leave-one-out predictions hold them fixed (the transformers are not
    left-one-out).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skinfluence.model_selection import ALOSearchCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> pipe = make_pipeline(StandardScaler(), LogisticRegression())
    >>> search = ALOSearchCV(pipe, {"logisticregression__C": np.logspace(-3, 3, 7)},
    ...                      scoring="neg_log_loss").fit(X, y)
    >>> float(search.best_params_["logisticregression__C"])
    1.0
    >>> search.cv_results_["rank_test_score"].tolist()
    [7, 4, 2, 1, 3, 5, 6]
    """

    def __init__(self, estimator, param_grid, *, scoring=None, refit=True, warm_start=True,
                 influence_options=None, error_score=np.nan):
        self.estimator = estimator
        self.param_grid = param_grid
        self.scoring = scoring
        self.refit = refit
        self.warm_start = warm_start
        self.influence_options = influence_options
        self.error_score = error_score

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        sub = get_tags(self.estimator)
        tags.estimator_type = sub.estimator_type
        tags.classifier_tags = deepcopy(sub.classifier_tags)
        tags.regressor_tags = deepcopy(sub.regressor_tags)
        tags.input_tags.sparse = sub.input_tags.sparse
        return tags

    def _path_estimator(self):
        """A fresh clone that warm-starts from its previous fit along the grid."""
        work = clone(self.estimator)
        final, prefix = _final_step(work)
        if self.warm_start and "warm_start" in final.get_params(deep=False):
            work.set_params(**{f"{prefix}warm_start": True})
        return work

    def _fit_kwargs(self, sample_weight):
        if sample_weight is None:
            return {}
        _, prefix = _final_step(self.estimator)
        return {f"{prefix}sample_weight": sample_weight}

    def fit(self, X, y, sample_weight=None):
        """Fit each grid value once, score it by ALO, refit the best.

        Parameters
        ----------
        X : array-like or CSR matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the (final) estimator's ``fit`` and to the influence.

        Returns
        -------
        self
        """
        if not (self.error_score == "raise" or isinstance(self.error_score, (int, float))):
            raise ValueError(
                f"error_score must be 'raise' or a number; got {self.error_score!r}."
            )
        candidates = list(ParameterGrid(self.param_grid))
        if not candidates:
            raise ValueError("param_grid is empty: nothing to search.")
        options = dict(self.influence_options or {})
        fit_kwargs = self._fit_kwargs(sample_weight)
        work = self._path_estimator()

        n = len(candidates)
        scores = np.full(n, np.nan)
        fit_time = np.zeros(n)
        score_time = np.zeros(n)
        self.scorer_ = None
        first_error = None
        best_score, best_fit = -np.inf, None
        for k, params in enumerate(candidates):
            t0 = time.perf_counter()
            try:
                work.set_params(**params)
                work.fit(X, y, **fit_kwargs)
                t1 = time.perf_counter()
                inf = own_fit_influence(work, X, y, sample_weight, **options)
                if self.scorer_ is None:
                    self.scorer_ = resolve_scorer(self.scoring, inf.objective)
                scores[k] = alo_score(inf, self.scorer_)
                t2 = time.perf_counter()
                if self.refit and not scores[k] <= best_score:  # keep the best fit so far
                    best_score, best_fit = scores[k], deepcopy(work)
            except Exception as exc:
                if self.error_score == "raise":
                    raise
                first_error = first_error or exc
                t1 = t2 = time.perf_counter()
                scores[k] = self.error_score
                warnings.warn(
                    f"ALOSearchCV: the fit or ALO score failed for {params}; its score is "
                    f"set to {self.error_score}. {type(exc).__name__}: {exc}",
                    FitFailedWarning,
                    stacklevel=2,
                )
                work = self._path_estimator()  # do not warm-start from a failed state
            fit_time[k], score_time[k] = t1 - t0, t2 - t1
        if np.all(np.isnan(scores)) and first_error is not None:
            raise first_error  # every candidate failed: the data or the estimator is bad
        filled = np.where(np.isnan(scores), -np.inf, scores)
        ranks = rankdata(-filled, method="min").astype(np.int32)
        results = {"mean_fit_time": fit_time, "std_fit_time": np.zeros(n),
                   "mean_score_time": score_time, "std_score_time": np.zeros(n)}
        results.update(_masked_params(candidates))
        results["params"] = candidates
        results["mean_test_score"] = scores
        results["rank_test_score"] = ranks
        self.cv_results_ = results
        self.best_index_ = int(np.argmax(filled))
        self.best_score_ = float(scores[self.best_index_])
        self.best_params_ = candidates[self.best_index_]
        self.n_splits_ = 1
        self.multimetric_ = False
        if self.refit:
            # the best grid value's own fit, with the template's warm_start restored:
            # the same optimum a fresh fit reaches (GridSearchCV refits; this saves a fit)
            t0 = time.perf_counter()
            if best_fit is not None and scores[self.best_index_] == best_score:
                keep = {k: v for k, v in self.estimator.get_params().items()
                        if k.endswith("warm_start")}
                self.best_estimator_ = best_fit.set_params(**keep)
            else:
                best = clone(self.estimator).set_params(**self.best_params_)
                self.best_estimator_ = best.fit(X, y, **fit_kwargs)
            self.refit_time_ = time.perf_counter() - t0
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        return self

    # -- delegation to the best estimator -------------------------------------------
    @property
    def n_features_in_(self):
        """Number of features seen during fit (from ``best_estimator_``)."""
        if not hasattr(self, "best_estimator_"):
            raise AttributeError(f"{type(self).__name__} has no n_features_in_ before fit.")
        return self.best_estimator_.n_features_in_

    @property
    def classes_(self):
        """Class labels (classifiers, ``refit=True``)."""
        _estimator_has("classes_")(self)
        return self.best_estimator_.classes_

    @available_if(_estimator_has("predict"))
    def predict(self, X):
        """``best_estimator_.predict``."""
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """``best_estimator_.predict_proba``."""
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """``best_estimator_.predict_log_proba``."""
        check_is_fitted(self)
        return self.best_estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """``best_estimator_.decision_function``."""
        check_is_fitted(self)
        return self.best_estimator_.decision_function(X)

    @available_if(_estimator_has("transform"))
    def transform(self, X):
        """``best_estimator_.transform``."""
        check_is_fitted(self)
        return self.best_estimator_.transform(X)

    @available_if(_estimator_has("score"))
    def score(self, X, y, sample_weight=None):
        """The search's scorer on (X, y) with ``best_estimator_`` (as GridSearchCV)."""
        check_is_fitted(self)
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        return float(self.scorer_(self.best_estimator_, X, y, **kwargs))

    def __sklearn_is_fitted__(self):
        return hasattr(self, "cv_results_")
