"""Registry: estimator class -> function building the objective it minimized."""

import importlib

from ..exceptions import UnsupportedEstimatorError

_ADAPTERS = {}
#: top-level package of an estimator -> adapter module imported on first use (so
#: importing skinfluence never imports these optional libraries)
_LAZY_ADAPTERS = {"dask_ml": "skinfluence.adapters._daskml"}


def _qualified_name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def register_adapter(*estimator_classes, options=()):
    """Decorator registering ``fn(estimator, X, y, sample_weight, **options) -> LinearObjective``.

    The lookup walks the estimator's MRO, so subclasses (skinfluence's drop-in
    estimators included) use their parent's adapter unless they register one.

    The adapter contract: ``X`` is validated (NumPy, CSR or a backend's array),
    ``y`` is 1-d with one entry per row, ``sample_weight`` is a float array of
    the fit's weights, or ``None`` for *evaluation* data (test or validation
    rows: unit weights, and no class weights are computed from their labels).
    The adapter returns the objective in normalized form (see
    :class:`skinfluence.adapters.LinearObjective`) and validates its options.

    Parameters
    ----------
    *estimator_classes : type or str
        Fitted-estimator classes the adapter understands. A string
        ``"package.module.ClassName"`` names a class without importing it (for
        estimators of optional packages, or of layers above the adapters).
    options : tuple of str, default=()
        Keyword options the adapter takes (e.g. ``("temperature",)``); the
        front door passes these to it and refuses options nobody declared.

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
        fn.options = tuple(options)
        for cls in estimator_classes:
            key = cls if isinstance(cls, str) else _qualified_name(cls)
            _ADAPTERS[key] = fn
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
    return sorted({key.rsplit(".", 1)[-1] for key in _ADAPTERS})


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
        fn = _ADAPTERS.get(_qualified_name(cls))
        if fn is not None:
            return fn
    # adapters of optional libraries register when the first such estimator shows up
    module = _LAZY_ADAPTERS.pop(type(estimator).__module__.split(".")[0], None)
    if module is not None:
        importlib.import_module(module)
        return get_adapter(estimator)
    raise UnsupportedEstimatorError(
        f"{type(estimator).__name__} is not supported: influence needs a smooth "
        "objective with a linear predictor. Supported estimators: "
        f"{', '.join(supported_estimators())} (and Pipelines, searches and "
        "TransformedTargetRegressor wrapping one)."
    )
