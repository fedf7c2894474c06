"""SmoothHingeSVC: a linear SVM with the smoothed hinge of Koh & Liang (2017)."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data

from ..linear_model._mixin import InfluenceMixin
from ._solver import fit_binary

#: Default temperature: on digits 1 vs 7 (Koh & Liang's set-up, lambda = 0.01, no
#: intercept) influence predicts retrained leave-one-out test-loss changes with
#: Pearson r >= 0.95 from t = 0.1 up; see examples/svm_influence_accuracy.py.
DEFAULT_TEMPERATURE = 0.1


class SmoothHingeSVC(InfluenceMixin, LinearClassifierMixin, BaseEstimator):
    """Linear SVM with the smoothed hinge loss, whose influence can be trusted.

    Minimizes (s_i = sample weight times class weight, y_i in {-1, +1})::

        1/2 ||w||^2 + C * sum_i s_i * SmoothHinge(y_i (x_i . w + b), t)
        SmoothHinge(m, t) = t * log(1 + exp((1 - m) / t))

    with the intercept b unpenalized (unlike liblinear's ``LinearSVC``). The
    smoothed hinge lies between the hinge max(0, 1 - m) and the hinge +
    t log 2, so small temperatures give (nearly) the hinge SVM, while its second
    derivative, which influence functions need, exists for every t > 0.
    Multiclass targets are fitted one-vs-rest (K independent binary problems).

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularization strength (> 0), as in ``LinearSVC``. Koh &
        Liang's ``weight_decay`` lambda (mean loss + lambda/2 ||w||^2)
        corresponds to C = 1 / (lambda * n_samples).
    temperature : float, default=0.1
        t >= 0. Influence estimates are accurate on the scale of t: on digits
        1 vs 7 the Pearson r between predicted and retrained leave-one-out
        changes of a test loss is about 0.5 at t = 0.001, 0.8-0.9 at t = 0.03
        and >= 0.95 from t = 0.1 (see examples/svm_influence_accuracy.py), while
        accuracy barely changes. ``temperature=0`` fits the plain hinge (by
        continuation down to t = 1e-5, within C S 1e-5 log 2 of the hinge
        optimum), but then ``influence()`` raises: the hinge has no second
        derivative.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept.
    class_weight : dict or "balanced", default=None
        Multiplies each sample's weight by the weight of its class.
    tol : float, default=1e-6
        Stop when the largest absolute gradient entry of the objective divided
        by C * sum(s) falls below tol.
    max_iter : int, default=1000
        Iteration budget of the solver (per class, over all continuation stages).
    solver : {"newton-cg", "lbfgs"}, default="newton-cg"
        ``"newton-cg"``: a trust-region Newton-CG on exact Hessian-vector
        products (never forms the Hessian; fast on sparse, wide X and at small
        temperatures). ``"lbfgs"``: L-BFGS-B on the exact gradient.
        Temperatures below 0.1 are reached by continuation (0.1, 0.01, ..., t),
        each stage warm-started from the previous one.
    verbose : int, default=0

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_iter_ : int
        Largest number of solver iterations over the one-vs-rest problems.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when X has string feature names.

    See Also
    --------
    sklearn.svm.LinearSVC : the hinge SVM (liblinear); its influence can be
        approximated with ``skinfluence.influence(svc, X, y, temperature=...)``.

    Notes
    -----
    ``fit`` keeps references to the training data for ``influence()`` (see
    :class:`skinfluence.linear_model.InfluenceMixin`).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from skinfluence.svm import SmoothHingeSVC
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = scale(X)
    >>> svc = SmoothHingeSVC(C=0.1).fit(X, y)
    >>> round(svc.score(X, y), 2)
    0.98
    >>> inf = svc.influence()
    >>> inf.cooks_distance.shape
    (569,)
    """

    _parameter_constraints = {
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
        "temperature": [Interval(numbers.Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "tol": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "solver": [StrOptions({"lbfgs", "newton-cg"})],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        C=1.0,
        temperature=DEFAULT_TEMPERATURE,
        fit_intercept=True,
        class_weight=None,
        tol=1e-6,
        max_iter=1000,
        solver="newton-cg",
        verbose=0,
    ):
        self.C = C
        self.temperature = temperature
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.tol = tol
        self.max_iter = max_iter
        self.solver = solver
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Binary or multiclass labels.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        X_in, y_in, sw_in = X, y, sample_weight
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], order="C",
        )
        check_classification_targets(y)
        s = _check_sample_weight(sample_weight, X, dtype=np.float64)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                "SmoothHingeSVC needs samples of at least 2 classes in the data, but "
                f"the data contains only one class: {self.classes_[0]!r}."
            )
        if self.class_weight is not None:
            cw = compute_class_weight(
                self.class_weight, classes=self.classes_, y=y, sample_weight=sample_weight
            )
            s = s * cw[y_idx]
        if not np.any(s > 0):
            raise ValueError("sample_weight has no positive entry.")
        kw = dict(
            C=float(self.C), temperature=float(self.temperature),
            fit_intercept=self.fit_intercept, solver=self.solver, tol=self.tol,
            max_iter=self.max_iter, verbose=self.verbose,
        )
        outputs = [1] if n_classes == 2 else range(n_classes)
        coefs, intercepts, iters = [], [], []
        for k in outputs:
            ysign = np.where(y_idx == k, 1.0, -1.0)
            w, b, nit = fit_binary(X, ysign, s, **kw)
            coefs.append(w)
            intercepts.append(b)
            iters.append(nit)
        self.coef_ = np.vstack(coefs)
        self.intercept_ = np.asarray(intercepts, dtype=np.float64)
        self.n_iter_ = int(max(iters))
        return self._remember(X_in, y_in, sw_in)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
