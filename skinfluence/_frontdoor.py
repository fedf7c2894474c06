"""The one front door: a fitted estimator and its data -> a verified objective.

Every entry point (``est.influence()``, :func:`skinfluence.influence`,
influence sketching, randomized leverage, ``loo_check``, the selectors,
``mislabel_ranking``) goes through :func:`prepare`, which

1. **resolves the estimator**: ``Pipeline`` (X goes through the earlier steps;
   a step that resamples rows is refused), ``GridSearchCV``/``RandomizedSearchCV``
   (their ``best_estimator_``), ``TransformedTargetRegressor`` (its regressor on
   the transformed y), ``LogisticRegressionCV``/``RidgeCV`` (the equivalent fit at
   the selected penalty);
2. **validates the data once**: feature names and order against
   ``feature_names_in_`` (as scikit-learn's ``predict`` does), arrays through
   the backend that owns them, target, weights, options (each adapter declares
   its own; solver options go to the solver; anything else is refused);
3. **builds the objective** the estimator minimized (its adapter) and
4. **verifies the fit** (:func:`check_fit`): the gradient of the rebuilt
   objective must vanish at the fitted parameters. The Newton decrement
   sqrt(g' H^-1 g / phi) bounds how far, in standard errors, any parameter (or
   combination) sits from the optimum of *these* data; a fit off by more than one
   standard error does not describe them (different data, order or weights, X
   edited after fit, ``copy_X=False``) and is refused, a loosely converged one is
   flagged. Degenerate fits (separated classes, an essentially perfect or a
   saturated fit) get their own message.

Nothing else in skinfluence validates user input.
"""

import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV, Ridge, RidgeCV
from sklearn.model_selection._search import BaseSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._engine import InfluenceEngine
from ._result import Influence, dispersion_formula
from ._solvers import ALL_SOLVER_OPTIONS, SOLVERS
from .adapters import get_adapter
from .backends import Backend, backend_for, get_backend
from .exceptions import (
    DegenerateFitError,
    FitCheckError,
    FitCheckWarning,
    SingularHessianError,
)
from .utils._validation import (
    _is_dataframe,
    check_damping,
    check_design,
    check_scale,
    check_target,
    check_weights,
)

FIT_CHECKS = ("auto", "warn", "raise", "polish", "off")
# A fit does not describe the data when one Newton step moves a typical row's
# fitted value by more than its own standard error: decrement * sqrt(P / n) > 1
# (the decrement alone grows like sqrt(n) at a fixed solver tolerance)
_GROSS = 1.0
# flagged when the decrement (worst direction, in standard errors) exceeds 1%
_LOOSE = 0.01
# direct solvers (least squares) are stationary to rounding: anything above is data
_EXACT = 1e-4
# the fit check factors H up to this size (the direct solver's own limit)
_DIRECT_CHECK_MAX_PARAMS = 4000


# -- 1. resolving the estimator -----------------------------------------------------
def _is_sampler(step):
    return hasattr(step, "fit_resample")


def _equivalent_fit(cls, params, source):
    """A fitted ``cls`` with ``params`` carrying ``source``'s fitted attributes."""
    est = cls(**params)
    for attr in ("coef_", "intercept_", "classes_", "n_features_in_", "feature_names_in_",
                 "n_iter_"):
        if hasattr(source, attr):
            setattr(est, attr, getattr(source, attr))
    return est


def _unwrap_cv(est):
    """LogisticRegressionCV / RidgeCV as the plain estimator at the selected penalty."""
    if isinstance(est, LogisticRegressionCV):
        check_is_fitted(est)
        if not est.refit:
            raise ValueError(
                "LogisticRegressionCV(refit=False) averages the coefficients of the "
                "folds: they minimize no single objective, so influence is undefined. "
                "Refit with refit=True."
            )
        l1 = getattr(est, "l1_ratio_", [None])
        l1 = 0.0 if l1 is None or l1[0] is None else float(l1[0])
        params = dict(C=float(np.ravel(est.C_)[0]), l1_ratio=l1, solver=est.solver,
                      fit_intercept=est.fit_intercept, intercept_scaling=est.intercept_scaling,
                      class_weight=est.class_weight, tol=est.tol, max_iter=est.max_iter)
        return _equivalent_fit(LogisticRegression, params, est)
    if isinstance(est, RidgeCV):
        check_is_fitted(est)
        alpha = np.ravel(np.asarray(est.alpha_, dtype=np.float64))
        if alpha.size != 1:
            raise ValueError("RidgeCV(alpha_per_target=True) is not supported.")
        ridge = _equivalent_fit(Ridge, dict(alpha=float(alpha[0]),
                                            fit_intercept=est.fit_intercept), est)
        ridge.solver_ = "cholesky" if est.cv is None else None  # GCV: a direct solve
        return ridge
    return est


