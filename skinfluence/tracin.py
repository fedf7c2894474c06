"""TracIn for linear models trained by stochastic gradient descent (Pruthi et al. 2020).

TracIn traces the influence of training row i on a test point z along the
training trajectory: with checkpoints theta_1..theta_T and the learning rates
lr_t used between them (TracIn-CP),

    TracIn(z_i, z) = sum_t lr_t  grad l(z; theta_t) . s_i grad l(z_i; theta_t)

(positive: the steps on row i lowered the test loss, a *proponent*; s_i the
sample weight, times the class weight, that SGD multiplied the step by). For a
linear model the gradient of row i is r_t(z_i) xt_i (a K-vector of residuals
times the row with a leading 1 for the intercept), so

    TracIn(z_i, z) = sum_t lr_t (r_t(z) . r_t(z_i)) (xt . xt_i)

which is computed in one chunked pass over X per checkpoint (nothing of size
n x n) and splits exactly over features (:meth:`TracInRecorder.feature_attribution`).

:class:`TracInRecorder` wraps an estimator with ``partial_fit``
(``SGDClassifier``, ``SGDRegressor``) and records a checkpoint after each call:
the parameters (the plain SGD iterate, not the average of ``average=True``) and
the mean learning rate of the steps taken since the previous checkpoint,
following scikit-learn's schedules (``"constant"``, ``"optimal"``,
``"invscaling"``; ``"adaptive"`` needs ``learning_rate=``). With sparse X
scikit-learn scales the intercept's steps by 0.01 (``intercept_decay``); the
intercept term is scaled alike.
"""


import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

from ._frontdoor import influence
from ._functions import gradient_vectors
from .utils._chunks import iter_row_chunks

_SPARSE_INTERCEPT_DECAY = 0.01  # sklearn.linear_model._base.SPARSE_INTERCEPT_DECAY


def _schedule_mean(est, t_start, t_stop):
    """Mean of scikit-learn's SGD learning rate over the steps t_start..t_stop-1."""
    kind = est.learning_rate
    t = np.arange(t_start, t_stop, dtype=np.float64)
    if kind == "constant":
        return float(est.eta0)
    if kind == "invscaling":
        return float(np.mean(est.eta0 / t ** est.power_t))
    if kind == "optimal":
        alpha = float(est.alpha)
        typw = np.sqrt(1.0 / np.sqrt(alpha))
        # initial_eta0 = typw / max(1, dloss(-typw, 1)); dloss < 0 there for every SGD loss
        optimal_init = 1.0 / (typw * alpha)
        return float(np.mean(1.0 / (alpha * (optimal_init + t - 1.0))))
    raise ValueError(
        f"learning_rate={kind!r}: the step sizes are not observable from outside the fit; "
        "pass TracInRecorder(..., learning_rate=<float or callable>)."
    )


