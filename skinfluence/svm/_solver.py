"""Fitting one binary smoothed-hinge SVM: L-BFGS or Newton-CG, with continuation in t.

Minimized (scaled by 1/(C S), S = sum s_i, which changes neither the minimizer nor
the meaning of ``tol``; scikit-learn's LogisticRegression scales the same way)::

    f(w, b) = 1/S sum_i s_i SmoothHinge(y_i (x_i w + b), t) + ||w||^2 / (2 C S)

Loss values and derivatives come from :class:`skinfluence._loss.SmoothHingeLoss`.
Small temperatures make the problem nearly non-smooth (curvature up to 1/(4t) on
the margin), so for t below ``_CONTINUATION_START`` the solver walks down a
sequence t_0 = 0.1, t_0/10, ..., t, each stage warm-started from the previous
one. ``t = 0`` (the hinge) is solved as the last stage t = ``HINGE_TEMPERATURE``:
since hinge <= SmoothHinge_t <= hinge + t log 2, the result is within
C S t log 2 of the hinge objective's minimum.
"""

import warnings

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from .._loss import SmoothHingeLoss

HINGE_TEMPERATURE = 1e-5
_CONTINUATION_START = 0.1


def _temperature_path(t):
    """Stages of the continuation ending at t (t = 0 -> HINGE_TEMPERATURE)."""
    t = HINGE_TEMPERATURE if t == 0 else float(t)
    path = []
    stage = _CONTINUATION_START
    while stage > t * 1.0001:
        path.append(stage)
        stage /= 10.0
    path.append(t)
    return path


class _Problem:
    """Scaled objective, gradient and Hessian-vector products for one binary fit."""

    def __init__(self, X, y, s, C, t, fit_intercept):
        self.X, self.y, self.fit_intercept = X, y, fit_intercept
        S = s.sum()
        self.s = s / S
        self.alpha = 1.0 / (C * S)
        self.loss = SmoothHingeLoss(t)
        self._h = None
        self._grad_max = {}

    def _split(self, theta):
        if self.fit_intercept:
            return theta[:-1], theta[-1]
        return theta, 0.0

    def _eta(self, theta):
        w, b = self._split(theta)
        return np.asarray(self.X @ w, dtype=np.float64).ravel() + b

    def loss_grad(self, theta):
        w, _ = self._split(theta)
        eta = self._eta(theta)
        val = self.s @ self.loss.loss(self.y, eta) + 0.5 * self.alpha * (w @ w)
        g = self.s * self.loss.gradient(self.y, eta)
        grad = np.empty_like(theta)
        if self.fit_intercept:
            grad[:-1] = np.asarray(self.X.T @ g).ravel() + self.alpha * w
            grad[-1] = g.sum()
        else:
            grad[:] = np.asarray(self.X.T @ g).ravel() + self.alpha * w
        # keep the curvature for the Hessian-vector products of Newton-CG
        self._h = self.s * self.loss.hessian(self.y, eta)
        self._theta_h = theta.copy()
        self._grad_max[theta.tobytes()] = float(np.max(np.abs(grad), initial=0.0))
        if len(self._grad_max) > 8:
            self._grad_max.pop(next(iter(self._grad_max)))
        return val, grad

    def grad_max(self, theta):
        """max |gradient| at theta (cached from the evaluations of the solver)."""
        key = theta.tobytes()
        if key not in self._grad_max:
            self.loss_grad(theta)
        return self._grad_max[key]

    def hessp(self, theta, v):
        if self._h is None or not np.array_equal(theta, self._theta_h):
            self.loss_grad(theta)
        vw, vb = self._split(v)
        u = self._h * (np.asarray(self.X @ vw, dtype=np.float64).ravel() + vb)
        out = np.empty_like(v)
        if self.fit_intercept:
            out[:-1] = np.asarray(self.X.T @ u).ravel() + self.alpha * vw
            out[-1] = u.sum()
        else:
            out[:] = np.asarray(self.X.T @ u).ravel() + self.alpha * vw
        return out


def _solve_stage(problem, theta0, solver, tol, max_iter):
    if solver == "lbfgs":
        res = scipy.optimize.minimize(
            problem.loss_grad, theta0, method="L-BFGS-B", jac=True,
            options={"maxiter": max_iter, "maxls": 50, "gtol": tol,
                     "ftol": 64 * np.finfo(float).eps},
        )
        grad_norm = float(np.max(np.abs(res.jac)))
        return res.x, int(res.nit), bool(res.success) or grad_norm <= tol, grad_norm
    # newton-cg: scipy's trust-region test is on the 2-norm and it keeps shrinking
    # the region when rounding errors stop progress; stop on max |gradient| <= tol
    # or after 10 iterations without decrease instead
    monitor = _Monitor(problem, tol)
    res = scipy.optimize.minimize(
        problem.loss_grad, theta0, method="trust-ncg", jac=True, hessp=problem.hessp,
        callback=monitor, options={"maxiter": max_iter, "gtol": tol},
    )
    grad_norm = problem.grad_max(res.x)
    return res.x, int(res.nit), grad_norm <= tol, grad_norm


class _Monitor:
    """Callback stopping trust-ncg on max |gradient| <= tol or on a stall."""

    def __init__(self, problem, tol, patience=10):
        self.problem, self.tol, self.patience = problem, tol, patience
        self.best, self.since = np.inf, 0

    def __call__(self, intermediate_result):
        x, f = intermediate_result.x, intermediate_result.fun
        if self.problem.grad_max(x) <= self.tol:
            raise StopIteration
        if f < self.best:
            self.best, self.since = f, 0
        else:
            self.since += 1
            if self.since >= self.patience:
                raise StopIteration


def fit_binary(X, y, s, *, C, temperature, fit_intercept, solver, tol, max_iter, verbose=0):
    """Fit one binary problem (y in {-1, +1}); return (coef (p,), intercept, n_iter)."""
    p = X.shape[1]
    theta = np.zeros(p + fit_intercept)
    n_iter = 0
    converged, grad_norm = True, 0.0
    path = _temperature_path(temperature)
    for k, t in enumerate(path):
        problem = _Problem(X, y, s, C, t, fit_intercept)
        last = k == len(path) - 1
        # intermediate stages only need to be close: the next stage refines them
        stage_tol = tol if last else max(tol, 1e-3)
        budget = max(1, max_iter - n_iter) if last else max_iter
        theta, nit, converged, grad_norm = _solve_stage(problem, theta, solver, stage_tol, budget)
        n_iter += nit
        if verbose:
            print(f"[SmoothHingeSVC] t={t:g}: {nit} iterations, max|grad|={grad_norm:.2e}")
    if not converged:
        warnings.warn(
            f"SmoothHingeSVC ({solver}) did not converge: max |gradient| = "
            f"{grad_norm:.2e} > tol = {tol:g} after {n_iter} iterations "
            f"(max_iter={max_iter}). Increase max_iter, scale the data, raise the "
            "temperature or loosen tol (rounding errors limit it near 1e-9 when "
            "C / temperature is large).",
            ConvergenceWarning,
            stacklevel=3,
        )
    if fit_intercept:
        return theta[:-1], float(theta[-1]), n_iter
    return theta, 0.0, n_iter


def is_wide_sparse(X):
    return sp.issparse(X) and X.shape[1] > 1000
