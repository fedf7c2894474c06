"""Shared helpers: validation at the public boundary and chunked row passes."""

import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._api import _split_pipeline
from ..adapters import get_adapter
from ..utils._chunks import iter_row_chunks  # noqa: F401  (re-exported)
from ..exceptions import UnsupportedEstimatorError
from ..utils._validation import check_design, check_target, check_weights


def build_objective(estimator, X, y, sample_weight=None, **adapter_options):
    """Validate the inputs and return the objective ``estimator`` minimized.

    Mirrors :func:`skinfluence.influence` (pipelines, validation, adapters).
    """
    final, Xt = _split_pipeline(estimator, X)
    adapter = get_adapter(final)
    check_is_fitted(final)
    Xt = check_design(Xt, n_features=getattr(final, "n_features_in_", None))
    y = check_target(y, Xt.shape[0])
    s = check_weights(sample_weight, Xt.shape[0])
    objective = adapter(final, Xt, y, s, **adapter_options)
    objective.loss.check_y(objective.y)
    return objective


def require_single_output(objective, what):
    if objective.n_outputs != 1:
        raise UnsupportedEstimatorError(
            f"{what} supports single-output models (regression GLMs, binary "
            f"logistic regression, binary SVMs); this {type(objective.loss).__name__} "
            f"objective has {objective.n_outputs} outputs. Use .influence() for "
            "multinomial models, or fit one-vs-rest binary models."
        )


def check_positive_int(value, name, upper=None, upper_what=None):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer; got {value!r}.")
    value = int(value)
    if value < 1:
        raise ValueError(f"{name} must be >= 1; got {value}.")
    if upper is not None and value > upper:
        raise ValueError(f"{name}={value} is larger than {upper_what} ({upper}).")
    return value


def fisher_weights(objective, backend=None):
    """IRLS weights w_i (sample weights included) and per-row gradients g_i."""
    w = objective.eta_hessian("fisher", backend=backend)[:, 0, 0]
    g = objective.eta_gradient(backend=backend)[:, 0]
    return np.asarray(w, dtype=np.float64), np.asarray(g, dtype=np.float64)
