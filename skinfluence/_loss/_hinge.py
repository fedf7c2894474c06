"""The smoothed hinge loss of Koh & Liang (2017) and its one-vs-rest form.

For a margin m = y * eta with y in {-1, +1} and a temperature t > 0::

    SmoothHinge(m, t)   = t * log(1 + exp((1 - m) / t))
    d/d eta             = -y * expit((1 - m) / t)
    d^2/d eta^2         = expit(z) * expit(-z) / t,      z = (1 - m) / t

computed with ``logaddexp``/``expit`` so that no value overflows or turns into
NaN for any finite margin, down to t = 1e-6 and below. The loss lies between
the hinge max(0, 1 - m) and the hinge + t log 2, so t -> 0 gives the hinge.

``temperature=0`` *is* the hinge: loss and (sub)gradient are defined, and the
second derivative is 0 almost everywhere (a Dirac mass at m = 1 is lost): the
Hessian of the objective is then only the penalty, which is why the influence of
a hinge SVM cannot be trusted and :mod:`skinfluence.adapters` refuses it.
"""

import numpy as np
from scipy.special import expit

from ._link import IdentityLink
from ._loss import BaseLoss


def _check_temperature(temperature):
    t = float(temperature)
    if not np.isfinite(t) or t < 0:
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}.")
    return t


def _smooth_hinge(m, t):
    """Loss of margins m (any shape)."""
    if t == 0:
        return np.maximum(0.0, 1.0 - m)
    return t * np.logaddexp(0.0, (1.0 - m) / t)


def _smooth_hinge_dm(m, t):
    """-d loss / d m = expit((1 - m) / t) in [0, 1] (hinge: the subgradient 1[m < 1])."""
    if t == 0:
        return (m < 1.0).astype(np.float64)
    return expit((1.0 - m) / t)


def _smooth_hinge_dm2(m, t):
    """d^2 loss / d m^2 (0 almost everywhere for the hinge)."""
    if t == 0:
        return np.zeros(np.shape(m))
    z = (1.0 - m) / t
    return expit(z) * expit(-z) / t


class SmoothHingeLoss(BaseLoss):
    """Smoothed hinge t log(1 + exp((1 - y eta)/t)) for binary y in {-1, +1}.

    Parameters
    ----------
    temperature : float, default=0.1
        t >= 0; 0 is the plain hinge (second derivative 0 almost everywhere).

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence._loss import SmoothHingeLoss
    >>> loss = SmoothHingeLoss(temperature=1e-6)
    >>> y = np.array([1.0, -1.0, 1.0]); eta = np.array([3.0, 0.5, -1e9])
    >>> loss.loss(y, eta).round(6).tolist()            # ~ the hinge, no overflow
    [0.0, 1.5, 1000000001.0]
    >>> loss.gradient(y, eta).tolist()
    [-0.0, 1.0, -1.0]
    """

    has_variance = False
    fixed_dispersion = True
    link = IdentityLink()

    def __init__(self, temperature=0.1):
        self.temperature = _check_temperature(temperature)

    def loss(self, y, eta):
        return _smooth_hinge(y * eta, self.temperature)

    def gradient(self, y, eta):
        return -y * _smooth_hinge_dm(y * eta, self.temperature)

    def hessian(self, y, eta):
        return _smooth_hinge_dm2(y * eta, self.temperature)

    def check_y(self, y):
        super().check_y(y)
        if np.any((y != 1) & (y != -1)):
            raise ValueError("The smoothed hinge loss needs y encoded as -1/+1.")

    def __repr__(self):
        return f"SmoothHingeLoss(temperature={self.temperature!r})"


class OneVsRestSmoothHingeLoss(BaseLoss):
    """Sum of K binary smoothed hinges, one per class (one-vs-rest), y coded 0..K-1.

    loss_i = sum_k SmoothHinge(y_ik eta_ik, t) with y_ik = +1 if y_i == k else
    -1. The K problems share no parameter, so the Hessian blocks are diagonal and
    one objective covers the K independent binary fits.

    Parameters
    ----------
    n_classes : int
    temperature : float, default=0.1

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence._loss import OneVsRestSmoothHingeLoss
    >>> loss = OneVsRestSmoothHingeLoss(3, temperature=0.1)
    >>> eta = np.array([[2.0, -2.0, -2.0]])
    >>> loss.hessian(np.array([0]), eta).shape
    (1, 3, 3)
    """

    has_variance = False
    fixed_dispersion = True
    link = IdentityLink()

    def __init__(self, n_classes, temperature=0.1):
        self.n_outputs = int(n_classes)
        self.temperature = _check_temperature(temperature)

    def _signs(self, y, eta):
        y = np.asarray(y, dtype=np.intp)
        Y = -np.ones(eta.shape)
        Y[np.arange(eta.shape[0]), y] = 1.0
        return Y

    def loss(self, y, eta):
        Y = self._signs(y, eta)
        return _smooth_hinge(Y * eta, self.temperature).sum(axis=1)

    def gradient(self, y, eta):
        Y = self._signs(y, eta)
        return -Y * _smooth_hinge_dm(Y * eta, self.temperature)

    def hessian(self, y, eta):
        Y = self._signs(y, eta)
        d = _smooth_hinge_dm2(Y * eta, self.temperature)
        n, K = d.shape
        h = np.zeros((n, K, K))
        idx = np.arange(K)
        h[:, idx, idx] = d
        return h

    def check_y(self, y):
        y = np.asarray(y)
        if np.any((y < 0) | (y >= self.n_outputs) | (y != np.round(y))):
            raise ValueError(
                "The one-vs-rest smoothed hinge needs y coded as integers "
                f"0..{self.n_outputs - 1}."
            )

    def __repr__(self):
        return (
            f"OneVsRestSmoothHingeLoss(n_classes={self.n_outputs}, "
            f"temperature={self.temperature!r})"
        )