@dataclass
class Resolved:
    """A fitted estimator taken apart: transformers for X, the final linear model."""

    estimator: object
    final: object
    transformers: list
    y_transformer: object = None

    def transform(self, X):
        for step in self.transformers:
            X = step.transform(X)
        return X

    def transform_y(self, y):
        if self.y_transformer is None:
            return y
        y = np.asarray(y)
        return self.y_transformer.transform(y.reshape(-1, 1)).ravel()

    def feature_names(self):
        """Names of the columns the final estimator saw, when they are known."""
        names = getattr(self.final, "feature_names_in_", None)
        if names is not None:
            return [str(n) for n in names]
        if self.transformers:
            try:
                return [str(n) for n in self.transformers[-1].get_feature_names_out()]
            except Exception:  # transformers without get_feature_names_out
                return None
        return None


def resolve(estimator):
    """Take a fitted estimator, search, pipeline or target transformer apart.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import RidgeCV
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skinfluence._frontdoor import resolve
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> r = resolve(make_pipeline(StandardScaler(), RidgeCV()).fit(X, y))
    >>> type(r.final).__name__, r.feature_names()[:2]
    ('Ridge', ['age', 'sex'])
    """
    transformers, y_transformer = [], None
    est = estimator
    while True:
        if isinstance(est, BaseSearchCV):
            if not hasattr(est, "best_estimator_"):
                check_is_fitted(est)
                raise ValueError(
                    f"{type(est).__name__} was fitted with refit=False: it has no "
                    "best_estimator_ to analyse. Refit with refit=True."
                )
            est = est.best_estimator_
        elif isinstance(est, TransformedTargetRegressor):
            check_is_fitted(est)
            if y_transformer is not None:
                raise ValueError("Nested TransformedTargetRegressors are not supported.")
            y_transformer = est.transformer_
            est = est.regressor_
        elif isinstance(est, Pipeline):
            check_is_fitted(est)
            steps = [s for _, s in est.steps if s is not None and s != "passthrough"]
            for name, step in est.steps:
                if _is_sampler(step):
                    raise ValueError(
                        f"The pipeline's step {name!r} ({type(step).__name__}) resamples "
                        "the rows: the final estimator was fitted on other rows than X, "
                        "so the influence of X's rows on it is undefined. Analyse the final "
                        "step on the rows it saw: Xr, yr = step.fit_resample(...), then "
                        "skinfluence.influence(pipeline[-1], Xr_transformed, yr)."
                    )
            transformers.extend(steps[:-1])
            est = steps[-1]
        else:
            break
    est = _unwrap_cv(est)
    return Resolved(estimator, est, transformers, y_transformer)


def _check_feature_names(resolved, X, name):
    """Refuse a DataFrame whose columns differ from (or are reordered against) fit's."""
    if not _is_dataframe(X):
        return
    first = resolved.transformers[0] if resolved.transformers else resolved.final
    fitted = getattr(first, "feature_names_in_", None)
    if fitted is None:
        return
    given = [str(c) for c in X.columns]
    fitted = [str(c) for c in fitted]
    if given == fitted:
        return
    missing = [c for c in fitted if c not in given]
    unexpected = [c for c in given if c not in fitted]
    if missing or unexpected:
        detail = (f" missing: {missing[:5]}" if missing else "") + (
            f" unexpected: {unexpected[:5]}" if unexpected else "")
        raise ValueError(
            f"{name}'s columns are not the features the estimator was fitted on;{detail}."
        )
    raise ValueError(
        f"{name}'s columns are in another order than at fit time (fit: {fitted[:5]}..., "
        f"given: {given[:5]}...). Reorder them: {name}[estimator.feature_names_in_]."
    )