class TracInRecorder:
    """Record SGD checkpoints around ``partial_fit`` for TracIn scores.

    Parameters
    ----------
    estimator : estimator with ``partial_fit``
        E.g. ``SGDClassifier(loss="log_loss")`` or ``SGDRegressor()``; trained in
        place (``recorder.estimator`` is the model).
    learning_rate : float, callable or None, default=None
        Step size credited to each checkpoint. ``None``: the mean of the
        estimator's own schedule over the steps since the previous checkpoint;
        a float: that constant; a callable ``f(checkpoint_index) -> float``.
    **influence_options
        Passed to :func:`skinfluence.influence` when the gradients are
        evaluated (e.g. ``temperature=0.1`` for ``loss="hinge"``: the smoothed
        hinge's gradient stands in for the subgradient).

    Attributes
    ----------
    checkpoints_ : list of dict
        ``{"coef": (K, p), "intercept": (K,), "lr": float, "intercept_lr": float,
        "t": steps so far}`` per recorded checkpoint.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import SGDClassifier
    >>> from sklearn.preprocessing import scale
    >>> from skinfluence.tracin import TracInRecorder
    >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
    >>> rec = TracInRecorder(SGDClassifier(loss="log_loss", random_state=0))
    >>> for epoch in range(5):
    ...     _ = rec.partial_fit(X, y, classes=[0, 1])
    >>> len(rec.checkpoints_)
    5
    >>> rec.scores(X, y, X[:2], y[:2]).shape          # (n_test, n_train)
    (2, 569)
    """

    def __init__(self, estimator, learning_rate=None, **influence_options):
        if not hasattr(estimator, "partial_fit"):
            raise TypeError(
                f"{type(estimator).__name__} has no partial_fit: TracInRecorder records "
                "checkpoints of an incremental (SGD) training loop."
            )
        self.estimator = estimator
        self.learning_rate = learning_rate
        self.influence_options = influence_options
        self.checkpoints_ = []
        self._t = 1.0

    def __getattr__(self, name):
        # predict, decision_function, coef_, ... of the trained model
        if name.startswith("__") or name in ("estimator", "checkpoints_"):
            raise AttributeError(name)
        return getattr(self.estimator, name)

    def partial_fit(self, X, y, classes=None, sample_weight=None, **fit_params):
        """``estimator.partial_fit(X, y, ...)``, then record a checkpoint; returns self."""
        est = self.estimator
        if classes is not None:
            fit_params["classes"] = classes
        est.partial_fit(X, y, sample_weight=sample_weight, **fit_params)
        self.record(sparse=sp.issparse(X))
        return self

    def record(self, learning_rate=None, sparse=False):
        """Record a checkpoint of the estimator's current parameters.

        Call it after your own update step when you do not train through
        :meth:`partial_fit`; ``learning_rate`` overrides the step size credited
        to it, ``sparse=True`` scales the intercept's as scikit-learn does for
        sparse X.
        """
        est = self.estimator
        coef = getattr(est, "_standard_coef", None)
        icpt = getattr(est, "_standard_intercept", None)
        if coef is None or not getattr(est, "average", False):
            coef, icpt = est.coef_, est.intercept_
        coef = np.atleast_2d(np.array(coef, dtype=np.float64, copy=True))
        icpt = np.atleast_1d(np.array(icpt, dtype=np.float64, copy=True))
        t_now = float(getattr(est, "t_", self._t))
        k = len(self.checkpoints_)
        if learning_rate is None:
            learning_rate = self.learning_rate
        if learning_rate is None:
            lr = _schedule_mean(est, self._t, max(t_now, self._t + 1))
        elif callable(learning_rate):
            lr = float(learning_rate(k))
        else:
            lr = float(learning_rate)
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"learning_rate must be a positive number; got {lr!r}.")
        decay = _SPARSE_INTERCEPT_DECAY if sparse else 1.0
        self.checkpoints_.append(
            {"coef": coef, "intercept": icpt, "lr": lr, "intercept_lr": lr * decay, "t": t_now}
        )
        self._t = t_now
        return self

    # -- scores --------------------------------------------------------------------
    def _influence(self, X, y, sample_weight=None):
        if not self.checkpoints_:
            raise ValueError("No checkpoint recorded: train with recorder.partial_fit first.")
        # the checkpoints are not optima: only gradients are used (no stationarity)
        options = {"fit_check": "off", **self.influence_options}
        return influence(self.estimator, X, y, sample_weight=sample_weight, **options)

    def _terms(self, objective, X_test, y_test):
        """[(U_t (P, m), coef_t (n, K))]: lr-scaled test gradients and training eta-gradients
        at each checkpoint, for data already encoded for ``objective``."""
        obj = objective
        K, q = obj.n_outputs, obj.p_
        terms = []
        for cp in self.checkpoints_:
            o = _at_checkpoint(obj, cp)
            G = o.eta_gradient(X_test, y_test)
            lr = np.full((K, q), cp["lr"])
            if obj.fit_intercept:
                lr[:, 0] = cp["intercept_lr"]
            U = gradient_vectors(o, X_test, G) * lr.reshape(-1, 1)
            terms.append((U, o.eta_gradient()))
        return terms

    def scores(self, X, y, X_test, y_test, sample_weight=None):
        """TracIn(z_i, z_test), shape (n_test, n_train); positive: proponent.

        Parameters
        ----------
        X, y : the training data (as passed to ``partial_fit``, all batches)
        X_test, y_test : test points
        sample_weight : array-like of shape (n_train,), default=None
            The weights the training steps used.

        Examples
        --------
        >>> from sklearn.datasets import load_diabetes
        >>> from sklearn.linear_model import SGDRegressor
        >>> from sklearn.preprocessing import scale
        >>> from skinfluence.tracin import TracInRecorder
        >>> X, y = load_diabetes(return_X_y=True); X, y = scale(X), scale(y)
        >>> rec = TracInRecorder(SGDRegressor(random_state=0))
        >>> for epoch in range(3):
        ...     _ = rec.partial_fit(X, y)
        >>> rec.scores(X, y, X[:1], y[:1]).shape
        (1, 442)
        """
        inf = self._influence(X, y, sample_weight)
        Xt, yt = inf._prepare_test(X_test, y_test)
        out = None
        for U, coef in self._terms(inf.objective, Xt, yt):
            part = inf._contract_rows(U, coef)
            out = part if out is None else out + part
        return out

    def self_influence(self, X, y, sample_weight=None):
        """sum_t lr_t ||s_i grad l(z_i; theta_t)||^2, shape (n_train,).

        TracIn's self-influence (Pruthi et al., mislabel detection): rows the
        trajectory kept having to fit.

        Examples
        --------
        >>> from sklearn.datasets import load_breast_cancer
        >>> from sklearn.linear_model import SGDClassifier
        >>> from sklearn.preprocessing import scale
        >>> from skinfluence.tracin import TracInRecorder
        >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
        >>> rec = TracInRecorder(SGDClassifier(loss="log_loss", random_state=0))
        >>> _ = rec.partial_fit(X, y, classes=[0, 1])
        >>> bool((rec.self_influence(X, y) >= 0).all())
        True
        """
        inf = self._influence(X, y, sample_weight)
        obj = inf.objective
        sq = np.empty(obj.n_samples)
        for start, stop, Xc in iter_row_chunks(obj.X, obj.n_features):
            sq[start:stop] = (Xc.multiply(Xc).sum(axis=1).A1 if sp.issparse(Xc)
                              else np.einsum("ij,ij->i", Xc, Xc))
        out = np.zeros(obj.n_samples)
        for cp in self.checkpoints_:
            o = _at_checkpoint(obj, cp)
            c2 = np.sum(o.eta_gradient() ** 2, axis=1)
            icpt = cp["intercept_lr"] if obj.fit_intercept else 0.0
            out += c2 * (cp["lr"] * sq + icpt)
        return out

    def feature_attribution(self, X, y, X_test, y_test, rows=None, sample_weight=None,
                            feature_names=None):
        """Per-feature split of :meth:`scores` (exact), as a :class:`FeatureAttribution`.

        ``result.total()`` equals ``scores(X, y, X_test, y_test)[:, rows]``.
        ``feature_names``: names or a fitted transformer (``pipe[:-1]``) whose
        ``get_feature_names_out()`` names the columns.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_breast_cancer
        >>> from sklearn.linear_model import SGDClassifier
        >>> from sklearn.preprocessing import scale
        >>> from skinfluence.tracin import TracInRecorder
        >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
        >>> rec = TracInRecorder(SGDClassifier(loss="log_loss", random_state=0))
        >>> _ = rec.partial_fit(X, y, classes=[0, 1])
        >>> fa = rec.feature_attribution(X, y, X[:1], y[:1], rows=[5, 9])
        >>> bool(np.allclose(fa.total(), rec.scores(X, y, X[:1], y[:1])[:, [5, 9]]))
        True
        """
        inf = self._influence(X, y, sample_weight)
        return inf.feature_attribution(X_test, y_test, rows=rows, method="tracin",
                                       feature_names=feature_names, tracin=self)

    def __repr__(self):
        return (f"TracInRecorder({self.estimator!r}, n_checkpoints="
                f"{len(self.checkpoints_)})")

    def __sklearn_clone__(self):
        return TracInRecorder(clone(self.estimator), self.learning_rate,
                              **self.influence_options)


def _at_checkpoint(objective, cp):
    """A shallow copy of the objective with the checkpoint's parameters."""
    K, p = objective.n_outputs, objective.n_features
    coef, icpt = cp["coef"], cp["intercept"]
    if coef.shape != (K, p):
        raise ValueError(f"Checkpoint coef has shape {coef.shape}; the model has {(K, p)}.")
    theta = np.column_stack([icpt, coef]) if objective.fit_intercept else coef
    return objective.with_theta(theta.ravel())


__all__ = ["TracInRecorder"]
