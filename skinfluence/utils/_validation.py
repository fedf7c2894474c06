"""Array checks used by the front door (:mod:`skinfluence._frontdoor`) only.

NumPy arrays, scipy.sparse matrices and pandas objects are validated here;
arrays of another library (a torch tensor, a dask array) are validated by the
backend that owns them (:meth:`skinfluence.backends.Backend.check_design`), so
nothing here knows any array library but NumPy/SciPy/pandas.
"""

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import DataConversionWarning


# squared entries of X times the total weight must stay inside float64's range:
# |x| up to 1e150 squares to 1e300 (max 1.8e308), down to 1e-150 squares to 1e-300
# (subnormal below 2.2e-308); X'WX outside that overflows or underflows silently
_SCALE_MAX = 1e150
_SCALE_MIN = 1e-150


def _is_dataframe(X):
    return hasattr(X, "iloc") and hasattr(X, "columns")


def _is_series(y):
    return hasattr(y, "iloc") and not hasattr(y, "columns")


def _pandas_to_numpy(obj, name):
    """A DataFrame/Series as a float ndarray; pandas NA/NaN named as missing values."""
    try:
        isna = obj.isna().to_numpy()
    except Exception:  # pragma: no cover - exotic frames
        isna = None
    if isna is not None and isna.any():
        where = np.argwhere(isna.reshape(isna.shape[0], -1))[0]
        col = f", column {obj.columns[where[1]]!r}" if _is_dataframe(obj) else ""
        raise ValueError(
            f"{name} contains missing values (NaN or pandas NA; first at row "
            f"{obj.index[where[0]]!r}{col}). Impute or drop them before fitting."
        )
    return obj.to_numpy()


def _as_real_float(a, name):
    """float32/float64 view or copy of a NumPy array; complex and non-numeric refused."""
    if a.dtype.kind == "c":
        raise ValueError(
            f"{name} must be real-valued (Complex data not supported); got {a.dtype}."
        )
    if a.dtype.kind in "OUSV":
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric: {exc}") from None
    elif a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    return a


def _column_scale(X, columns=None):
    """max |X[:, j]| per column (``columns``: only those), chunked (one pass;
    NaN/inf propagate)."""
    from ._chunks import iter_row_chunks

    if sp.issparse(X):
        A = X if columns is None else X[:, columns]
        return np.asarray(abs(A).max(axis=0).todense(), dtype=np.float64).ravel()
    out = np.zeros(X.shape[1] if columns is None else len(columns))
    for _, _, Xc in iter_row_chunks(X, X.shape[1]):
        if columns is not None:
            Xc = Xc[:, columns]
        np.maximum(out, np.abs(Xc).max(axis=0, initial=0.0), out=out)
    return out


def _scale_ok_fast(X):
    """True when X is finite, no entry exceeds the overflow bound and every column
    is provably above the underflow bound: one flat pass (the global max, far
    cheaper than per-column maxima for narrow X) plus a look at the first rows.
    False means "look closer" (the per-column pass decides and names the column)."""
    from ._chunks import iter_row_chunks

    if sp.issparse(X):
        data = X.data
        top = float(np.max(np.abs(data))) if data.size else 0.0
        if not (np.isfinite(top) and top <= _SCALE_MAX):
            return False
        # the per-column check is cheap on CSR (nnz work) when some tiny entry exists
        nz = data[data != 0]
        return not (nz.size and float(np.min(np.abs(nz))) < _SCALE_MIN)
    buf = None
    for _, _, Xc in iter_row_chunks(X, X.shape[1]):
        if buf is None:
            buf = np.empty(Xc.shape, dtype=Xc.dtype)
        B = np.abs(Xc, out=buf[: Xc.shape[0]])
        top = float(B.max()) if B.size else 0.0
        if not (np.isfinite(top) and top <= _SCALE_MAX):
            return False
    # every column whose first rows already reach the underflow bound is fine;
    # the others (e.g. sparse indicator columns) get the exact per-column maximum
    head = np.abs(X[:4096]).max(axis=0, initial=0.0)
    low = np.flatnonzero(head < _SCALE_MIN)
    if low.size:
        full = _column_scale(X, low)
        if np.any((full > 0) & (full < _SCALE_MIN)):
            return False
    return True


