"""Influence functions (Koh & Liang, ICML 2017) on test losses and inputs.

With the minimized objective in normalized form ``L(theta) = sum_j s_j l_j +
1/2 theta' diag(pen) theta`` (see :mod:`skinfluence._model._objective`), H its
Hessian (observed; plus ``damping``), ``grad l`` per-sample gradients with unit
weight and ``g_i = s_i dl_i/deta`` (the weighted eta-gradients):

* ``up_params``   I_up,params(z_i) = -H^-1 grad l_i                 (n, P)
* ``up_loss``     I_up,loss(z_i, z) = -grad l(z)' H^-1 grad l_i       (n_test, n)
* ``param_change`` removing row i:  theta_(-i) - theta ~= H^-1 r_i,
  r_i = s_i grad l_i + share_i pen*theta  (share_i: the row's part of a
  mean-form penalty, Poisson/Gamma/Tweedie; 0 for sum-form objectives)
* ``loss_change`` l(z; theta_(-i)) - l(z; theta) ~= grad l(z)' H^-1 r_i: positive
  means that removing row i raises that test loss. ``method="newton"`` uses the
  leave-one-out Hessian (the 1/(1 - h_i) factor of GLMs, a K x K Woodbury update
  for multinomial) through the engine's ``loo_v``.
* ``pert_loss``   d l(z; theta_hat) / d x_i = -grad l(z)' H^-1 s_i d_x grad_theta l_i
  (n_test, n, p): how moving the features of row i moves the test loss.
* ``self_influence`` s_i^2 grad l_i' H^-1 grad l_i >= 0 (Koh & Liang's mislabel
  triage ranks by it; = -s_i^2 I_up,loss(z_i, z_i)).
* groups: the sum of individual effects ``H^-1 sum_G r_i``, or one Newton step
  with the Hessian of the objective without the group.
* replacement (Lee et al., data augmentation): swapping z_i for z~_i changes a
  validation loss by about -grad L_val' H^-1 s_i (grad l(z~_i) - grad l(z_i)).

Everything is computed as matrices: the test gradients are solved for once
(``H^-1`` applied to n_test vectors by the configured solver) and contracted with
all training rows in one chunked pass over X.
"""

import copy
import warnings
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from ._engine import CholeskyFactor
from ._solvers import CGSolver, HessianOperator
from .utils._chunks import iter_row_chunks as _row_chunks

_METHODS = ("influence", "newton")


def _check_reduce(reduce):
    if reduce not in (None, "mean"):
        raise ValueError(f"reduce must be None or 'mean'; got {reduce!r}.")


def _check_method(method):
    if method not in _METHODS:
        raise ValueError(f"method must be 'influence' or 'newton'; got {method!r}.")


def _row_indices(rows, n, name="rows"):
    """Positions from an int index array or a boolean mask; validated, unique."""
    idx = np.asarray(rows)
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise ValueError(f"A boolean {name} mask must have shape ({n},); got {idx.shape}.")
        idx = np.flatnonzero(idx)
    else:
        idx = np.atleast_1d(idx)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise ValueError(f"{name} must be a 1-d array of row positions or a boolean mask.")
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise ValueError(f"{name} contains positions outside [0, {n}).")
        idx = np.unique(np.where(idx < 0, idx + n, idx))
    if idx.size == 0:
        raise ValueError(f"{name} selects no row.")
    return idx


def gradient_vectors(objective, X, G, backend=None):
    """Dense (P, m): column t is Xt_t' G_t, the parameter gradient of row t of X."""
    obj = objective
    K, q, m = obj.n_outputs, obj.p_, X.shape[0]
    out = np.empty((K, q, m))
    if sp.issparse(X):
        Xd = X.toarray()
    elif backend is not None:  # the (P, m) result lives on the host anyway
        Xd = backend.to_numpy(X)
    else:
        Xd = np.asarray(X)
    for k in range(K):
        if obj.fit_intercept:
            out[k, 0] = G[:, k]
            out[k, 1:] = (Xd * G[:, k, None]).T
        else:
            out[k] = (Xd * G[:, k, None]).T
    return out.reshape(K * q, m)