# -- 2. options ---------------------------------------------------------------------
def _split_options(adapter, estimator, options):
    adapter_keys = getattr(adapter, "options", ())
    adapter_options, solver_options = {}, {}
    for key, value in options.items():
        if key in adapter_keys:
            adapter_options[key] = value
        elif key in ALL_SOLVER_OPTIONS:
            solver_options[key] = value
        else:
            raise TypeError(
                f"Unknown option {key!r} for {type(estimator).__name__}. It takes "
                f"{list(adapter_keys) or 'no estimator options'}; solver options: "
                f"{sorted(ALL_SOLVER_OPTIONS)}."
            )
    return adapter_options, solver_options


def _choose_backend(backend, X):
    """The named backend, or the plugin owning X's array type, or the configured one."""
    if backend is None and not _is_dataframe(X):
        owner = backend_for(X)
        if owner is not None:
            return owner
    return get_backend(backend)


# -- 4. the fit check -----------------------------------------------------------------
@dataclass
class FitCheck:
    """How far the fitted parameters are from the optimum of the rebuilt objective.

    Attributes
    ----------
    newton_decrement : float
        sqrt(g' H^-1 g / phi): the largest shift, in standard errors, of any
        parameter or linear combination of them that one Newton step would make.
    max_shift : float
        newton_decrement * sqrt(P / n): the shift of a typical row's fitted value
        in its own standard errors (above 1 the fit is refused).
    status : str
        ``"ok"``, ``"loose"`` (flagged), ``"mismatch"`` (refused unless
        ``fit_check="warn"``), ``"polished"`` or ``"skipped"``.
    message : str
    """

    newton_decrement: float = float("nan")
    max_shift: float = float("nan")
    status: str = "skipped"
    message: str = ""


def _dispersion_estimate(objective, eta=None, backend=None):
    """Pearson chi^2 / (n - P) for free-dispersion single-output losses, else 1."""
    loss = objective.loss
    if loss.fixed_dispersion or objective.n_outputs != 1 or not loss.has_variance:
        return 1.0, None
    if eta is None:
        eta = objective.linear_predictor(backend=backend)[:, 0]
    mu = loss.mean(eta)
    y, s = objective.training_rows(backend)  # the backend's per-row form (e.g. dask)
    r2 = s * (y - mu) ** 2 / loss.variance(mu)  # squared Pearson residuals
    n = int(np.count_nonzero(objective.sample_weight > 0))
    # the result's formula; P parameters here (before any leverage is computed)
    return dispersion_formula(objective, r2, max(n - objective.n_params, 1)), mu


def _check_degenerate(objective, damping, backend=None):
    """Separated classes, perfect or saturated fits: (exception or None, warning or None)."""
    loss = objective.loss
    s = objective.sample_weight
    n = int(np.count_nonzero(s > 0))
    penalized = objective.is_penalized or damping > 0 or objective.l1_gradient is not None
    eta = objective.linear_predictor(backend=backend)
    null = objective.null_space()
    identifiable = objective.n_params - (0 if null is None else null.shape[1])
    if not penalized and n < identifiable:
        return SingularHessianError(
            f"More parameters ({identifiable}) than rows with positive weight ({n}) in "
            "an unpenalized fit: the Hessian is singular. Use fewer features, more "
            "rows, a penalized model (Ridge, finite C), or pass damping > 0."
        ), None
    if not penalized and n == identifiable:
        return DegenerateFitError(
            f"The fit is saturated: {n} rows with positive weight for {identifiable} "
            "parameters, so every leverage is 1 and every deletion diagnostic is 0/0. "
            "Use fewer features, more rows, or a penalized model (Ridge, finite C)."
        ), None
    if loss.is_probabilistic and not penalized:
        pos = s > 0
        if objective.n_outputs == 1:
            correct = np.where(objective.y[pos] == 1, eta[pos, 0] > 0, eta[pos, 0] < 0)
        else:
            correct = np.argmax(eta[pos], axis=1) == objective.y[pos]
        if correct.all():
            return DegenerateFitError(
                "The classes are separated: the unpenalized fit classifies every "
                "training row correctly, so the maximum-likelihood estimate does not "
                "exist (the coefficients diverge, and the fitted values describe "
                "where the solver stopped). Fit with an L2 penalty (finite C)."
            ), None
        mu = loss.mean(eta[:, 0] if objective.n_outputs == 1 else eta)
        if np.any((mu[pos] < 1e-10) | (mu[pos] > 1 - 1e-10)):
            return None, (
                "fitted probabilities numerically 0 or 1 occurred (quasi-separation, "
                "as R's glm warns): the estimate may not exist and diagnostics of "
                "those rows are unreliable. Consider an L2 penalty (finite C)."
            )
    if loss.is_least_squares and objective.n_outputs == 1:
        phi, mu = _dispersion_estimate(objective, eta[:, 0], backend)
        scale = float(np.mean(mu) ** 2 + np.var(mu))
        if phi <= 1e-30 * max(scale, np.finfo(float).tiny):
            return DegenerateFitError(
                "Essentially perfect fit (residual variance about 1e-30 of the fitted "
                "values', as R warns): residual-based diagnostics (studentized "
                "residuals, Cook's distance, DFFITS) would be rounding noise."
            ), None
    return None, None