# X arrays that passed check_scale: id -> (weak reference, fingerprint). The pass
# over X runs once per array (once per fit when the same X is analysed again); an
# array edited in place afterwards is still caught downstream: NaN/inf make the
# linear predictor non-finite (checked on every objective), overflow makes the
# Hessian non-finite (reported by the factorization)
_SCALE_MEMO = {}
_SCALE_MEMO_SIZE = 8


def _fingerprint(X):
    if sp.issparse(X):
        arrays = (X.data, X.indices, X.indptr)
    else:
        arrays = (X,)
    return tuple((a.__array_interface__["data"][0], a.shape, a.strides, a.dtype.str)
                 for a in arrays)


def validated(obj, fingerprint):
    """Did ``obj`` (the same object, with the same ``fingerprint``) pass a
    validation pass before? Backends use this for their own arrays (e.g. a torch
    tensor's data pointer, shape, strides and in-place version counter)."""
    entry = _SCALE_MEMO.get(id(obj))
    if entry is None:
        return False
    ref, fp = entry
    return ref() is obj and fp == fingerprint


def remember_validated(obj, fingerprint):
    """Record that ``obj`` passed a validation pass (see :func:`validated`)."""
    import weakref

    try:
        ref = weakref.ref(obj)
    except TypeError:  # pragma: no cover - objects without weak references
        return
    if len(_SCALE_MEMO) >= _SCALE_MEMO_SIZE:
        dead = [k for k, (r, _) in _SCALE_MEMO.items() if r() is None]
        for key in dead or [next(iter(_SCALE_MEMO))]:
            del _SCALE_MEMO[key]
    _SCALE_MEMO[id(obj)] = (ref, fingerprint)


def check_scale(X, *, name="X", feature_names=None):
    """Refuse entries whose squares overflow or underflow float64 (X'WX would be inf or 0).

    Also refuses NaN/inf. One flat pass over X (a second, per-column pass only to
    name the offending column); an array that passed is remembered, so analysing
    the same X again costs nothing.
    """
    if validated(X, _fingerprint(X)):
        return
    if _scale_ok_fast(X):
        remember_validated(X, _fingerprint(X))
        return
    scale = _column_scale(X)
    bad = ~np.isfinite(scale)
    if bad.any():
        raise ValueError(f"{name} contains NaN or infinity.")

    def label(j):
        if feature_names is not None and j < len(feature_names):
            return f"column {j} ({feature_names[j]!r})"
        return f"column {j}"

    big = np.flatnonzero(scale > _SCALE_MAX)
    if big.size:
        j = big[0]
        raise ValueError(
            f"{name} has entries of magnitude {scale[j]:.1e} in {label(j)}: their squares "
            "overflow float64, so X'WX (and every diagnostic) would be inf or NaN. "
            "Rescale the columns (e.g. StandardScaler) and refit."
        )
    tiny = np.flatnonzero((scale > 0) & (scale < _SCALE_MIN))
    if tiny.size:
        j = tiny[0]
        raise ValueError(
            f"{name} has a largest entry of magnitude {scale[j]:.1e} in {label(j)}: its "
            "squares underflow float64, so X'WX would report zero curvature for a "
            "column that is not zero. Rescale the columns (e.g. StandardScaler) and refit."
        )
    remember_validated(X, _fingerprint(X))


def check_design(X, *, n_features=None, name="X", backend=None, finite=True):
    """Return X as a float ndarray or CSR matrix without copying when possible.

    Raises ValueError naming ``name`` for NaN/inf, missing values, complex or
    non-numeric data, wrong dimensionality and a feature-count mismatch;
    converts other sparse formats to CSR with a warning. Arrays of another
    library go to ``backend.check_design``. The caller's array is never modified.
    ``finite=False`` leaves the NaN/inf check of a dense X to the caller (the
    front door's :func:`check_scale` pass finds them, so X is read once).
    """
    if backend is not None and not sp.issparse(X) and not isinstance(X, np.ndarray) \
            and not _is_dataframe(X) and backend.owns(X):
        X = backend.check_design(X, name=name)
    elif sp.issparse(X):
        if X.format != "csr":
            warnings.warn(
                f"{name} is a sparse {X.format.upper()} matrix; converting to CSR "
                "(a copy). Pass CSR to avoid it.",
                UserWarning,
                stacklevel=3,
            )
            X = X.tocsr()
        if X.dtype.kind == "c":
            raise ValueError(
                f"{name} must be real-valued (Complex data not supported); got {X.dtype}."
            )
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if not np.all(np.isfinite(X.data)):
            raise ValueError(f"{name} contains NaN or infinity.")
    else:
        if _is_dataframe(X):
            X = _pandas_to_numpy(X, name)
        X = _as_real_float(np.asarray(X), name)
        if X.ndim != 2:
            raise ValueError(
                f"{name} must be 2-dimensional (n_samples, n_features); got shape "
                f"{X.shape}."
            )
        if finite and X.size and not np.isfinite(X).all():
            raise ValueError(f"{name} contains NaN or infinity.")
    if X.shape[0] == 0:
        raise ValueError(f"{name} has no rows.")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the estimator was fitted with "
            f"{n_features} features."
        )
    return X


