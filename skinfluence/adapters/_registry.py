"""Registry: estimator class -> function building the objective it minimized."""

import importlib

from ..exceptions import UnsupportedEstimatorError

_ADAPTERS = {}
#: top-level package of an estimator -> adapter module imported on first use (so
#: importing skinfluence never imports these optional libraries)
_LAZY_ADAPTERS = {"dask_ml": "skinfluence.adapters._daskml"}


def register_adapter(*estimator_classes):
    """Decorator registering ``fn(estimator, X, y, sample_weight, **options) -> LinearObjective``.

    The lookup walks the estimator's MRO, so subclasses (skinfluence's drop-in
    estimators included) use their parent's adapter unless they register one.

    Parameters
    ----------
    *estimator_classes : type
        Fitted-estimator classes the adapter understands.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from skinfluence.adapters import register_adapter, get_adapter
    >>> class MyRegression(LinearRegression):
    ...     pass
    >>> get_adapter(MyRegression()).__name__   # inherited from LinearRegression
    '_linear_regression'
    """

    def decorator(fn):
        for cls in estimator_classes:
            _ADAPTERS[cls] = fn
        return fn

    return decorator


def supported_estimators():
    """Names of the estimator classes with a registered adapter.

    Examples
    --------
    >>> from skinfluence.adapters import supported_estimators
    >>> "LogisticRegression" in supported_estimators()
    True
    """
    return sorted({cls.__name__ for cls in _ADAPTERS})


def get_adapter(estimator):
    """Return the adapter function for ``estimator`` or raise UnsupportedEstimatorError.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from skinfluence.adapters import get_adapter
    >>> get_adapter(Ridge()).__name__
    '_ridge'
    """
    for cls in type(estimator).__mro__:
        if cls in _ADAPTERS:
            return _ADAPTERS[cls]
    # adapters of optional libraries register when the first such estimator shows up
    module = _LAZY_ADAPTERS.pop(type(estimator).__module__.split(".")[0], None)
    if module is not None:
        importlib.import_module(module)
        return get_adapter(estimator)
    raise UnsupportedEstimatorError(
        f"{type(estimator).__name__} is not supported: influence needs a smooth "
        "objective with a linear predictor. Supported estimators: "
        f"{', '.join(supported_estimators())} (and Pipelines ending in one)."
    )
