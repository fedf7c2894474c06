"""Row chunking for passes over X, sized by ``get_config()["working_memory"]``."""

import numpy as np

from .._config import get_config


def chunk_rows(n_rows, width):
    """Rows per chunk so that ``width`` float64 columns per row fit in working_memory."""
    budget = get_config()["working_memory"] * 2**20
    return max(1, min(n_rows, int(budget // (8 * max(int(width), 1)))))


def iter_row_chunks(X, width):
    """Yield ``(start, stop, X[start:stop])`` over the rows of X in budget-sized chunks."""
    n = X.shape[0]
    step = chunk_rows(n, width)
    for start in range(0, n, step):
        stop = min(n, start + step)
        yield start, stop, X[start:stop]


def top_indices(values, n):
    """Positions of the ``n`` largest ``values`` (1-d), largest first, ties stable."""
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError("expected a per-row (1-d) quantity.")
    n = min(int(n), values.shape[0])
    if n <= 0:
        return np.empty(0, dtype=np.intp)
    idx = np.argpartition(-values, n - 1)[:n]
    return idx[np.argsort(-values[idx], kind="stable")]