def _newton_decrement(objective, solve, backend=None, prime=None):
    """(decrement, step, phi) with step = H^-1 g.

    ``prime()`` (optional) builds the solver's factor first: the Hessian's pass over X
    then also yields the data gradient (one pass instead of two).
    """
    if prime is not None:
        prime()
    g = objective.stationarity_gradient(backend=backend)
    step = np.asarray(solve(g), dtype=np.float64)
    phi, _ = _dispersion_estimate(objective, backend=backend)
    dec = float(np.sqrt(max(float(g @ step), 0.0) / phi))
    return dec, step, phi


def _mismatch_message(dec, per_row, exact):
    causes = (
        "the data, their column order or the sample weights differ from those "
        "given to fit; X was edited after fit (or fit with copy_X=False "
        "centred it in place); or the solver stopped far from the optimum"
    )
    kind = "a direct solver's optimum" if exact else "the optimum"
    return (
        f"The fitted parameters are not {kind} of the objective rebuilt from these "
        f"data: one Newton step would move them by up to {dec:.3g} standard errors "
        f"(a typical row's fitted value by {per_row:.3g} of its own). "
        f"Likely causes: {causes}. Pass exactly the fit's X, y and sample_weight; or "
        "refit with a tighter tol; or pass fit_check='polish' (analyse the optimum, "
        "reached by Newton steps) or fit_check='warn' (proceed at your own risk)."
    )


def check_fit(objective, solve, *, mode="auto", damping=0.0, what="influence", backend=None,
              prime=None):
    """Verify that ``objective.theta`` is its optimum; returns a :class:`FitCheck`.

    ``solve(g)`` applies the inverse Hessian (the cached factor, CG, or a sketch
    of it); ``prime()`` builds that factor before the gradient is asked for (after
    the degenerate-fit checks). Raises :class:`DegenerateFitError` or
    :class:`FitCheckError` per ``mode``.
    """
    if mode == "off":
        return FitCheck()
    error, warning = _check_degenerate(objective, damping, backend)
    if error is not None:
        if mode == "warn":
            warnings.warn(str(error), FitCheckWarning, stacklevel=3)
        else:
            raise error
    if warning:
        warnings.warn(warning, FitCheckWarning, stacklevel=3)
    dec, step, phi = _newton_decrement(objective, solve, backend, prime)
    if not np.isfinite(dec):
        raise DegenerateFitError(
            "The gradient or Hessian of the rebuilt objective is not finite at the "
            "fitted parameters (overflow): rescale the columns and refit."
        )
    exact = bool(getattr(objective, "exact_solution", False))
    n = max(int(np.count_nonzero(objective.sample_weight > 0)), 1)
    # the shift of a typical row's fitted value, in its own standard errors
    per_row = dec * np.sqrt(min(objective.n_params / n, 1.0))
    check = FitCheck(newton_decrement=dec, max_shift=per_row, status="ok")
    gross = (dec > _EXACT) if exact else (per_row > _GROSS)
    loose = dec > (_EXACT if exact else _LOOSE)
    if objective.surrogate and loose:
        # by design not this objective's optimum: say how far, never refuse
        check.status = "surrogate"
        check.message = (
            f"{objective.surrogate}: the fitted parameters are {dec:.3g} standard errors "
            "from this objective's optimum, so the estimates are approximations "
            "(fit_check='polish' analyses the optimum instead)."
        )
        warnings.warn(check.message, FitCheckWarning, stacklevel=3)
    elif gross:
        check.status, check.message = "mismatch", _mismatch_message(dec, per_row, exact)
        if mode in ("auto", "raise"):
            raise FitCheckError(check.message)
        if mode == "warn":
            warnings.warn(check.message, FitCheckWarning, stacklevel=3)
    elif loose:
        check.status = "loose"
        check.message = (
            f"The fitted parameters are {dec:.2g} standard errors from the optimum of "
            f"the objective rebuilt from these data (a typical row's fitted value "
            f"{per_row:.2g} of its standard error), so {what} describes nearby "
            "parameters. If the solver's tolerance is loose, refit with a tighter tol "
            "(e.g. tol=1e-8) or pass fit_check='polish' to analyse the exact optimum; "
            "if not, check that X, y and the sample weights are exactly the fit's "
            "(column order, weights, X edited after fit)."
        )
        if mode == "raise":
            raise FitCheckError(check.message)
        warnings.warn(check.message, FitCheckWarning, stacklevel=3)
    return check


