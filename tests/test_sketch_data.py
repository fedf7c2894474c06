"""Generated data for the sketching tests (issue 5): a decaying spectrum, a few
high-leverage rows and flipped labels."""

import numpy as np


def make_sketch_data(n, p, decay=1.0, frac_leverage=0.01, frac_flip=0.02, seed=0):
    """Return X (n, p), binary y, positions of high-leverage rows and flipped labels."""
    rng = np.random.default_rng(seed)
    scales = np.arange(1, p + 1, dtype=float) ** -decay
    X = rng.standard_normal((n, p)) * scales
    lev = rng.choice(n, int(frac_leverage * n), replace=False)
    X[lev] *= 6.0
    beta = rng.standard_normal(p) / scales * 0.3 / np.sqrt(p)
    beta[:10] = rng.standard_normal(10) * 2 / scales[:10]
    eta = X @ beta
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    flip = rng.choice(n, int(frac_flip * n), replace=False)
    y[flip] = 1 - y[flip]
    return X, y, lev, flip


def top_recall(approx, exact, frac=0.01):
    """Share of the exact top ``frac`` rows found in the approximate top ``frac``."""
    m = max(1, int(frac * exact.shape[0]))
    top = set(np.argsort(-exact)[:m].tolist())
    return len(top & set(np.argsort(-approx)[:m].tolist())) / m
