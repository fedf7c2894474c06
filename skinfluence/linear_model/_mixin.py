"""InfluenceMixin: gives a fitted estimator an ``.influence()`` method."""

from sklearn.exceptions import NotFittedError

from .._frontdoor import influence
from ..sketch import influence_sketch


class InfluenceMixin:
    """Mixin adding :meth:`influence` to a scikit-learn linear model.

    ``fit`` keeps *references* to the training X, y and sample_weight (no copy) in
    the private attribute ``_influence_data``, so ``influence()`` needs no
    arguments. Modifying those arrays in place after ``fit`` changes what
    ``influence()`` sees; pass the data explicitly (``influence(X, y)``) if you
    do, or call ``forget_training_data()`` to release the references.

    Put the mixin first: ``class MyModel(InfluenceMixin, SomeSklearnEstimator)``.
    The parent's adapter (see :mod:`skinfluence.adapters`) is used.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> from skinfluence.linear_model import InfluenceMixin
    >>> class MyRidge(InfluenceMixin, Ridge):
    ...     def fit(self, X, y, sample_weight=None):
    ...         super().fit(X, y, sample_weight=sample_weight)
    ...         return self._remember(X, y, sample_weight)
    >>> X, y = load_diabetes(return_X_y=True)
    >>> MyRidge(alpha=0.5).fit(X, y).influence().leverage.shape
    (442,)
    """

    def _remember(self, X, y, sample_weight):
        self._influence_data = (X, y, sample_weight)
        # LinearRegression/Ridge(copy_X=False) centre a dense X in place during fit:
        # the reference kept above then no longer holds the data that were fitted
        self._influence_data_modified = (
            getattr(self, "copy_X", True) is False
            and getattr(self, "fit_intercept", False)
            and not hasattr(X, "tocsr")
        )
        return self

    def _data(self, X, y, sample_weight, caller):
        """(X, y, sample_weight): the arguments, or the training data kept by fit."""
        if X is None and y is None:
            data = getattr(self, "_influence_data", None)
            if data is None:
                raise NotFittedError(
                    f"This {type(self).__name__} has no training data to analyse: "
                    f"call fit first, or pass X and y to {caller}()."
                )
            if getattr(self, "_influence_data_modified", False):
                raise ValueError(
                    f"{type(self).__name__}(copy_X=False) centred X in place during fit, "
                    "so the training data kept for influence() are no longer the data "
                    f"that were fitted. Refit with copy_X=True, or pass the original "
                    f"data: {caller}(X, y)."
                )
            return data
        if X is None or y is None:
            raise ValueError("Pass both X and y, or neither (to use the training data).")
        return X, y, sample_weight

    def forget_training_data(self):
        """Drop the references to the training data kept by ``fit``."""
        self._influence_data = None
        return self

    def influence(self, X=None, y=None, sample_weight=None, **kwargs):
        """Influence diagnostics of this fitted model.

        Parameters
        ----------
        X, y : array-like, default=None
            Data to analyse; default: the training data seen by ``fit``.
        sample_weight : array-like, default=None
            With explicit X, y: their weights. Ignored when X is None (the
            weights given to ``fit`` are used).
        **kwargs
            Passed to :func:`skinfluence.influence` (``backend``, ``damping``,
            ``solver``, ``fit_check``, ...).

        Returns
        -------
        skinfluence.Influence
        """
        X, y, sample_weight = self._data(X, y, sample_weight, "influence")
        return influence(self, X, y, sample_weight=sample_weight, **kwargs)

    def influence_sketch(self, k=None, projection="sparse", random_state=None, X=None,
                         y=None, sample_weight=None, **kwargs):
        """Influence sketching: sketched leverage, score and Cook's distance.

        The k-column random-projection scores of Wojnowicz et al. (2016) for
        large (dense or CSR) data; see :func:`skinfluence.sketch.influence_sketch`.

        Parameters
        ----------
        k : int, default=None
            Sketch columns (1 <= k <= n_features + fit_intercept); None: min(256, that).
        projection : {"sparse", "gaussian", "countsketch", "srht"}, default="sparse"
        random_state : int, RandomState instance or None, default=None
        X, y : array-like, default=None
            Data to analyse; default: the training data seen by ``fit``.
        sample_weight : array-like, default=None
            With explicit X, y: their weights (ignored when X is None).
        **kwargs
            Passed to :func:`skinfluence.sketch.influence_sketch` (``damping``,
            ``backend``).

        Returns
        -------
        skinfluence.sketch.InfluenceSketch

        Examples
        --------
        >>> import numpy as np
        >>> from skinfluence.linear_model import LogisticRegression
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 10)); y = (X[:, 0] > 0).astype(int)
        >>> est = LogisticRegression(C=10).fit(X, y)
        >>> est.influence_sketch(k=5, projection="gaussian", random_state=0).score.shape
        (200,)
        """
        X, y, sample_weight = self._data(X, y, sample_weight, "influence_sketch")
        return influence_sketch(
            self, X, y, sample_weight=sample_weight, k=k, projection=projection,
            random_state=random_state, **kwargs,
        )
