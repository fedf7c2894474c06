"""Link functions: eta = link(mu), mu = inverse(eta), and the derivatives of mu(eta)."""

import numpy as np
from scipy.special import expit, logit


class BaseLink:
    """Inverse link mu(eta) and its first two derivatives with respect to eta."""

    name = None

    def link(self, mu):
        raise NotImplementedError

    def inverse(self, eta):
        raise NotImplementedError

    def inverse_derivative(self, eta):
        raise NotImplementedError

    def inverse_derivative2(self, eta):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


def _as_float(a):
    """a as a float64 array; lazy arrays of other libraries (dask) stay lazy."""
    if hasattr(a, "__array_function__") and not isinstance(a, np.ndarray):
        return a.astype(float)
    return np.asarray(a, dtype=float)


class IdentityLink(BaseLink):
    name = "identity"

    def link(self, mu):
        return _as_float(mu)

    def inverse(self, eta):
        return _as_float(eta)

    def inverse_derivative(self, eta):
        return np.ones_like(eta, dtype=float)

    def inverse_derivative2(self, eta):
        return np.zeros_like(eta, dtype=float)


class LogLink(BaseLink):
    name = "log"

    def link(self, mu):
        return np.log(mu)

    def inverse(self, eta):
        return np.exp(eta)

    inverse_derivative = inverse
    inverse_derivative2 = inverse


class LogitLink(BaseLink):
    name = "logit"

    def link(self, mu):
        return logit(mu)

    def inverse(self, eta):
        return expit(eta)

    def inverse_derivative(self, eta):
        # mu (1 - mu) without cancellation for large |eta|
        return expit(eta) * expit(-eta)

    def inverse_derivative2(self, eta):
        mu = expit(eta)
        return mu * expit(-eta) * (1.0 - 2.0 * mu)
