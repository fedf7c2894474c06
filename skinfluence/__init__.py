"""skinfluence: which training rows drive this fit?

Influence diagnostics (leverage, Cook's distance, DFBETA(S), DFFITS, COVRATIO,
studentized residuals) and influence functions for scikit-learn's linear models,
computed in closed form from one factorization of the Hessian of the objective
scikit-learn actually minimized.

Examples
--------
>>> from sklearn.datasets import load_diabetes
>>> from skinfluence.linear_model import LinearRegression
>>> X, y = load_diabetes(return_X_y=True)
>>> inf = LinearRegression().fit(X, y).influence()
>>> inf.top(3).tolist()
[...]
>>> import skinfluence.sketch, skinfluence.selection    # the subpackages, also as attributes
"""

from . import adapters, backends, exceptions, losses  # noqa: F401  (public subpackages)
from ._config import config_context, get_config, set_config
from ._frontdoor import influence
from ._result import Influence
from .adapters import register_adapter, supported_estimators
from .exceptions import (
    DegenerateFitError,
    FitCheckError,
    FitCheckWarning,
    SingularHessianError,
    UnsupportedEstimatorError,
)
# the public subpackages above the front door (reachable after `import skinfluence`)
from . import linear_model, pipeline, selection, sketch, svm, validation  # noqa: E402,F401

__version__ = "0.1.0"

__all__ = [
    "DegenerateFitError",
    "FitCheckError",
    "FitCheckWarning",
    "Influence",
    "SingularHessianError",
    "UnsupportedEstimatorError",
    "config_context",
    "get_config",
    "influence",
    "register_adapter",
    "set_config",
    "supported_estimators",
    "__version__",
]
