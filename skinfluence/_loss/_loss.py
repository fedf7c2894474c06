"""Per-sample losses and their derivatives with respect to the linear predictor.

Every loss is written as the *half* unit deviance (or its analogue), so that the
objective a scikit-learn linear model minimized can always be brought to the form

    L(theta) = sum_i s_i * loss(y_i, eta_i) + 1/2 * theta' diag(pen) theta

by a positive rescaling, which changes neither the minimizer nor any influence
quantity (they are ratios of gradients and Hessians of the same objective).

Shapes: a single-output loss (``n_outputs == 1``) maps ``eta`` of shape (n,) to
per-sample values of shape (n,); the multinomial loss maps (n, K) to (n,) losses,
(n, K) gradients and (n, K, K) Hessians.
"""

import numpy as np
from scipy.special import expit, logsumexp, softmax, xlogy

from ._link import IdentityLink, LogitLink, LogLink


class BaseLoss:
    """Interface of a loss; see the module docstring for the conventions.

    Attributes
    ----------
    n_outputs : int
        Number of linear predictors per sample (K).
    fixed_dispersion : bool
        True when the dispersion is known to be 1 (binomial, Poisson, multinomial,
        smoothed hinge); otherwise it is estimated by Pearson chi^2 / (n - p).
    has_variance : bool
        True for exponential-dispersion families (Pearson and deviance residuals,
        R's ``glm`` diagnostics are defined).
    is_least_squares : bool
        True for squared error: diagnostics follow R's ``lm`` definitions.
    shift_invariant : bool
        True when adding the same vector to every output's parameters leaves the
        loss unchanged (multinomial): the Hessian has a known null space.
    """

    n_outputs = 1
    fixed_dispersion = True
    has_variance = True
    is_least_squares = False
    shift_invariant = False
    #: ``mean`` returns class probabilities (binomial: of class 1; multinomial: (n, K))
    is_probabilistic = False
    fisher_is_hessian = True  # canonical link: IRLS weights == observed Hessian
    link = IdentityLink()

    # -- to implement -------------------------------------------------------
    def loss(self, y, eta):
        raise NotImplementedError

    def gradient(self, y, eta):
        """d loss / d eta."""
        raise NotImplementedError

    def hessian(self, y, eta):
        """Observed d^2 loss / d eta^2 (what the minimized objective has)."""
        raise NotImplementedError

    def fisher(self, y, eta):
        """Expected (IRLS) weight (dmu/deta)^2 / V(mu); equals ``hessian`` for
        canonical links."""
        return self.hessian(y, eta)

    def gradient_hessian(self, y, eta):
        """``(gradient, hessian)`` in one call; losses override it to share work
        (e.g. the binomial loss's sigmoid)."""
        return self.gradient(y, eta), self.hessian(y, eta)

    def variance(self, mu):
        raise NotImplementedError

    def check_y(self, y):
        """Raise ValueError when y lies outside the loss's domain."""
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinity.")

    # -- shared -------------------------------------------------------------
    def mean(self, eta):
        return self.link.inverse(eta)

    def unit_deviance(self, y, eta):
        """Unit deviance d(y, mu(eta)) = 2 * loss (saturated model subtracted)."""
        return 2.0 * self.loss(y, eta)

    def __repr__(self):
        return f"{type(self).__name__}()"


class HalfSquaredError(BaseLoss):
    """loss = (y - eta)^2 / 2; Gaussian family with identity link."""

    fixed_dispersion = False
    is_least_squares = True
    link = IdentityLink()

    def loss(self, y, eta):
        return 0.5 * (y - eta) ** 2

    def gradient(self, y, eta):
        return eta - y

    def hessian(self, y, eta):
        return np.ones_like(eta, dtype=float)

    def variance(self, mu):
        return np.ones_like(mu, dtype=float)


class HalfBinomialLoss(BaseLoss):
    """Log loss for y in {0, 1}: log(1 + exp(eta)) - y * eta (logit link)."""

    is_probabilistic = True

    link = LogitLink()

    def loss(self, y, eta):
        return np.logaddexp(0.0, eta) - y * eta

    def gradient(self, y, eta):
        return expit(eta) - y

    def hessian(self, y, eta):
        return expit(eta) * expit(-eta)

    def gradient_hessian(self, y, eta):
        mu = expit(eta)
        h = expit(-eta)  # 1 - mu without cancellation for large eta
        h *= mu
        mu -= y
        return mu, h

    def variance(self, mu):
        return mu * (1.0 - mu)

    def check_y(self, y):
        super().check_y(y)
        if np.any((y != 0) & (y != 1)):
            raise ValueError("The binomial loss needs y encoded as 0/1.")


