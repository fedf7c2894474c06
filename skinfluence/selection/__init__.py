"""Influence-based selection of training rows: subsampling, filtering, relabeling.

Every selector follows imbalanced-learn's sampler contract (``fit_resample(X,
y)``; usable as a step of ``imblearn.pipeline.Pipeline``, applied at fit time
only) but also accepts continuous targets, and records ``sample_indices_``
(and ``sample_weight_`` where the result is weighted). In a plain
scikit-learn ``Pipeline``, wrap a selector and the final model in
:class:`skinfluence.pipeline.ResampledEstimator`, which forwards the weights.

Selectors that score rows against a validation loss take validation data as
``fit_resample(X, y, X_val=..., y_val=...)``; without it they hold out part of
the training data and warn.

Examples
--------
>>> import numpy as np
>>> from skinfluence.selection import LeverageSampler
>>> X = np.random.default_rng(0).normal(size=(500, 2)); y = X.sum(axis=1)
>>> sampler = LeverageSampler(n_samples=50, random_state=0)
>>> Xs, ys = sampler.fit_resample(X, y)
>>> sampler.sample_indices_.shape, sampler.sample_weight_.shape
((50,), (50,))
"""

from ._base import BaseSelector, NoValidationDataWarning
from ._filter import InfluenceFilter, InfluenceRelabeler
from ._leverage import LeverageSampler, design_leverage
from ._optimal import OptimalSubsampler
from ._triage import mislabel_ranking
from ._uids import UIDSSampler

__all__ = [
    "BaseSelector",
    "InfluenceFilter",
    "InfluenceRelabeler",
    "LeverageSampler",
    "NoValidationDataWarning",
    "OptimalSubsampler",
    "UIDSSampler",
    "design_leverage",
    "mislabel_ranking",
]
