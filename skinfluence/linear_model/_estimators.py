"""Drop-in subclasses of scikit-learn's linear models with ``.influence()``.

Same names, parameters, defaults and fitted attributes as scikit-learn's; ``fit``
additionally keeps references to the training data (see InfluenceMixin).
"""

from sklearn import linear_model as _sk

from ._mixin import InfluenceMixin


def _make_fit(parent):
    def fit(self, X, y, sample_weight=None):
        parent.fit(self, X, y, sample_weight=sample_weight)
        return self._remember(X, y, sample_weight)

    fit.__doc__ = (
        f"Fit the model as :meth:`sklearn.linear_model.{parent.__name__}.fit` does, "
        "and keep references to (X, y, sample_weight) for ``influence()``.\n\n"
        "Parameters\n----------\nX : array-like or sparse matrix\ny : array-like\n"
        "sample_weight : array-like, default=None\n\nReturns\n-------\nself\n"
    )
    return fit


class LinearRegression(InfluenceMixin, _sk.LinearRegression):
    """Ordinary least squares with ``.influence()`` (R ``lm`` diagnostics).

    See :class:`sklearn.linear_model.LinearRegression` for the parameters.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skinfluence.linear_model import LinearRegression
    >>> X, y = load_diabetes(return_X_y=True)
    >>> inf = LinearRegression().fit(X, y).influence()
    >>> inf.summary_frame().shape
    (442, 21)
    """

    fit = _make_fit(_sk.LinearRegression)


class Ridge(InfluenceMixin, _sk.Ridge):
    """Ridge regression with ``.influence()`` (penalized Hessian; exact LOO dfbeta).

    See :class:`sklearn.linear_model.Ridge` for the parameters.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skinfluence.linear_model import Ridge
    >>> X, y = load_diabetes(return_X_y=True)
    >>> Ridge(alpha=0.1).fit(X, y).influence().dfbeta.shape
    (442, 11)
    """

    fit = _make_fit(_sk.Ridge)


class LogisticRegression(InfluenceMixin, _sk.LogisticRegression):
    """Logistic regression (binary or multinomial) with ``.influence()``.

    L2-penalized (``l1_ratio=0``) or unpenalized (``C=np.inf``) fits; class
    weights are part of the objective. See
    :class:`sklearn.linear_model.LogisticRegression` for the parameters.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from skinfluence.linear_model import LogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> inf = LogisticRegression().fit(scale(X), y).influence()
    >>> inf.cooks_distance.shape
    (569,)
    """

    fit = _make_fit(_sk.LogisticRegression)


class PoissonRegressor(InfluenceMixin, _sk.PoissonRegressor):
    """Poisson regression (log link) with ``.influence()``.

    See :class:`sklearn.linear_model.PoissonRegressor` for the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.linear_model import PoissonRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3)); y = rng.poisson(np.exp(X @ [0.3, -0.2, 0.1]))
    >>> PoissonRegressor(alpha=0).fit(X, y).influence().leverage.sum().round(6)
    np.float64(4.0)
    """

    fit = _make_fit(_sk.PoissonRegressor)


class GammaRegressor(InfluenceMixin, _sk.GammaRegressor):
    """Gamma regression (log link) with ``.influence()``.

    See :class:`sklearn.linear_model.GammaRegressor` for the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.linear_model import GammaRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 2)); y = rng.gamma(2.0, np.exp(X @ [0.3, -0.2]) / 2)
    >>> GammaRegressor(alpha=0).fit(X, y).influence().dispersion > 0
    True
    """

    fit = _make_fit(_sk.GammaRegressor)


class TweedieRegressor(InfluenceMixin, _sk.TweedieRegressor):
    """Tweedie regression (log or identity link) with ``.influence()``.

    See :class:`sklearn.linear_model.TweedieRegressor` for the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.linear_model import TweedieRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 2)); y = rng.poisson(np.exp(X @ [0.3, -0.2]))
    >>> TweedieRegressor(power=1.5, alpha=0.1).fit(X, y).influence().cooks_distance.shape
    (100,)
    """

    fit = _make_fit(_sk.TweedieRegressor)
