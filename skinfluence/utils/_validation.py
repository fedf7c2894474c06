"""Validation at the public boundary: arrays, shapes, finiteness, sparse formats."""

import sys
import warnings

import numpy as np
import scipy.sparse as sp


def _is_dataframe(X):
    return hasattr(X, "iloc") and hasattr(X, "columns")


def _torch_tensor_type():
    """torch.Tensor if torch is already imported (never imports it), else None."""
    torch = sys.modules.get("torch")
    return getattr(torch, "Tensor", None)


def _check_tensor(X, name):
    """Validate a dense torch tensor on its own device (no host round trip).

    Only a scalar (the finiteness flag of each chunk) comes back to the host;
    non-float dtypes are converted to float64 on the tensor's device.
    """
    torch = sys.modules["torch"]
    if X.layout != torch.strided:
        raise TypeError(
            f"{name} is a sparse torch tensor ({X.layout}); pass a dense tensor or a "
            "scipy.sparse CSR matrix."
        )
    X = X.detach()
    if X.dtype not in (torch.float32, torch.float64):
        if X.is_complex():
            raise ValueError(f"{name} must be real-valued; got a {X.dtype} tensor.")
        X = X.to(torch.float64)
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be 2-dimensional (n_samples, n_features); got shape "
            f"{tuple(X.shape)}."
        )
    if X.shape[0]:
        from .._config import get_config

        budget = get_config()["working_memory"] * 2**20
        step = max(1, int(budget // max(1, X.shape[1] * X.element_size())))
        for block in X.split(step):
            if not bool(torch.isfinite(block).all()):
                raise ValueError(f"{name} contains NaN or infinity.")
    return X


def check_design(X, *, n_features=None, name="X", accept_sparse=True):
    """Return X as a float ndarray or CSR matrix without copying when possible.

    Raises ValueError naming the problem for NaN/inf, wrong dimensionality,
    feature-count mismatch; converts other sparse formats to CSR with a warning.
    The caller's array is never modified. Dense torch tensors (for the torch
    backend) pass through on their device, validated there; this never imports
    torch.
    """
    tensor_type = _torch_tensor_type()
    if tensor_type is not None and isinstance(X, tensor_type):
        X = _check_tensor(X, name)
    elif sp.issparse(X):
        if not accept_sparse:
            raise TypeError(f"{name} must be dense here; got a scipy.sparse matrix.")
        if X.format != "csr":
            warnings.warn(
                f"{name} is a sparse {X.format.upper()} matrix; converting to CSR "
                "(a copy). Pass CSR to avoid it.",
                UserWarning,
                stacklevel=3,
            )
            X = X.tocsr()
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if not np.all(np.isfinite(X.data)):
            raise ValueError(f"{name} contains NaN or infinity.")
        if X.ndim != 2:
            raise ValueError(f"{name} must be 2-dimensional.")
    else:
        if _is_dataframe(X):
            X = X.to_numpy()
        X = np.asarray(X)
        if X.dtype.kind in "OUSV":
            try:
                X = X.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name} must be numeric: {exc}") from None
        elif X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if X.ndim != 2:
            raise ValueError(
                f"{name} must be 2-dimensional (n_samples, n_features); got shape "
                f"{X.shape}."
            )
        if not np.isfinite(X).all():
            raise ValueError(f"{name} contains NaN or infinity.")
    if X.shape[0] == 0:
        raise ValueError(f"{name} has no rows.")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the estimator was fitted with "
            f"{n_features} features."
        )
    return X


def _host_vector(v):
    """A torch tensor holding an n-vector (y, weights) comes to the host: per-row
    loss quantities are computed with NumPy."""
    tensor_type = _torch_tensor_type()
    if tensor_type is not None and isinstance(v, tensor_type):
        return v.detach().cpu().numpy()
    return v


def check_target(y, n_samples, name="y"):
    """Return y as a 1-d array of length n_samples (labels kept as they are)."""
    if y is None:
        raise ValueError(f"{name} is required to compute influence.")
    y = _host_vector(y)
    if _is_dataframe(y):
        if y.shape[1] != 1:
            raise ValueError(f"{name} must be 1-dimensional; multi-output targets are not supported.")
        y = y.iloc[:, 0]
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be 1-dimensional; got shape {y.shape} (multi-output "
            "targets are not supported)."
        )
    if y.shape[0] != n_samples:
        raise ValueError(
            f"X and {name} have inconsistent numbers of samples: {n_samples} and "
            f"{y.shape[0]}."
        )
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return y


def check_weights(sample_weight, n_samples):
    """Return non-negative finite float weights of length n_samples (ones if None)."""
    if sample_weight is None:
        return np.ones(n_samples)
    sample_weight = _host_vector(sample_weight)
    if np.isscalar(sample_weight):
        return np.full(n_samples, float(sample_weight))
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},); got {w.shape}."
        )
    if not np.all(np.isfinite(w)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if np.any(w < 0):
        raise ValueError("sample_weight must be non-negative.")
    if not np.any(w > 0):
        raise ValueError("sample_weight has no positive entry.")
    return w