def _subspace_gram(Xb, wb, omega, fit_intercept):
    """Z_b' diag(w_b) Z_b with Z_b = Xt_b omega (one row block, NumPy)."""
    Z = get_backend("numpy").design_matmul(Xb, omega, fit_intercept)
    return Z.T @ (wb[:, None] * Z)


def subspace_newton_solver(backend=None, k=32, seed=0):
    """For the fit check when H is too large to factor: H^-1 g restricted to k
    directions (g and k - 1 Gaussian ones), one pass over X.

    x = Omega (Omega' H Omega)^-1 Omega' g with g in range(Omega), so g' x is a
    lower bound of g' H^-1 g: the check can miss a mismatch, never invent one.
    Returns ``make(objective) -> solve`` (None for multi-output objectives).
    """

    def make(objective):
        if objective.n_outputs != 1:
            return None
        be = _choose_backend(backend, objective.X)
        P = objective.n_params
        g = objective.stationarity_gradient(backend=be)
        if not np.any(g):
            return lambda v: np.zeros_like(v)
        kk = min(k, P)
        rng = np.random.default_rng(seed)
        omega = np.column_stack([g, rng.standard_normal((P, kk - 1))])
        omega, _ = np.linalg.qr(omega)
        w = objective.eta_hessian("fisher", backend=be)[:, 0, 0]
        if be.lazy:  # a reduction over row blocks (a tree on dask), nothing of length n
            block = partial(_subspace_gram, omega=omega, fit_intercept=objective.fit_intercept)
            A = be.row_reduce(block, objective.X, w, shape=(kk, kk),
                              width=kk + objective.n_features)
        else:
            Z = be.design_matmul(objective.X, omega, objective.fit_intercept)
            A = Z.T @ (w[:, None] * Z)
        A += omega.T @ (objective.pen[:, None] * omega)
        A[np.diag_indices_from(A)] *= 1 + 1e-12
        return lambda v: omega @ np.linalg.solve(A, omega.T @ v)

    return make


def polish(objective, backend, damping=0.0, max_iter=50, tol=1e-10):
    """Newton steps from the fitted parameters to the optimum; returns the new objective."""
    if objective.l1_gradient is not None:
        raise ValueError(
            "fit_check='polish' does not apply to an L1 active-set fit (a Newton step "
            "could change the active set); refit with a tighter tol instead."
        )
    obj = objective
    for _ in range(max_iter):
        engine = InfluenceEngine(obj, backend=backend, damping=damping)
        dec, step, _ = _newton_decrement(obj, lambda g: engine.solve(g, kind="observed"),
                                         engine.backend)
        if dec < tol:
            return obj
        obj = obj.with_theta(obj.theta - step)
    raise FitCheckError(
        f"fit_check='polish' did not reach the optimum in {max_iter} Newton steps "
        f"(still {dec:.3g} standard errors away): the objective may have no optimum "
        "(separated classes) or be ill-conditioned."
    )


# -- the boundary ---------------------------------------------------------------------
@dataclass
class Prepared:
    """What the front door hands an entry point."""

    objective: object
    resolved: Resolved
    backend: Backend
    index: object
    encoder: object
    solver_options: dict
    adapter_options: dict
    fit_check: str
    damping: float
    X: object = None               # validated design the final estimator saw (full width)
    y: object = None               # validated target as fit saw it (not label-encoded)
    sample_weight: object = None   # validated weights (ones when none were given)


