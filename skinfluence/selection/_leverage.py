"""Leverage sampling (Ma, Mahoney & Yu, JMLR 2015): BLEV, SLEV, LEVUNW."""

import numpy as np
from sklearn.linear_model import LinearRegression

from .._frontdoor import influence
from ._base import BaseSelector, _resolve_size, gather


def design_leverage(X, fit_intercept=True):
    """Exact statistical leverage h_i of the design (with an intercept column).

    Computed by skinfluence's engine (one Cholesky factor, one chunked row
    pass); no n x n matrix is formed. The leverage of a least-squares design
    does not depend on the target or the coefficients.

    Parameters
    ----------
    X : ndarray or sparse CSR matrix of shape (n_samples, n_features)
    fit_intercept : bool, default=True

    Returns
    -------
    ndarray of shape (n_samples,), summing to the number of parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.selection import design_leverage
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> round(float(design_leverage(X).sum()), 6)
    4.0
    """
    ls = LinearRegression(fit_intercept=fit_intercept)
    ls.coef_ = np.zeros(X.shape[1])
    ls.intercept_ = 0.0
    ls.n_features_in_ = X.shape[1]
    # the design's own hat matrix: no fit to check (y = 0 is a perfect "fit")
    return influence(ls, X, np.zeros(X.shape[0]), fit_check="off").leverage


class LeverageSampler(BaseSelector):
    """Leverage-score sampling of rows (BLEV, SLEV, LEVUNW).

    Draws ``n_samples`` rows with replacement with probabilities
    (Ma, Mahoney & Yu 2015), h_i the exact leverage of the design and p the
    number of parameters:

    * ``"blev"``: pi_i = h_i / p, weights 1 / (r pi_i);
    * ``"slev"``: pi_i = a h_i / p + (1 - a) / n (``shrinkage`` a), weights 1 / (r pi_i);
    * ``"levunw"``: pi_i = h_i / p, unweighted (``sample_weight_`` all ones).

    The weights sum to about n, so penalized estimators see the full-data
    penalty scale. Rows drawn twice appear twice in ``sample_indices_``.

    Parameters
    ----------
    n_samples : int, default=None
        Rows to draw (at most n). Overrides ``fraction``.
    fraction : float in (0, 1], default=0.1
        Rows to draw as a fraction of n when ``n_samples`` is None.
    method : {"blev", "slev", "levunw"}, default="blev"
    shrinkage : float in [0, 1], default=0.9
        a of SLEV.
    fit_intercept : bool, default=True
        Leverage of the design with an intercept column.
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    sample_indices_ : ndarray of shape (n_samples,)
    sample_weight_ : ndarray of shape (n_samples,)
    probabilities_ : ndarray of shape (n,)
        The sampling distribution pi.
    leverage_ : ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.selection import LeverageSampler
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_t(2, size=(1000, 3)); y = X.sum(axis=1) + rng.normal(size=1000)
    >>> Xs, ys = LeverageSampler(n_samples=100, random_state=0).fit_resample(X, y)
    >>> Xs.shape
    (100, 3)
    """

    def __init__(
        self, n_samples=None, fraction=0.1, method="blev", shrinkage=0.9,
        fit_intercept=True, random_state=None,
    ):
        self.n_samples = n_samples
        self.fraction = fraction
        self.method = method
        self.shrinkage = shrinkage
        self.fit_intercept = fit_intercept
        self.random_state = random_state

    def _select(self, X, y, X_val, y_val, rng):
        if self.method not in ("blev", "slev", "levunw"):
            raise ValueError(f"method must be 'blev', 'slev' or 'levunw'; got {self.method!r}.")
        if not 0 <= self.shrinkage <= 1:
            raise ValueError(f"shrinkage must be in [0, 1]; got {self.shrinkage!r}.")
        n = X.shape[0]
        r = _resolve_size(n, self.n_samples, self.fraction)
        h = gather(design_leverage(X, self.fit_intercept))  # one pass over a dask X
        pi = h / h.sum()
        if self.method == "slev":
            pi = self.shrinkage * pi + (1.0 - self.shrinkage) / n
        pi = pi / pi.sum()
        idx = rng.choice(n, size=r, replace=True, p=pi)
        self.leverage_ = h
        self.probabilities_ = pi
        if self.method == "levunw":
            return idx, np.ones(r)
        return idx, 1.0 / (r * pi[idx])
