"""LinearObjective: a loss bound to data, weights, fitted parameters and an L2 penalty.

Normalized form (any positive rescaling of scikit-learn's objective)::

    L(theta) = sum_i s_i * loss(y_i, eta_i) + 1/2 * sum_j pen_j * theta_j^2
    eta_ik   = b_k + x_i . w_k            (k = 0..K-1)

Parameter layout (as R and statsmodels print it): for each output k, the
intercept first (when fitted) then the ``coef_`` columns; outputs are stacked,
so theta_flat[k * p' + j] with p' = n_features + fit_intercept.

``share`` (optional, per row, sums to 1) records which fraction of the penalty a
row "owns" when the estimator minimized a weighted *mean* of losses plus a
penalty (scikit-learn's Poisson/Gamma/Tweedie regressors): deleting row i then
also removes ``share_i`` of the penalty. It is None for sum-form objectives.
"""

import copy

import numpy as np

from ..backends import get_backend


class LinearObjective:
    """The smooth objective of a fitted (generalized) linear model.

    Parameters
    ----------
    loss : BaseLoss
    X : ndarray or scipy.sparse CSR matrix of shape (n, p)
    y : ndarray of shape (n,)
        Target encoded for the loss (0/1 for binomial, 0..K-1 for multinomial).
    sample_weight : ndarray of shape (n,)
        Effective weights s_i (class weights already multiplied in).
    coef : ndarray of shape (K, p)
    intercept : ndarray of shape (K,)
    fit_intercept : bool
    penalty : float
        L2 strength on ``coef`` in the normalized form.
    intercept_penalty : float, default=0.0
        L2 strength on the intercept (non-zero only for liblinear).
    share : ndarray of shape (n,) or None
        Penalty share of each row (see module docstring).
    param_names : list of str, optional
    classes : ndarray, optional
        Class labels of a classifier, in the order of the encoded ``y``.
    """

    def __init__(
        self,
        loss,
        X,
        y,
        sample_weight,
        coef,
        intercept,
        fit_intercept,
        penalty=0.0,
        intercept_penalty=0.0,
        share=None,
        param_names=None,
        classes=None,
    ):
        self.loss = loss
        self.X = X
        self.y = y
        self.sample_weight = np.asarray(sample_weight, dtype=np.float64)
        self.fit_intercept = bool(fit_intercept)
        coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
        K, p = coef.shape
        if K != loss.n_outputs:
            raise ValueError(f"coef has {K} rows but the loss has {loss.n_outputs} outputs.")
        self.n_outputs = K
        self.n_features = p
        self.p_ = p + self.fit_intercept  # parameters per output
        theta = np.empty((K, self.p_))
        pen = np.empty((K, self.p_))
        if self.fit_intercept:
            theta[:, 0] = np.broadcast_to(np.asarray(intercept, dtype=np.float64), (K,))
            theta[:, 1:] = coef
            pen[:, 0] = intercept_penalty
            pen[:, 1:] = penalty
        else:
            theta[:] = coef
            pen[:] = penalty
        self.theta = theta.ravel()
        self.pen = pen.ravel()
        self.share = None if share is None else np.asarray(share, dtype=np.float64)
        self.param_names = param_names
        self.classes = classes
        #: True when the estimator's solver is direct (least squares, Ridge with
        #: cholesky/svd): its gradient is ~0 to rounding, not to a tolerance
        self.exact_solution = False
        #: constant gradient of an L1 term that is linear on an active set (or None)
        self.l1_gradient = None
        #: why the fitted parameters are not this objective's optimum by design
        #: (a surrogate loss, e.g. the smoothed hinge of a hinge-loss fit), or None
        self.surrogate = None
        self._eta = None
        self._derivs = None
        self._rows = self._data_gradient = None

    @property
    def theta(self):
        """Flat parameters (length P). Assigning new parameters clears the cached
        per-row quantities (prefer :meth:`with_theta`, which leaves this one intact)."""
        return self._theta

    @theta.setter
    def theta(self, value):
        self._theta = value
        self._eta = self._derivs = None
        self._rows = self._data_gradient = None

    def with_theta(self, theta):
        """A copy bound to the same data with parameters ``theta`` (flat, length P)."""
        new = copy.copy(self)
        new.theta = np.asarray(theta, dtype=np.float64).copy()
        return new

    def rename_features(self, features):
        """Parameter names from feature names (same layout: intercept first, per output)."""
        features = [str(f) for f in features]
        active = getattr(self, "active_features", None)
        if active is not None:
            features = [features[j] for j in active]
        if len(features) != self.n_features:
            return
        base = (["(Intercept)"] if self.fit_intercept else []) + features
        if self.n_outputs == 1:
            self.param_names = base
        else:
            outputs = [str(c) for c in self.classes] if self.classes is not None \
                else [str(k) for k in range(self.n_outputs)]
            self.param_names = [f"{o}:{b}" for o in outputs for b in base]

    # -- sizes ----------------------------------------------------------------
    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_params(self):
        return self.n_outputs * self.p_

    @property
    def is_penalized(self):
        return bool(np.any(self.pen > 0))

    @property
    def theta_matrix(self):
        """theta as (p', K): column k holds output k's [intercept, coef]."""
        return self.theta.reshape(self.n_outputs, self.p_).T

    # -- per-row quantities ---------------------------------------------------
    def _as_loss_input(self, eta):
        return eta[:, 0] if self.n_outputs == 1 else eta

    def _as_2d(self, a):
        return a[:, None] if a.ndim == 1 else a

    def linear_predictor(self, X=None, backend=None):
        """eta of shape (n, K) for X (default: the training X)."""
        if X is None:
            if self._eta is None:
                be = get_backend(backend)
                # a lazy backend (dask) computes it once and keeps it where it is (8
                # bytes per row and output): every later pass reuses it, none re-reads X
                eta = be.persist(
                    be.design_matmul(self.X, self.theta_matrix, self.fit_intercept)
                )
                if isinstance(eta, np.ndarray) and not np.isfinite(eta).all():
                    # NaN/inf anywhere in a row of X make its eta NaN (NaN * 0 is NaN),
                    # so this also catches an X edited after it was validated
                    i = int(np.flatnonzero(~np.isfinite(eta).all(axis=1))[0])
                    raise ValueError(
                        f"The linear predictor X @ coef is not finite at row {i}: X "
                        "contains NaN or infinity there (was it edited after it was "
                        "validated?), or the coefficients overflow."
                    )
                self._eta = eta
            return self._eta
        return get_backend(backend).design_matmul(X, self.theta_matrix, self.fit_intercept)

    def training_rows(self, backend=None):
        """(y, sample_weight) in the backend's per-row form (like the linear predictor:
        NumPy arrays, or dask arrays with X's row chunks), wrapped once."""
        eta = self.linear_predictor(backend=backend)
        if self._rows is None or self._rows[0] is not eta:
            be = get_backend(backend)
            self._rows = (eta, be.like_rows(self.y, eta), be.like_rows(self.sample_weight, eta))
        return self._rows[1:]

    def per_sample_loss(self, X=None, y=None, backend=None):
        eta = self.linear_predictor(X, backend)
        if y is None:
            y = self.training_rows(backend)[0] if X is None else self.y
        return self.loss.loss(y, self._as_loss_input(eta))

    def _training_derivatives(self, backend):
        """(G, B_observed) on the training rows, computed once (one call of the
        loss's ``gradient_hessian``: the fit check and the engine share them)."""
        if self._derivs is None:
            eta = self.linear_predictor(backend=backend)
            g, b = self.loss.gradient_hessian(self.y, self._as_loss_input(eta))
            s = self.sample_weight
            g = self._as_2d(g) * s[:, None]
            b = (b[:, None, None] if b.ndim == 1 else b) * s[:, None, None]
            self._derivs = (g, b)
        return self._derivs

    def eta_gradient(self, X=None, y=None, sample_weight=None, backend=None):
        """G (n, K): s_i * d loss_i / d eta_i (unit weights when X is given).

        The training rows' G is computed once per objective (do not modify it).
        """
        if X is None and self._lazy_safe(backend):
            return self._training_derivatives(backend)[0]
        eta = self.linear_predictor(X, backend)
        if X is None:
            y, s = self.training_rows(backend)
        else:
            s = np.ones(eta.shape[0]) if sample_weight is None else sample_weight
        g = self._as_2d(self.loss.gradient(y, self._as_loss_input(eta)))
        return g * s[:, None]

    def eta_hessian(self, kind="observed", X=None, y=None, sample_weight=None, backend=None):
        """B (n, K, K): s_i * d^2 loss_i / d eta_i^2 (``kind="fisher"``: IRLS weights).

        The training rows' observed B is computed once per objective (do not modify it).
        """
        if X is None and self._lazy_safe(backend) and (
                kind != "fisher" or getattr(self.loss, "fisher_is_hessian", True)):
            return self._training_derivatives(backend)[1]
        eta = self.linear_predictor(X, backend)
        if X is None:
            y, s = self.training_rows(backend)
        else:
            s = np.ones(eta.shape[0]) if sample_weight is None else sample_weight
        fn = self.loss.fisher if kind == "fisher" else self.loss.hessian
        b = fn(y, self._as_loss_input(eta))
        if b.ndim == 1:
            b = b[:, None, None]
        return b * s[:, None, None]

    def _lazy_safe(self, backend):
        """Cache only NumPy results (a lazy backend's arrays are graphs, recomputed
        per use by design)."""
        return isinstance(self.linear_predictor(backend=backend), np.ndarray)

    # -- totals -----------------------------------------------------------------
    def value(self, backend=None):
        """Objective value in the normalized form."""
        return float(
            np.dot(self.sample_weight, self.per_sample_loss(backend=backend))
            + 0.5 * np.dot(self.pen, self.theta**2)
        )

    def penalty_gradient(self):
        """pen * theta (flattened)."""
        return self.pen * self.theta

    def gradient(self, backend=None):
        """Gradient (P,) of the smooth part (losses + L2 penalty)."""
        eta = self.linear_predictor(backend=backend)
        if self._data_gradient is None or self._data_gradient[0] is not eta:
            # one pass over X per linear predictor (the fit check and a sketch's
            # subspace solve both ask for it)
            G = self.eta_gradient(backend=backend)
            data = get_backend(backend).design_rmatmul(self.X, G, self.fit_intercept)
            self._data_gradient = (eta, data)
        return self._data_gradient[1].T.ravel() + self.penalty_gradient()

    def stationarity_gradient(self, backend=None):
        """Gradient of the whole minimized objective (plus an active-set L1 term's
        constant gradient); ~0 at the estimator's optimum."""
        g = self.gradient(backend=backend)
        return g if self.l1_gradient is None else g + self.l1_gradient

    def hessian(self, kind="observed", backend=None, B=None):
        """Total Hessian (P, P): sum_i Xt_i' B_i Xt_i + diag(pen).

        ``B`` may pass precomputed per-row blocks (``eta_hessian(kind)``).
        """
        be = get_backend(backend)
        if B is None:
            B = self.eta_hessian(kind, backend=backend)
        K, q = self.n_outputs, self.p_
        H = np.empty((K * q, K * q))
        eta = self.linear_predictor(backend=backend)
        fuse = K == 1 and (self._data_gradient is None or self._data_gradient[0] is not eta)
        for k in range(K):
            for ell in range(k, K):
                if fuse:
                    # the data gradient (the fit check's) rides on the Gram's pass
                    blk, data = be.weighted_gram_rmatmul(
                        self.X, B[:, 0, 0], self.eta_gradient(backend=backend),
                        self.fit_intercept)
                    self._data_gradient = (eta, np.asarray(data).reshape(q, 1))
                else:
                    blk = be.weighted_gram(self.X, B[:, k, ell], self.fit_intercept)
                H[k * q:(k + 1) * q, ell * q:(ell + 1) * q] = blk
                if ell != k:
                    H[ell * q:(ell + 1) * q, k * q:(k + 1) * q] = blk.T
        H[np.diag_indices_from(H)] += self.pen
        return H

    def null_space(self):
        """Orthonormal basis (P, r) of the Hessian's known null space (or None).

        For shift-invariant losses (multinomial) every unpenalized coordinate j
        gives the direction 1_K (x) e_j: adding a constant to that parameter in
        every class changes no prediction.
        """
        if not self.loss.shift_invariant:
            return None
        K, q = self.n_outputs, self.p_
        pen = self.pen.reshape(K, q)
        free = [j for j in range(q) if np.all(pen[:, j] == 0)]
        if not free:
            return None
        N = np.zeros((K * q, len(free)))
        for c, j in enumerate(free):
            N[j::q, c] = 1.0 / np.sqrt(K)
        return N

    def __repr__(self):
        return (
            f"LinearObjective(loss={self.loss!r}, n_samples={self.n_samples}, "
            f"n_features={self.n_features}, fit_intercept={self.fit_intercept}, "
            f"penalized={self.is_penalized})"
        )
