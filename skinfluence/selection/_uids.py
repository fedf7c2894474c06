"""Unweighted influence data subsampling, UIDS (Wang, Huan, Xie & Lou, AAAI 2020)."""

import numpy as np
from scipy.special import expit

from ._base import BaseSelector, _capped_probabilities, _is_classification, _poisson_draw, _resolve_size
from ._scores import validation_loss_change


def _calibrated_sigmoid(z, target):
    """pi_i = sigmoid(z_i + b) with the shift b chosen so that sum(pi) = target."""
    lo, hi = -50.0 - z.max(), 50.0 - z.min()
    for _ in range(100):
        b = 0.5 * (lo + hi)
        if expit(z + b).sum() > target:
            hi = b
        else:
            lo = b
    return expit(z + 0.5 * (lo + hi))


class UIDSSampler(BaseSelector):
    """Unweighted subsampling by influence on a validation loss (UIDS).

    Wang et al. (2020): fit the model on the training rows, compute each row's
    influence on the validation loss phi_i (the change of the mean validation
    loss when row i is up-weighted; phi_i > 0 marks a harmful row) and keep
    row i with probability

    * ``"sigmoid"``: pi_i = sigmoid(-alpha phi_i / (max phi - min phi) + b),
    * ``"linear"``: pi_i = min(1, c (max phi - phi_i) / (max phi - min phi)),

    per class (classification), with b or c set so that the expected number
    of rows kept per class is ``fraction`` of the class. The result is
    *unweighted*: fit the final model on it as it is.

    The method is only as good as the validation labels. On digits 1 vs 7 with
    40% flipped training labels and a clean validation set the subset model
    beats the full-data model; with a validation set as noisy as the training
    data it was worse. Without ``X_val``, ``validation_fraction`` of the
    training rows are held out (and not returned) with a
    :class:`~skinfluence.selection.NoValidationDataWarning`.

    Parameters
    ----------
    estimator : estimator, default=None
        A supported linear model (or Pipeline ending in one); None:
        ``LogisticRegression`` for class labels, ``LinearRegression`` otherwise.
    fraction : float in (0, 1], default=0.6
        Expected fraction of (candidate) rows kept.
    n_samples : int, default=None
        Expected number of rows kept (overrides ``fraction``).
    probability : {"sigmoid", "linear"}, default="sigmoid"
    alpha : float, default=10.0
        Steepness a of the sigmoid.
    validation_fraction : float in (0, 1), default=0.2
        Held-out share of the training rows when no validation data is given.
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    sample_indices_ : ndarray
    influence_ : ndarray of shape (n_candidates,)
        phi_i (positive: harmful to the validation loss).
    probabilities_ : ndarray of shape (n_candidates,)
    candidate_indices_ : ndarray
        Training rows that could be selected (all rows unless some were held out).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from skinfluence.selection import UIDSSampler
    >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
    >>> sampler = UIDSSampler(fraction=0.5, random_state=0)
    >>> Xs, ys = sampler.fit_resample(X[:400], y[:400], X_val=X[400:], y_val=y[400:])
    >>> 150 < Xs.shape[0] < 250
    True
    """

    _uses_validation = True

    def __init__(
        self, estimator=None, fraction=0.6, n_samples=None, probability="sigmoid",
        alpha=10.0, validation_fraction=0.2, random_state=None,
    ):
        self.estimator = estimator
        self.fraction = fraction
        self.n_samples = n_samples
        self.probability = probability
        self.alpha = alpha
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def _select(self, X, y, X_val, y_val, rng):
        if self.probability not in ("sigmoid", "linear"):
            raise ValueError(
                f"probability must be 'sigmoid' or 'linear'; got {self.probability!r}."
            )
        if not self.alpha > 0:
            raise ValueError(f"alpha must be > 0; got {self.alpha!r}.")
        n = X.shape[0]
        total = _resolve_size(n, self.n_samples, self.fraction)
        est, inf = self._fit_influence(X, y)
        phi = -validation_loss_change(inf, X_val, y_val)  # up-weighting influence
        groups = [np.arange(n)]
        if _is_classification(self.estimator, y):
            groups = [np.flatnonzero(y == c) for c in np.unique(y)]
        pi = np.zeros(n)
        for g in groups:
            target = total * g.size / n
            f = phi[g]
            spread = f.max() - f.min()
            if spread <= 0:
                pi[g] = target / g.size
            elif self.probability == "sigmoid":
                pi[g] = _calibrated_sigmoid(-self.alpha * f / spread, target)
            else:
                pi[g] = _capped_probabilities((f.max() - f) / spread, target)
        self.influence_ = phi
        self.probabilities_ = pi
        self.estimator_ = est
        return (_poisson_draw(pi, rng),)
