"""Leverage of a fitted estimator, exactly or by sketching (through the front door).

The randomized algorithm itself works on a fitted objective and lives at the
engine's level (:mod:`skinfluence._randomized`), so that ``influence(...,
leverage_method="sketch")`` can use it without importing this package.
"""

from .._frontdoor import influence
from .._randomized import randomized_leverage, use_sketched_leverage  # noqa: F401


def leverage(estimator, X, y, sample_weight=None, *, method="exact", backend=None,
             damping=0.0, fit_check="auto", **options):
    """Leverage of a fitted model, exactly or by sketching (one interface).

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
    X, y, sample_weight
        As for :func:`skinfluence.influence`.
    method : {"exact", "sketch"}, default="exact"
        ``"exact"``: :attr:`skinfluence.Influence.leverage` (one Cholesky
        factor); ``"sketch"``: :func:`use_sketched_leverage` (the QR sketch of
        :func:`randomized_leverage`, or :func:`jl_leverage` when the P x P
        Hessian exceeds the dense budget).
    backend : str, default=None
    damping : float, default=0.0
    fit_check : {"auto", "warn", "raise", "polish", "off"}, default="auto"
        As for :func:`skinfluence.influence`.
    **options
        Passed to :func:`use_sketched_leverage` (``algorithm``; for the QR
        sketch ``eps``, ``sketch``, ``sketch_size``, ``n_components``,
        ``debias``; for JL ``k``, ``tol``, ``max_iter``; ``random_state``).

    Returns
    -------
    leverage : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skinfluence.sketch import leverage
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(3000, 4)); y = X[:, 0] + rng.normal(size=3000)
    >>> est = LinearRegression().fit(X, y)
    >>> exact = leverage(est, X, y)
    >>> approx = leverage(est, X, y, method="sketch", eps=0.2, random_state=0)
    >>> bool(np.median(np.abs(approx / exact - 1)) < 0.1)
    True
    """
    if method not in ("exact", "sketch"):
        raise ValueError(f"method must be 'exact' or 'sketch'; got {method!r}.")
    if method == "exact":
        if options:
            raise TypeError(f"Unknown option(s) for method='exact': {sorted(options)}.")
        return influence(estimator, X, y, sample_weight, backend=backend, damping=damping,
                         fit_check=fit_check).leverage
    inf = influence(estimator, X, y, sample_weight, backend=backend, damping=damping,
                    fit_check=fit_check, leverage_method="sketch", leverage_options=options)
    return inf.leverage