class InfluenceFunctionsMixin:
    """Influence functions of :class:`skinfluence.Influence` (see the module docstring).

    Needs ``self.objective``, ``self.engine`` and ``self.solver`` (set by
    ``Influence``), and optionally ``self._encode_test(X, y) -> (X, y_encoded)``
    that transforms test data as the training data were (pipelines, labels).
    """

    # -- plumbing ------------------------------------------------------------------
    def ihvp(self, V):
        """(H + damping I)^-1 V with the configured solver; V of shape (P,) or (P, m).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_diabetes
        >>> from skinfluence.linear_model import Ridge
        >>> X, y = load_diabetes(return_X_y=True)
        >>> inf = Ridge().fit(X, y).influence(solver="cg")
        >>> u = inf.ihvp(np.ones(11))
        >>> bool(np.allclose(inf.objective.hessian("observed") @ u, 1.0))
        True
        """
        return self.solver.solve(V)

    def _encoder(self):
        enc = getattr(self, "_encode_test", None)
        if enc is None:
            raise ValueError(
                "This Influence was built from an objective by hand and has no encoder "
                "for new data; obtain it from skinfluence.influence(estimator, X, y) "
                "(the front door validates and transforms test data like the training "
                "data)."
            )
        return enc

    def _prepare_test(self, X, y, names=("X_test", "y_test")):
        return self._encoder()(X, y, names=names)

    @property
    def _backend(self):
        return self.engine.backend

    def _unit_eta_gradient(self):
        """dl_i/deta (n, K) at the training rows, unit weights."""
        obj = self.objective
        eta = obj.linear_predictor(backend=self._backend)
        return obj._as_2d(obj.loss.gradient(obj.y, obj._as_loss_input(eta)))

    def _gradient_vectors(self, X, G):
        """Dense (P, m): column t is Xt_t' G_t, the parameter gradient of row t."""
        return gradient_vectors(self.objective, X, G, self._backend)

    def _summed_gradient(self, X, G):
        """(P,): sum_t Xt_t' G_t, one pass."""
        obj = self.objective
        S = self._backend.design_rmatmul(X, G, obj.fit_intercept)  # (q, K)
        return S.T.ravel()

    def _test_solution(self, X_test, y_test, mean=False, names=("X_test", "y_test")):
        """(X, y, Gtest (m, K), U = H^-1 grad l_test (P, m or 1))."""
        X, y = self._prepare_test(X_test, y_test, names)
        obj = self.objective
        G = obj.eta_gradient(X, y, backend=self._backend)
        if mean:
            V = self._summed_gradient(X, G / X.shape[0])[:, None]
        else:
            V = self._gradient_vectors(X, G)
        return X, y, G, self.ihvp(V)

    def _contract_rows(self, U, coef, share=None):
        """(m, n): out[t, i] = sum_k coef[i, k] Xt_i U_k[:, t] + share_i pg . U[:, t].

        One chunked pass over the training X for all m columns of U.
        """
        obj, be = self.objective, self._backend
        K, q, m = obj.n_outputs, obj.p_, U.shape[1]
        Uq = U.reshape(K, q, m).transpose(1, 0, 2).reshape(q, K * m)
        if be.lazy:  # one lazy expression over all rows (a dask array), no chunk loop
            T = be.design_matmul(obj.X, Uq, obj.fit_intercept).reshape(-1, K, m)
            out = np.einsum("ik,ikm->mi", coef, T)
            if share is not None:
                out = out + (obj.penalty_gradient() @ U)[:, None] * share[None, :]
            return out
        out = np.empty((m, obj.n_samples))
        for start, stop, Xc in _row_chunks(obj.X, 2 * K * m):
            T = be.design_matmul(Xc, Uq, obj.fit_intercept).reshape(-1, K, m)
            out[:, start:stop] = np.einsum("ik,ikm->mi", coef[start:stop], T)
        if share is not None:
            out += np.outer(obj.penalty_gradient() @ U, share)
        return out

    @property
    def _share(self):
        obj = self.objective
        return obj.share if (obj.share is not None and obj.is_penalized) else None

    def _solve_rows(self, coef, share=None):
        """(n, P): row i is H^-1 (Xt_i' coef_i + share_i pen*theta)."""
        obj = self.objective
        n, P = obj.n_samples, obj.n_params
        if self.solver.name == "direct":
            out = self.engine.row_solve(coef, "observed")
            if share is not None:
                out += np.outer(share, self.ihvp(obj.penalty_gradient()))
            return out
        out = np.empty((n, P))
        pg = obj.penalty_gradient()
        Hinv = self._iterative_inverse()
        for start, stop, Xc in _row_chunks(obj.X, 4 * P):
            V = self._gradient_vectors(Xc, coef[start:stop])
            if share is not None:
                V += pg[:, None] * share[None, start:stop]
            out[start:stop] = (self.ihvp(V) if Hinv is None else Hinv @ V).T
        return out

    def _iterative_inverse(self):
        """H^-1 from the iterative solver applied once to the P basis vectors, or None.

        Per-row quantities (``up_params``, ``param_change``, ``self_influence``)
        need H^-1 on the span of the n row gradients. Solving for them chunk by
        chunk costs n right-hand sides (a pass over X per iteration for each
        chunk: quadratic in n); when P <= n K the P basis vectors span the same
        space, so one solve with P right-hand sides serves every row and the
        cost is linear in n. Used while the P x P result fits the dense budget
        (:func:`skinfluence._strategy.dense_budget_bytes`).
        """
        if self.solver.name == "direct":
            return None
        if "_hinv_iterative" not in self.__dict__:
            from ._strategy import dense_budget_bytes

            obj = self.objective
            P = obj.n_params
            fits = 3 * 8 * P * P <= dense_budget_bytes()
            Hinv = None
            if fits and P <= obj.n_samples * obj.n_outputs:
                Hinv = self.ihvp(np.eye(P))
                Hinv = 0.5 * (Hinv + Hinv.T)
            self.__dict__["_hinv_iterative"] = Hinv
        return self.__dict__["_hinv_iterative"]

    def _require_direct(self, what):
        if self.solver.name != "direct":
            raise ValueError(
                f"{what} with method='newton' needs the per-row leave-one-out Hessian, "
                f"which only the direct solver provides; this Influence uses "
                f"solver={self.solver.name!r}. Use solver='direct' or method='influence'."
            )

    # -- per-training-row quantities -------------------------------------------------
    @cached_property
    def up_params(self):
        """I_up,params: -H^-1 grad l(z_i), shape (n_samples, n_params).

        The derivative of the fitted parameters with respect to an extra weight
        on training row i (Koh & Liang's upweighting), columns as ``param_names``.

        Examples
        --------
        >>> from sklearn.datasets import load_diabetes
        >>> from skinfluence.linear_model import Ridge
        >>> X, y = load_diabetes(return_X_y=True)
        >>> Ridge().fit(X, y).influence().up_params.shape
        (442, 11)
        """
        return -self._solve_rows(self._unit_eta_gradient())

    def param_change(self, method="influence"):
        """Predicted theta_(-i) - theta for removing each training row, (n, n_params).

        Parameters
        ----------
        method : {"influence", "newton"}, default="influence"
            ``"influence"``: H^-1 r_i (the influence function);
            ``"newton"``: one Newton step with the leave-one-out Hessian
            (equals ``-dfbeta`` computed with the observed Hessian; direct solver).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_diabetes
        >>> from skinfluence.linear_model import Ridge
        >>> X, y = load_diabetes(return_X_y=True)
        >>> inf = Ridge(alpha=0.1).fit(X, y).influence()
        >>> bool(np.allclose(inf.param_change("newton"), -inf.dfbeta))   # exact for Ridge
        True
        """
        _check_method(method)
        if method == "newton":
            self._require_direct("param_change")
            return self.engine.loo_param_change("observed")
        return self._solve_rows(self.engine.g(), self._share)

    @cached_property
    def self_influence(self):
        """s_i^2 grad l_i' H^-1 grad l_i, shape (n_samples,), non-negative.

        The first-order rise of row i's own weighted training loss when it is
        removed (= -s_i^2 I_up,loss(z_i, z_i)); large values flag rows the model
        can only fit by bending to them, e.g. mislabeled rows (Koh & Liang, Fig. 6).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_breast_cancer
        >>> from sklearn.preprocessing import scale
        >>> from skinfluence.linear_model import LogisticRegression
        >>> X, y = load_breast_cancer(return_X_y=True)
        >>> y[:5] = 1 - y[:5]                                 # flip five labels
        >>> inf = LogisticRegression().fit(scale(X), y).influence()
        >>> top = set(np.argsort(-inf.self_influence)[:20].tolist())
        >>> len(top & {0, 1, 2, 3, 4}) >= 4
        True
        """
        g = self.engine.g()
        if self.solver.name == "direct":
            C = self.engine.C("observed")
            return np.einsum("ik,ikl,il->i", g, C, g)
        obj = self.objective
        out = np.empty(obj.n_samples)
        Hinv = self._iterative_inverse()
        for start, stop, Xc in _row_chunks(obj.X, 4 * obj.n_params):
            V = self._gradient_vectors(Xc, g[start:stop])
            out[start:stop] = np.einsum("ij,ij->j", V, self.ihvp(V) if Hinv is None else Hinv @ V)
        return out

    # -- test losses -------------------------------------------------------------------
    def loss_change(self, X_test, y_test, method="influence", reduce=None):
        """Predicted l(z_test; theta_(-i)) - l(z_test; theta_hat), shape (n_test, n_samples).

        Positive: removing training row i *raises* that test point's loss (row i
        helps it); negative: removing row i would lower it (row i hurts it). The
        loss is the per-sample loss of the fitted model with unit weight
        (log loss for logistic models, half deviance for GLMs, half squared error).

        Parameters
        ----------
        X_test : array-like or CSR matrix of shape (n_test, n_features)
            Goes through the same transforms as the training data (pipelines).
        y_test : array-like of shape (n_test,)
            Labels as the estimator knows them.
        method : {"influence", "newton"}, default="influence"
            ``"newton"``: one Newton step with the leave-one-out Hessian
            (closer to actual retraining; direct solver only).
        reduce : {None, "mean"}, default=None
            ``"mean"``: the change of the *mean* test loss, shape (n_samples,),
            from a single solve (no n_test x n_samples matrix): what a
            validation-set score needs.

        Examples
        --------
        >>> from sklearn.datasets import load_breast_cancer
        >>> from sklearn.preprocessing import scale
        >>> from skinfluence.linear_model import LogisticRegression
        >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
        >>> inf = LogisticRegression().fit(X[:400], y[:400]).influence()
        >>> inf.loss_change(X[400:], y[400:]).shape
        (169, 400)
        >>> inf.loss_change(X[400:], y[400:], reduce="mean").shape
        (400,)
        """
        return self._loss_change(X_test, y_test, method, reduce)

    def _loss_change(self, X_test, y_test, method="influence", reduce=None,
                     names=("X_test", "y_test")):
        """loss_change, with the names callers' errors should use (e.g. X_val)."""
        _check_method(method)
        _check_reduce(reduce)
        _, _, _, U = self._test_solution(X_test, y_test, mean=reduce == "mean", names=names)
        if method == "newton":
            self._require_direct("loss_change")
            coef = self.engine.loo_v("observed")
        else:
            coef = self.engine.g()
        out = self._contract_rows(U, coef, self._share)
        return out[0] if reduce == "mean" else out

    def up_loss(self, X_test, y_test):
        """I_up,loss(z_i, z_test) = -grad l(z_test)' H^-1 grad l(z_i), (n_test, n_samples).

        The derivative of each test loss with respect to an extra unit weight on
        training row i (Koh & Liang's definition; no sample weight, no penalty
        share). For sum-form objectives with unit weights,
        ``loss_change == -up_loss``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_breast_cancer
        >>> from sklearn.preprocessing import scale
        >>> from skinfluence.linear_model import LogisticRegression
        >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
        >>> inf = LogisticRegression().fit(X[:400], y[:400]).influence()
        >>> bool(np.allclose(inf.up_loss(X[400:], y[400:]), -inf.loss_change(X[400:], y[400:])))
        True
        """
        _, _, _, U = self._test_solution(X_test, y_test)
        return -self._contract_rows(U, self._unit_eta_gradient())

    def pert_loss(self, X_test, y_test, reduce=None, mean=None):
        """I_pert,loss: gradient of test losses with respect to each training row's features.

        ``out[t, i, j]`` = d l(z_test_t; theta_hat) / d x_ij: how the fitted
        model's loss on test point t moves when feature j of training row i is
        moved (the model refitted), to first order:
        -grad l(z_t)' H^-1 s_i d/dx_i grad_theta l(z_i). With unit sample weights
        this is Koh & Liang's I_pert,loss.

        Parameters
        ----------
        X_test, y_test : test data
        reduce : {None, "mean"}, default=None
            ``"mean"``: differentiate the mean loss over the test set instead;
            returns shape (n_samples, n_features) (as ``loss_change``).
        mean : bool, default=None
            Deprecated spelling of ``reduce="mean"``.

        Returns
        -------
        ndarray of shape (n_test, n_samples, n_features), or (n_samples, n_features)

        Examples
        --------
        >>> from sklearn.datasets import load_breast_cancer
        >>> from sklearn.preprocessing import scale
        >>> from skinfluence.linear_model import LogisticRegression
        >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
        >>> inf = LogisticRegression().fit(X[:400], y[:400]).influence()
        >>> inf.pert_loss(X[400:403], y[400:403]).shape
        (3, 400, 30)
        >>> inf.pert_loss(X[400:], y[400:], reduce="mean").shape
        (400, 30)
        """
        if mean is not None:
            warnings.warn("pert_loss(mean=True) is deprecated; use reduce='mean'.",
                          FutureWarning, stacklevel=2)
            reduce = "mean" if mean else None
        _check_reduce(reduce)
        mean = reduce == "mean"
        _, _, _, U = self._test_solution(X_test, y_test, mean=mean)
        obj, be = self.objective, self._backend
        K, q, m, p = obj.n_outputs, obj.p_, U.shape[1], obj.n_features
        g = self.engine.g()                      # s_i dl/deta   (n, K)
        B = self.engine.B("observed")            # s_i d2l/deta2 (n, K, K)
        W = obj.theta_matrix[obj.fit_intercept:].T  # coef (K, p)
        Uk = U.reshape(K, q, m)
        Uw = Uk[:, obj.fit_intercept:, :]        # coefficient part (K, p, m)
        Uq = Uk.transpose(1, 0, 2).reshape(q, K * m)
        out = np.empty((m, obj.n_samples, p))
        for start, stop, Xc in _row_chunks(obj.X, 2 * K * m + m * p):
            T = be.design_matmul(Xc, Uq, obj.fit_intercept).reshape(-1, K, m)
            c = np.einsum("ikm,ikl->mil", T, B[start:stop])          # (m, rows, K)
            out[:, start:stop] = np.einsum("ik,kjm->mij", g[start:stop], Uw) + c @ W
        out = -out
        return out[0] if mean else out

    # -- groups and replacements -------------------------------------------------------------
    def group_param_change(self, rows, method="influence"):
        """Predicted theta_(-G) - theta for removing the rows ``rows`` together, (n_params,).

        Parameters
        ----------
        rows : array-like of int or bool mask
        method : {"influence", "newton"}, default="influence"
            ``"influence"``: the sum of the rows' individual influence-function
            effects, H^-1 sum_G r_i; ``"newton"``: one Newton step with the
            Hessian of the objective without the group (Koh et al. 2019).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_diabetes
        >>> from skinfluence.linear_model import Ridge
        >>> X, y = load_diabetes(return_X_y=True)
        >>> inf = Ridge(alpha=0.1).fit(X, y).influence()
        >>> d = inf.group_param_change([0, 1, 2], method="newton")     # exact for Ridge
        >>> from sklearn.linear_model import Ridge as SkRidge
        >>> refit = SkRidge(alpha=0.1).fit(X[3:], y[3:])
        >>> bool(np.allclose(d[1:], refit.coef_ - inf.objective.theta[1:]))
        True
        """
        _check_method(method)
        obj = self.objective
        idx = _row_indices(rows, obj.n_samples)
        g = self.engine.g()
        r = self._summed_gradient(obj.X[idx], g[idx])
        share = self._share
        if share is not None:
            r = r + share[idx].sum() * obj.penalty_gradient()
        if method == "influence":
            return self.ihvp(r)
        return self._group_newton_solve(idx, r)

    def _group_newton_solve(self, idx, r):
        obj, eng = self.objective, self.engine
        share = self._share
        if self.solver.name == "direct" and eng.strategy == "primal":
            sub = copy.copy(obj)
            sub.X, sub.y = obj.X[idx], obj.y[idx]
            sub.sample_weight = obj.sample_weight[idx]
            sub.pen = np.zeros_like(obj.pen)
            sub.share, sub._eta, sub._derivs = None, None, None
            H = eng.hessian("observed") - sub.hessian("observed", backend=eng.backend)
            if share is not None:
                H[np.diag_indices_from(H)] -= share[idx].sum() * obj.pen
            factor = CholeskyFactor(
                H, backend=eng.backend, null_space=obj.null_space(), damping=eng.damping,
                param_names=obj.param_names,
            )
            return factor.solve(r[:, None])[:, 0]
        op = HessianOperator(obj, eng.backend, eng.B("observed"), damping=eng.damping,
                             exclude=idx)
        tol = getattr(self.solver, "tol", 1e-10)
        return CGSolver(op, tol=tol).solve(r)

    def group_loss_change(self, rows, X_test, y_test, method="influence"):
        """Predicted change of each test loss when the rows ``rows`` are removed together.

        ``grad l(z_test)' group_param_change(rows, method)``, shape (n_test,);
        with ``method="influence"`` it equals the sum of the rows' columns of
        :meth:`loss_change`.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_breast_cancer
        >>> from sklearn.preprocessing import scale
        >>> from skinfluence.linear_model import LogisticRegression
        >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
        >>> inf = LogisticRegression().fit(X[:400], y[:400]).influence()
        >>> lc = inf.loss_change(X[400:], y[400:])
        >>> bool(np.allclose(inf.group_loss_change([3, 5], X[400:], y[400:]), lc[:, [3, 5]].sum(1)))
        True
        """
        X, y = self._prepare_test(X_test, y_test)
        obj = self.objective
        G = obj.eta_gradient(X, y, backend=self._backend)
        d = self.group_param_change(rows, method=method)
        return self._gradient_vectors(X, G).T @ d

    def replacement_loss_change(self, rows, X_new, y_new, X_val, y_val, reduce="mean"):
        """Predicted change of a validation loss when rows are replaced by modified copies.

        For each j, training row ``rows[j]`` is swapped for the new row
        ``(X_new[j], y_new[j])`` (same sample weight), e.g. an augmented copy (Lee et
        al., 2020). First order: -grad L_val' H^-1 s_i (grad l(z~_j) - grad l(z_i)).

        Parameters
        ----------
        rows : array-like of int, shape (m,)
            Positions of the training rows to replace (repeats allowed).
        X_new : array-like of shape (m, n_features)
        y_new : array-like of shape (m,) or None
            None keeps each row's own label.
        X_val, y_val : validation data
        reduce : {"mean", "sum"}, default="mean"
            L_val is the mean (or sum) of the validation losses.

        Returns
        -------
        ndarray of shape (m,); negative: the replacement lowers the validation loss.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_breast_cancer
        >>> from sklearn.preprocessing import scale
        >>> from skinfluence.linear_model import LogisticRegression
        >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
        >>> inf = LogisticRegression().fit(X[:400], y[:400]).influence()
        >>> noisy = X[:5] + 0.1
        >>> inf.replacement_loss_change(np.arange(5), noisy, None, X[400:], y[400:]).shape
        (5,)
        """
        if reduce not in ("mean", "sum"):
            raise ValueError(f"reduce must be 'mean' or 'sum'; got {reduce!r}.")
        obj = self.objective
        idx = np.atleast_1d(np.asarray(rows))
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise ValueError("rows must be a 1-d array of row positions.")
        if idx.size and (idx.min() < -obj.n_samples or idx.max() >= obj.n_samples):
            raise ValueError(f"rows contains positions outside [0, {obj.n_samples}).")
        if y_new is None:
            Xn = self._encoder().design(X_new, "X_new")
            yn = obj.y[idx]
        else:
            Xn, yn = self._prepare_test(X_new, y_new, ("X_new", "y_new"))
        if Xn.shape[0] != idx.size:
            raise ValueError(f"X_new has {Xn.shape[0]} rows but rows names {idx.size}.")
        Xv, yv = self._prepare_test(X_val, y_val, ("X_val", "y_val"))
        Gv = obj.eta_gradient(Xv, yv, backend=self._backend)
        if reduce == "mean":
            Gv = Gv / Xv.shape[0]
        u = self.ihvp(self._summed_gradient(Xv, Gv))
        be = self._backend
        K, q = obj.n_outputs, obj.p_
        Uq = u.reshape(K, q).T
        G_new = obj.eta_gradient(Xn, yn, backend=be)
        G_old = self._unit_eta_gradient()[idx]
        t_new = np.einsum("ik,ik->i", G_new, be.design_matmul(Xn, Uq, obj.fit_intercept))
        t_old = np.einsum("ik,ik->i", G_old,
                          be.design_matmul(obj.X[idx], Uq, obj.fit_intercept))
        return -obj.sample_weight[idx] * (t_new - t_old)