class TestEncoder:
    """Brings evaluation data (test/validation rows) to the training data's form.

    A plain object (not a closure), so results that keep it pickle.
    """

    def __init__(self, resolved, adapter, adapter_options, n_features, backend, active=None):
        self.resolved = resolved
        self.adapter = adapter
        self.adapter_options = adapter_options
        self.n_features = n_features
        self.backend = backend
        self.active = active

    def _design(self, X, name):
        _check_feature_names(self.resolved, X, name)
        Xt = self.resolved.transform(X)
        return check_design(Xt, n_features=self.n_features, name=name, backend=self.backend)

    def design(self, X, name="X_new"):
        """Validated, transformed X (active columns of an L1 fit), without labels."""
        Xt = self._design(X, name)
        return Xt if self.active is None else Xt[:, self.active]

    def data(self, X, y, names=("X_test", "y_test")):
        """Validated, transformed (X, y), full width and labels as given (for refits)."""
        Xt = self._design(X, names[0])
        y = check_target(y, Xt.shape[0], name=names[1], backend=self.backend)
        return Xt, self.resolved.transform_y(y)

    def objective(self, estimator, X, y):
        """The evaluation objective of another fit of the same kind (e.g. a refit)
        on data from :meth:`data`."""
        obj = self.adapter(estimator, X, y, None, **self.adapter_options)
        obj.loss.check_y(obj.y)
        return obj

    def __call__(self, X, y, names=("X_test", "y_test")):
        x_name, y_name = names
        Xt = self._design(X, x_name)
        y = check_target(y, Xt.shape[0], name=y_name, backend=self.backend)
        y = self.resolved.transform_y(y)
        try:
            obj = self.adapter(self.resolved.final, Xt, y, None, **self.adapter_options)
            obj.loss.check_y(obj.y)
        except ValueError as exc:
            raise ValueError(f"{y_name}: {exc}") from None
        return obj.X, obj.y  # as the adapter sees them (e.g. active columns)


def validate_data(X, y, *, X_name="X", y_name="y", n_features=None):
    """Validated (X, y) for entry points that take data without a fitted estimator
    (the selectors' ``fit_resample``): NumPy/CSR X, 1-d y of matching length."""
    be = _choose_backend(None, X)
    Xc = check_design(X, n_features=n_features, name=X_name, backend=be)
    yc = check_target(y, Xc.shape[0], name=y_name, backend=be)
    return Xc, yc


def _check_choice(value, name, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}.")


def prepare(estimator, X, y, sample_weight=None, *, backend=None, damping=0.0,
            fit_check="auto", **options):
    """Resolve, validate and build the objective (the fit check runs in :func:`influence`).

    Returns a :class:`Prepared`.
    """
    _check_choice(fit_check, "fit_check", FIT_CHECKS)
    damping = check_damping(damping)
    resolved = resolve(estimator)
    final = resolved.final
    adapter = get_adapter(final)  # UnsupportedEstimatorError before anything else
    check_is_fitted(final)
    adapter_options, solver_options = _split_options(adapter, final, options)
    be = _choose_backend(backend, X)
    index = X.index if _is_dataframe(X) else None
    _check_feature_names(resolved, X, "X")
    Xt = resolved.transform(X)
    n_features = getattr(final, "n_features_in_", None)
    owner = backend_for(Xt)
    if owner is not None and not be.owns(Xt):
        raise ValueError(
            f"X is a {type(Xt).__module__}.{type(Xt).__name__} but the backend is "
            f"{be.name!r}: pass backend={owner.name!r} (or leave backend=None), or a "
            "NumPy array."
        )
    # NumPy/CSR: one pass over X finds NaN/inf and squares that over- or underflow
    Xt = check_design(Xt, n_features=n_features, name="X", backend=be, finite=False)
    if isinstance(Xt, np.ndarray) or sp.issparse(Xt):
        check_scale(Xt, feature_names=resolved.feature_names())
    y = check_target(y, Xt.shape[0], backend=be)
    y = resolved.transform_y(y)
    s = check_weights(sample_weight, Xt.shape[0], backend=be)
    objective = adapter(final, Xt, y, s, **adapter_options)
    objective.loss.check_y(objective.y)
    names = resolved.feature_names()
    if names is not None:
        objective.rename_features(names)
    encoder = TestEncoder(resolved, adapter, adapter_options, n_features, be,
                          active=getattr(objective, "active_features", None))
    return Prepared(objective, resolved, be, index, encoder, solver_options,
                    adapter_options, fit_check, damping, Xt, y, s)