def check_target(y, n_samples, name="y", backend=None):
    """Return y as a 1-d array of length n_samples (labels kept as they are)."""
    if y is None:
        raise ValueError(
            f"{name} is required to compute influence: this estimator requires y to be "
            "passed, but the target y is None."
        )
    if backend is not None and backend.owns(y) and not isinstance(y, np.ndarray):
        y = backend.to_numpy(y)
    if _is_dataframe(y):
        if y.shape[1] != 1:
            raise ValueError(
                f"{name} must be 1-dimensional; multi-output targets are not supported."
            )
        y = y.iloc[:, 0]
    if _is_series(y):
        if y.isna().any():
            raise ValueError(
                f"{name} contains missing values (NaN or pandas NA; first at row "
                f"{y.index[np.flatnonzero(y.isna().to_numpy())[0]]!r})."
            )
        y = y.to_numpy()
        if y.dtype == object:
            try:  # nullable integer/boolean/float extension arrays come as object
                y = y.astype(np.float64) if all(
                    isinstance(v, numbers.Number) for v in y[:100]) else y
            except (TypeError, ValueError):
                pass
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            f"A column-vector {name} was passed when a 1d array was expected; it is "
            "raveled.", DataConversionWarning, stacklevel=3,
        )
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
    if y.dtype.kind == "c":
        raise ValueError(
            f"{name} must be real-valued (Complex data not supported); got {y.dtype}."
        )
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return y


def check_weights(sample_weight, n_samples, name="sample_weight", backend=None):
    """Return non-negative finite float weights of length n_samples (ones if None).

    A scalar is broadcast (and validated like an array).
    """
    if sample_weight is None:
        return np.ones(n_samples)
    if backend is not None and backend.owns(sample_weight) \
            and not isinstance(sample_weight, np.ndarray):
        sample_weight = backend.to_numpy(sample_weight)
    if _is_series(sample_weight) or _is_dataframe(sample_weight):
        sample_weight = _pandas_to_numpy(sample_weight, name)
    w = np.asarray(sample_weight)
    if w.dtype.kind == "c":
        raise ValueError(
            f"{name} must be real-valued (Complex data not supported); got {w.dtype}."
        )
    try:
        w = w.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric; got dtype {w.dtype}.") from None
    if w.ndim == 0:
        w = np.full(n_samples, float(w))
    if w.ndim != 1 or w.shape[0] != n_samples:
        raise ValueError(f"{name} must have shape ({n_samples},) or be a scalar; got {w.shape}.")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} contains NaN or infinity.")
    if np.any(w < 0):
        raise ValueError(f"{name} must be non-negative.")
    if not np.any(w > 0):
        raise ValueError(f"{name}: all weights are zero (no positive entry).")
    return w


def check_damping(damping):
    """A finite, non-negative float."""
    if isinstance(damping, (bool, np.bool_)) or not isinstance(damping, numbers.Real):
        raise ValueError(f"damping must be a non-negative number; got {damping!r}.")
    damping = float(damping)
    if not np.isfinite(damping) or damping < 0:
        raise ValueError(f"damping must be a finite number >= 0; got {damping!r}.")
    return damping



def check_positive_int(value, name, upper=None, upper_what=None):
    """An integer >= 1 (and <= upper): the sizes entry points take."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer; got {value!r}.")
    value = int(value)
    if value < 1:
        raise ValueError(f"{name} must be >= 1; got {value}.")
    if upper is not None and value > upper:
        raise ValueError(f"{name}={value} is larger than {upper_what} ({upper}).")
    return value
