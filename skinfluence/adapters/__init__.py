"""Adapters: read a fitted estimator, return the objective it minimized.

To support a new estimator, write one function and register it::

    from skinfluence.adapters import LinearObjective, register_adapter
    from skinfluence.losses import HalfSquaredError

    @register_adapter(MyEstimator)            # or "mypackage.module.MyEstimator"
    def _my_estimator(estimator, X, y, sample_weight):
        # sample_weight None: evaluation data (unit weights, no class weights)
        return LinearObjective(HalfSquaredError(), X, y, sample_weight, coef, intercept, ...)
"""

from .._model import LinearObjective
from . import _sgd  # noqa: F401  (SGDClassifier, SGDRegressor)
from . import _sklearn  # noqa: F401  (registers the scikit-learn adapters)
from . import _svm  # noqa: F401  (SmoothHingeSVC, LinearSVC(loss="hinge") via a temperature)
from ._registry import get_adapter, register_adapter, supported_estimators

__all__ = ["LinearObjective", "get_adapter", "register_adapter", "supported_estimators"]