class HalfMultinomialLoss(BaseLoss):
    """Multinomial log loss: logsumexp(eta_i) - eta_{i, y_i}, y coded 0..K-1."""

    has_variance = False
    shift_invariant = True
    is_probabilistic = True

    def __init__(self, n_classes):
        self.n_outputs = int(n_classes)

    def loss(self, y, eta):
        y = np.asarray(y, dtype=np.intp)
        return logsumexp(eta, axis=1) - eta[np.arange(eta.shape[0]), y]

    def mean(self, eta):
        return softmax(eta, axis=1)

    def gradient(self, y, eta):
        g = softmax(eta, axis=1)
        g[np.arange(eta.shape[0]), np.asarray(y, dtype=np.intp)] -= 1.0
        return g

    def hessian(self, y, eta):
        p = softmax(eta, axis=1)
        h = -p[:, :, None] * p[:, None, :]
        idx = np.arange(p.shape[1])
        h[:, idx, idx] += p
        return h

    def check_y(self, y):
        y = np.asarray(y)
        if np.any((y < 0) | (y >= self.n_outputs) | (y != np.round(y))):
            raise ValueError(
                f"The multinomial loss needs y coded as integers 0..{self.n_outputs - 1}."
            )

    def __repr__(self):
        return f"HalfMultinomialLoss(n_classes={self.n_outputs})"


class HalfTweedieLoss(BaseLoss):
    """Half Tweedie unit deviance with variance mu^power and a log or identity link.

    ``power=0`` is the normal, 1 Poisson, 2 Gamma, 3 inverse Gaussian distribution.
    For a non-canonical link (e.g. Gamma with log link) the observed Hessian
    (``hessian``) differs from the IRLS weight (``fisher``): R's ``glm``
    diagnostics use the latter, influence functions the former.
    """

    def __init__(self, power=0.0, link="log"):
        power = float(power)
        if 0 < power < 1:
            raise ValueError(f"Tweedie power must be <= 0 or >= 1, got {power}.")
        self.power = power
        if link == "log":
            self.link = LogLink()
        elif link == "identity":
            self.link = IdentityLink()
        else:
            raise ValueError(f"link must be 'log' or 'identity', got {link!r}.")
        self.fixed_dispersion = power == 1.0
        self.is_least_squares = power == 0.0 and link == "identity"
        self.fisher_is_hessian = (power == 0.0 and link == "identity") or (
            power == 1.0 and link == "log"
        )

    # mu-space pieces ------------------------------------------------------
    def variance(self, mu):
        return np.power(mu, self.power) if self.power != 0 else np.ones_like(mu)

    def _variance_derivative(self, mu):
        p = self.power
        if p == 0:
            return np.zeros_like(mu)
        return p * np.power(mu, p - 1)

    def _half_deviance(self, y, mu):
        p = self.power
        if p == 0:
            return 0.5 * (y - mu) ** 2
        if p == 1:
            return xlogy(y, y / mu) - y + mu
        if p == 2:
            return np.log(mu / y) + y / mu - 1.0
        return (
            np.power(np.maximum(y, 0), 2 - p) / ((1 - p) * (2 - p))
            - y * np.power(mu, 1 - p) / (1 - p)
            + np.power(mu, 2 - p) / (2 - p)
        )

    # eta-space ------------------------------------------------------------
    def loss(self, y, eta):
        return self._half_deviance(y, self.link.inverse(eta))

    def gradient(self, y, eta):
        mu = self.link.inverse(eta)
        return (mu - y) / self.variance(mu) * self.link.inverse_derivative(eta)

    def fisher(self, y, eta):
        mu = self.link.inverse(eta)
        return self.link.inverse_derivative(eta) ** 2 / self.variance(mu)

    def hessian(self, y, eta):
        mu = self.link.inverse(eta)
        d1 = self.link.inverse_derivative(eta)
        d2 = self.link.inverse_derivative2(eta)
        v = self.variance(mu)
        dv = self._variance_derivative(mu)
        return d1**2 / v + (mu - y) * (d2 / v - d1**2 * dv / v**2)

    def check_y(self, y):
        super().check_y(y)
        p = self.power
        if 1 <= p < 2 and np.any(y < 0):
            raise ValueError(f"Tweedie power {p} needs y >= 0.")
        if p >= 2 and np.any(y <= 0):
            raise ValueError(f"Tweedie power {p} needs y > 0.")

    def __repr__(self):
        return f"HalfTweedieLoss(power={self.power}, link={self.link.name!r})"


class HalfPoissonLoss(HalfTweedieLoss):
    """Half Poisson deviance, log link: mu - y * log(mu) + const (canonical)."""

    def __init__(self):
        super().__init__(power=1.0, link="log")

    def gradient(self, y, eta):
        return np.exp(eta) - y

    def hessian(self, y, eta):
        return np.exp(eta)

    fisher = hessian

    def __repr__(self):
        return "HalfPoissonLoss()"


class HalfGammaLoss(HalfTweedieLoss):
    """Half Gamma deviance with log link (non-canonical)."""

    def __init__(self):
        super().__init__(power=2.0, link="log")

    def __repr__(self):
        return "HalfGammaLoss()"