def influence(
    estimator, X, y, sample_weight=None, *, backend=None, damping=0.0, solver="auto",
    fit_check="auto", leverage_method="exact", leverage_options=None, **options,
):
    """Influence diagnostics of a fitted scikit-learn estimator or pipeline.

    Nothing is refitted: the objective the estimator minimized is rebuilt from its
    fitted parameters and the data, verified to be at its optimum, and every
    diagnostic comes from one factorization of its Hessian.

    Parameters
    ----------
    estimator : fitted estimator
        A supported linear model (see
        :func:`skinfluence.adapters.supported_estimators`), or a fitted
        ``Pipeline``, ``GridSearchCV``/``RandomizedSearchCV``,
        ``TransformedTargetRegressor``, ``LogisticRegressionCV`` or ``RidgeCV``
        around one. Pipelines: X goes through the earlier steps and the final
        step is analysed; a pipeline with a resampling step is refused.
    X : array-like, DataFrame or sparse CSR matrix of shape (n_samples, n_features)
        The training data the estimator was fitted on, in the fit's column
        order (a DataFrame's index labels the rows of
        :meth:`Influence.summary_frame`). A torch tensor or another backend's
        array selects that backend when ``backend`` is None.
    y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,) or float, default=None
        The weights passed to ``fit`` (class weights are added from the estimator).
    backend : str or Backend, default=None
        Linear-algebra backend; ``None``: the backend owning X's array type,
        else ``skinfluence.get_config()["backend"]``.
    damping : float, default=0.0
        Added to the Hessian's diagonal before factoring (and by every solver).
    solver : {"auto", "direct", "cg", "lissa", "ekfac"}, default="auto"
        Inverse-Hessian-vector products of the influence functions: cached
        Cholesky factor, conjugate gradients on Hessian-vector products (never
        forms H; sparse X with 10^5 features), LiSSA, or EK-FAC (Kronecker
        eigenbasis; wide multinomial models). ``"auto"``: direct up to 4,000
        parameters (or the n x n dual form for wide data), CG beyond.
    fit_check : {"auto", "warn", "raise", "polish", "off"}, default="auto"
        Verification that the fitted parameters are the optimum of the
        objective rebuilt from these data (one gradient pass and one solve with
        the cached factor). ``"auto"``: refuse a fit more than one standard
        error away (wrong or reordered data, forgotten weights, X edited after
        fit; for direct least-squares solvers 1e-4) and degenerate fits
        (separated classes, an essentially perfect or saturated fit), warn with
        :class:`~skinfluence.exceptions.FitCheckWarning` for a loosely converged
        one (over 1% of a standard error). ``"raise"``: refuse both.
        ``"warn"``: never refuse (e.g. a pilot fit on a sample, an SGD fit;
        the numbers then describe the given parameters). ``"polish"``: take
        Newton steps to the optimum and analyse it (the estimator is not
        changed). ``"off"``: no check. The outcome is in ``Influence.fit_check``.
    leverage_method : {"exact", "sketch"}, default="exact"
        ``"sketch"``: diagnostics run on randomized leverage
        (:func:`skinfluence.sketch.use_sketched_leverage`): relative-error
        :func:`skinfluence.sketch.randomized_leverage` while the P x P Hessian
        fits the dense budget, else the unbiased
        :func:`skinfluence.sketch.jl_leverage` (k conjugate-gradient solves,
        stated accuracy in ``Influence.leverage_accuracy``): wide sparse data
        beyond the memory guard.
    leverage_options : dict, default=None
        Options of the randomized leverage (``algorithm``, ``eps``, ``k``,
        ``random_state``, ...).
    **options
        Options the estimator's adapter declares (``temperature`` for a
        ``LinearSVC(loss="hinge")``, ``active_set`` for an L1 logistic fit) and
        solver options (CG: ``tol``, ``max_iter``, ``preconditioner``; LiSSA:
        ``scale``, ``depth``, ``n_samples``, ``batch_size``, ``random_state``);
        anything else raises TypeError.

    Returns
    -------
    Influence

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    skinfluence.exceptions.UnsupportedEstimatorError
        (a TypeError) for unsupported estimators or penalties.
    skinfluence.exceptions.FitCheckError, skinfluence.exceptions.DegenerateFitError
        (ValueErrors) when the fit does not describe these data, or is degenerate.
    ValueError
        For NaN/inf, missing values, shape or feature-name mismatches and unknown labels.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> import skinfluence
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> pipe = make_pipeline(StandardScaler(), LogisticRegression(tol=1e-8)).fit(X, y)
    >>> inf = skinfluence.influence(pipe, X, y)
    >>> inf.cooks_distance.shape
    (569,)
    >>> inf.fit_check.status
    'ok'
    """
    _check_choice(solver, "solver", SOLVERS)
    _check_choice(leverage_method, "leverage_method", ("exact", "sketch"))
    prep = prepare(estimator, X, y, sample_weight, backend=backend, damping=damping,
                   fit_check=fit_check, **options)
    objective = prep.objective
    if fit_check == "polish":
        if objective.n_params > 4000:
            raise ValueError("fit_check='polish' needs a direct solve (at most 4,000 parameters).")
        objective = polish(objective, prep.backend, prep.damping)
    inf = Influence(objective, backend=prep.backend, damping=prep.damping, index=prep.index,
                    solver=solver, encode_test=prep.encoder,
                    leverage_method=leverage_method, leverage_options=leverage_options,
                    **prep.solver_options)
    if fit_check == "polish":
        inf.fit_check = FitCheck(0.0, 0.0, "polished",
                                 "parameters polished to the optimum by Newton steps")
    elif fit_check != "off":
        # the cached factor when it is affordable (every diagnostic reuses it); CG
        # or LiSSA never: a stochastic or truncated solve would make the check noisy
        R = getattr(inf, "_sketch_factor", None)  # leverage_method="sketch": R'R ~ H
        prime = None
        if R is not None:
            def solve(g):
                return scipy.linalg.cho_solve((R, False), g)
        elif objective.n_params <= _DIRECT_CHECK_MAX_PARAMS \
                and getattr(inf.engine, "strategy", "primal") != "iterative":
            solve = lambda g: inf.engine.solve(g, kind="fisher")  # noqa: E731
            prime = lambda: inf.engine.factor("fisher")  # noqa: E731
        else:  # H too large to factor (or the memory guard chose the iterative path)
            solve = subspace_newton_solver(prep.backend)(objective)
        if solve is None:  # multi-output beyond the direct size: degenerate checks only
            error, warning = _check_degenerate(objective, prep.damping, prep.backend)
            if error is not None and fit_check != "warn":
                raise error
        else:
            inf.fit_check = check_fit(objective, solve, mode=fit_check,
                                      damping=prep.damping, backend=prep.backend,
                                      prime=prime)
    if inf.fit_check is None:
        inf.fit_check = FitCheck()
    inf.X_input = X  # the caller's X as given (raw columns for explain(); a reference)
    return inf


