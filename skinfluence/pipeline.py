"""``ResampledEstimator``: select training rows, then fit, inside plain scikit-learn.

A scikit-learn ``Pipeline`` step cannot change the number of rows, and
imbalanced-learn's ``Pipeline`` cannot pass a sampler's weights to the next
step. ``ResampledEstimator(sampler, estimator)`` is one estimator that does
both at fit time (``fit_resample``, then ``fit`` with the sampler's
``sample_weight_``) and predicts with the fitted estimator, so it works as the
last step of a ``Pipeline`` and inside ``GridSearchCV`` or
``cross_val_score``.
"""

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils import _safe_indexing
from sklearn.utils._tags import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _num_samples, check_is_fitted, has_fit_parameter

from .utils._validation import check_weights

__all__ = ["ResampledEstimator"]


def _estimator_has(attr):
    def check(self):
        if hasattr(self, "estimator_"):
            return hasattr(self.estimator_, attr)
        return hasattr(self.estimator, attr)

    return check


class ResampledEstimator(MetaEstimatorMixin, BaseEstimator):
    """Fit ``estimator`` on the rows (and with the weights) chosen by ``sampler``.

    ``fit`` clones both, calls ``sampler.fit_resample(X, y)`` (passing
    ``X_val, y_val`` when given) and fits the estimator on the result, with
    ``sample_weight=sampler.sample_weight_`` when the sampler is weighted
    (times the caller's ``sample_weight`` of the selected rows, if any).
    Prediction uses the fitted estimator on all rows: the sampler acts at fit
    time only.

    Any object with ``fit_resample`` works as the sampler, including
    imbalanced-learn's samplers (weights are then forwarded only if the
    sampler exposes ``sample_weight_``).

    Validation data in a ``Pipeline``: ``fit(..., resampledestimator__X_val=...)``
    passes ``X_val`` *untransformed*. If earlier steps transform X, pass it
    through them first (``pipe[:-1].transform(X_val)`` after fitting those
    steps), or hold no validation data and let the sampler hold out part of
    the training rows.

    Parameters
    ----------
    sampler : object with ``fit_resample``
        E.g. :class:`skinfluence.selection.OptimalSubsampler`.
    estimator : estimator
        The final model; must accept ``sample_weight`` in ``fit`` when the
        sampler is weighted.

    Attributes
    ----------
    sampler_ : the fitted clone of ``sampler``
    estimator_ : the fitted clone of ``estimator``
    sample_indices_ : ndarray
        Training rows the estimator was fitted on (if the sampler reports them).
    classes_ : ndarray
        For classifiers.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skinfluence.pipeline import ResampledEstimator
    >>> from skinfluence.selection import OptimalSubsampler
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(3000, 4)); y = X @ [1.0, 2.0, 0.0, -1.0] + rng.normal(size=3000)
    >>> model = make_pipeline(StandardScaler(), ResampledEstimator(
    ...     OptimalSubsampler(random_state=0), LinearRegression()))
    >>> grid = {"resampledestimator__sampler__n_samples": [100, 500]}
    >>> search = GridSearchCV(model, grid, cv=3).fit(X, y)
    >>> search.best_params_
    {'resampledestimator__sampler__n_samples': 500}
    """

    def __init__(self, sampler, estimator):
        self.sampler = sampler
        self.estimator = estimator

    def fit(self, X, y, X_val=None, y_val=None, sample_weight=None, **fit_params):
        """Resample (X, y) with the sampler, then fit the estimator on the result.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        X_val, y_val : array-like, default=None
            Validation data for samplers that score rows against a validation loss.
        sample_weight : array-like of shape (n_samples,), default=None
            Multiplied into the sampler's weights for the selected rows.
        **fit_params
            Passed to the estimator's ``fit``.

        Returns
        -------
        self
        """
        if not hasattr(self.sampler, "fit_resample"):
            raise TypeError(
                f"sampler must have a fit_resample method; got {type(self.sampler).__name__}."
            )
        if sample_weight is not None:
            sample_weight = check_weights(sample_weight, _num_samples(X))
        self.sampler_ = clone(self.sampler)
        kwargs = {} if X_val is None and y_val is None else {"X_val": X_val, "y_val": y_val}
        X_res, y_res = self.sampler_.fit_resample(X, y, **kwargs)
        idx = getattr(self.sampler_, "sample_indices_", None)
        weight = getattr(self.sampler_, "sample_weight_", None)
        if sample_weight is not None:
            if idx is None:
                raise ValueError(
                    f"{type(self.sampler_).__name__} does not report sample_indices_, "
                    "so sample_weight cannot follow the selected rows."
                )
            sw = _safe_indexing(np.asarray(sample_weight, dtype=np.float64), idx)
            weight = sw if weight is None else weight * sw
        self.estimator_ = clone(self.estimator)
        if weight is not None:
            if not has_fit_parameter(self.estimator_, "sample_weight"):
                raise TypeError(
                    f"{type(self.estimator_).__name__}.fit does not accept "
                    f"sample_weight, which {type(self.sampler_).__name__} produces."
                )
            fit_params["sample_weight"] = weight
        self.estimator_.fit(X_res, y_res, **fit_params)
        if idx is not None:
            self.sample_indices_ = np.asarray(idx)
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, attr):
                setattr(self, attr, getattr(self.estimator_, attr))
        return self

    @property
    def classes_(self):
        """Class labels of the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.classes_

    @available_if(_estimator_has("predict"))
    def predict(self, X):
        """Predict with the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the fitted estimator."""
        check_is_fitted(self)
        return self.estimator_.decision_function(X)

    @available_if(_estimator_has("score"))
    def score(self, X, y, sample_weight=None):
        """The fitted estimator's ``score`` on (X, y), on all rows."""
        check_is_fitted(self)
        kw = {} if sample_weight is None else {"sample_weight": sample_weight}
        return self.estimator_.score(X, y, **kw)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags.required = True
        tags.input_tags.sparse = inner.input_tags.sparse
        return tags
