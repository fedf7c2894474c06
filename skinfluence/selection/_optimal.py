"""Optimal influence subsampling (Ting & Brochu, NeurIPS 2018)."""

import numpy as np

from .._frontdoor import influence
from ._base import (
    BaseSelector,
    _capped_probabilities,
    _default_estimator,
    _fitted_influence,
    _poisson_draw,
    _resolve_size,
    gather,
    take_rows,
)
from ._scores import influence_norms


def _sqrt_psd(A):
    w, V = np.linalg.eigh((A + A.T) / 2)
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


class OptimalSubsampler(BaseSelector):
    """Influence-based Poisson subsampling with inverse-probability weights.

    Ting & Brochu (2018): fit a pilot model on a uniform sample, compute each
    row's influence function psi_i = H^-1 grad l_i (H the pilot Hessian) and
    keep row i independently with probability pi_i = min(1, c ||psi_i||), c set
    so that sum(pi) equals the target size. Fitting the final model with
    weights 1 / pi_i (``sample_weight_``, forwarded by
    :class:`skinfluence.pipeline.ResampledEstimator`) gives an asymptotically
    optimal subsampled estimator.

    Parameters
    ----------
    estimator : estimator, default=None
        A supported linear model (or Pipeline ending in one) used for the pilot
        fit; None: ``LinearRegression`` for continuous targets,
        ``LogisticRegression`` for class labels.
    n_samples : int, default=None
        Expected number of rows (overrides ``fraction``); the realized number
        varies (Poisson sampling).
    fraction : float in (0, 1], default=0.01
    criterion : {"parameters", "prediction"}, default="parameters"
        ``"parameters"``: Euclidean norm of psi_i (minimizes the coefficients'
        mean squared error); ``"prediction"``: norm in the metric of the
        feature second-moment matrix (minimizes the prediction error).
    n_pilot : int, default=None
        Size of the uniform pilot sample; None: min(n, max(1000, 20 p)).
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    sample_indices_, sample_weight_ : ndarray
    probabilities_ : ndarray of shape (n,)
    pilot_estimator_ : the pilot fit

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skinfluence.selection import OptimalSubsampler
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(5000, 3)); y = X @ [1.0, 2.0, 3.0] + rng.normal(size=5000)
    >>> sampler = OptimalSubsampler(n_samples=500, random_state=0)
    >>> Xs, ys = sampler.fit_resample(X, y)
    >>> est = LinearRegression().fit(Xs, ys, sample_weight=sampler.sample_weight_)
    >>> bool(np.abs(est.coef_ - [1.0, 2.0, 3.0]).max() < 0.1)
    True
    """

    def __init__(
        self, estimator=None, n_samples=None, fraction=0.01, criterion="parameters",
        n_pilot=None, random_state=None,
    ):
        self.estimator = estimator
        self.n_samples = n_samples
        self.fraction = fraction
        self.criterion = criterion
        self.n_pilot = n_pilot
        self.random_state = random_state

    def _select(self, X, y, X_val, y_val, rng):
        if self.criterion not in ("parameters", "prediction"):
            raise ValueError(
                f"criterion must be 'parameters' or 'prediction'; got {self.criterion!r}."
            )
        n, p = X.shape
        r = _resolve_size(n, self.n_samples, self.fraction)
        n_pilot = self.n_pilot
        if n_pilot is None:
            n_pilot = min(n, max(1000, 20 * (p + 1)))
        n_pilot = _resolve_size(n, n_pilot, None, what="n_pilot")
        est = _default_estimator(self.estimator, y)
        pilot_idx = np.sort(rng.choice(n, size=n_pilot, replace=False))
        Xp, yp = take_rows(X, pilot_idx), y[pilot_idx]  # the pilot sample in memory
        if np.unique(yp).size < 2 and np.unique(y).size >= 2:
            raise ValueError("The pilot sample has a single target value; increase n_pilot.")
        est.fit(Xp, yp)
        pilot_inf = _fitted_influence(est, Xp, yp)
        # the pilot's parameters on every row (lazy): a pilot is, by design, not the
        # optimum of the whole table (Ting & Brochu), so it is not checked as one
        full_inf = influence(est, X, y, fit_check="off")
        metric = None
        if self.criterion == "prediction":
            pobj = pilot_inf.objective
            be = pilot_inf.engine.backend
            second_moment = be.weighted_gram(pobj.X, np.ones(n_pilot), pobj.fit_intercept)
            metric = _sqrt_psd(second_moment / n_pilot)
        a = gather(influence_norms(pilot_inf, full_inf, metric))  # one pass over a dask X
        pi = _capped_probabilities(a, r)
        idx = _poisson_draw(pi, rng)
        self.pilot_estimator_ = est
        self.probabilities_ = pi
        return idx, 1.0 / pi[idx]