def own_fit_influence(estimator, X, y, sample_weight=None, **options):
    """Influence of a fit an entry point made itself (a selector's, a search's).

    The entry point chose the solver and its tolerance, so a loose tolerance is its
    business, not the user's: the fit is polished to the optimum (Newton steps on
    the cached factor) when the Hessian is small, and checked with warnings only
    otherwise (and for L1 active sets, which polishing could change).
    """
    final = resolve(estimator).final
    n_params = np.size(getattr(final, "coef_", 0)) + np.size(getattr(final, "intercept_", 0))
    small = n_params <= _DIRECT_CHECK_MAX_PARAMS and not options.get("active_set", False)
    options.setdefault("fit_check", "polish" if small else "warn")
    return influence(estimator, X, y, sample_weight, **options)


def build_objective(estimator, X, y, sample_weight=None, *, backend=None,
                    fit_check="auto", what="this sketch", solve=None, **options):
    """The verified objective for entry points that never form the Hessian (sketches).

    ``solve``: ``solve(objective)`` returns an approximate inverse-Hessian solve
    for the fit check (e.g. the sketch's), or None; without one only the
    degenerate-fit checks run. Returns ``(objective, prepared)``.
    """
    prep = prepare(estimator, X, y, sample_weight, backend=backend, fit_check=fit_check,
                   **options)
    if prep.solver_options:
        raise TypeError(f"Unknown option(s) {sorted(prep.solver_options)} for {what}.")
    solver = solve(prep.objective) if (solve is not None and fit_check != "off") else None
    if fit_check != "off":
        if solver is not None:
            check_fit(prep.objective, solver, mode=fit_check, what=what, backend=prep.backend)
        else:
            error, warning = _check_degenerate(prep.objective, 0.0, prep.backend)
            if error is not None:
                raise error
            if warning:
                warnings.warn(warning, FitCheckWarning, stacklevel=3)
    return prep.objective, prep
