"""The object returned by ``.influence()``: lazy, cached regression diagnostics.

Definitions (unpenalized fits equal R's ``lm``/``glm``; see docs/definitions.md):

* weights: w_i = s_i (dmu/deta)^2 / V(mu_i) (IRLS); H = Xt' W Xt + diag(pen)
* ``leverage``  h_i = w_i xt_i' H^-1 xt_i                     (R ``hatvalues``)
* ``pearson_residuals``  sqrt(s_i) (y_i - mu_i) / sqrt(V(mu_i))
* ``deviance_residuals`` sign(y_i - mu_i) sqrt(s_i d(y_i, mu_i))
* ``dispersion`` phi: 1 (binomial, Poisson) or Pearson chi^2 / (n - p)
* ``studentized_residuals`` r_D / sqrt(phi (1 - h))            (R ``rstandard``)
* ``sigma_loo`` sqrt((sum r_D^2 - r_D,i^2 / (1 - h_i)) / (n - p - 1))  (R lm.influence $sigma)
* ``studentized_residuals_external`` sign(r_D) sqrt(r_D^2 + h r_P^2/(1 - h)),
  divided by sigma_loo unless phi is fixed                      (R ``rstudent``)
* ``dfbeta`` theta - theta_(-i): exact for least squares, one-step Newton with the
  leave-one-out Hessian (Sherman-Morrison 1/(1 - h) factor) for GLMs (SAS, statsmodels)
* ``dfbetas`` least squares: dfbeta / (sigma_loo sqrt(diag H^-1)) (R);
  GLMs: dfbeta / sqrt(phi diag H^-1) (SAS PROC LOGISTIC, statsmodels)
* ``cooks_distance`` dfbeta' H dfbeta / (p phi) = r_P^2 h / (phi p (1 - h)^2) (R)
* ``dffits`` r_D sqrt(h) / (sigma_loo (1 - h)); ``cov_ratio`` (sigma_loo / s)^(2p) / (1 - h)
* ``influential`` R's ``influence.measures`` rules.

p is the number of (identifiable) parameters; for penalized fits it is the
effective degrees of freedom sum(h_i), and H includes the penalty.
"""

import warnings
from functools import cached_property

import numpy as np
from scipy import stats

from ._attribution import feature_attribution as _feature_attribution
from ._alo import alo_score as _alo_score
from ._engine import InfluenceEngine
from ._functions import InfluenceFunctionsMixin
from ._randomized import use_sketched_leverage
from ._solvers import make_solver
from ._strategy import StrategyWarning
from .utils._chunks import iter_row_chunks, top_indices


def _require(cond, what):
    # AttributeError (not NotImplementedError): hasattr() then says False, as for
    # scikit-learn's available_if
    if not cond:
        raise AttributeError(what)


# -- formulas shared with the influence sketch (each lives once) ---------------------
def cooks_distance_formula(resid2, leverage, n_params, dispersion):
    """D_i = r_i^2 h_i / (phi p (1 - h_i)^2), r_i the (weighted) Pearson residual."""
    return resid2 * leverage / (n_params * dispersion * (1.0 - leverage) ** 2)


def dispersion_formula(objective, pearson2, df_resid, lazy=False):
    """phi: 1 for fixed-dispersion losses, else Pearson chi^2 / (n - p).

    ``lazy=True`` (a lazy backend's per-row ``pearson2``) returns the lazy 0-d
    result instead of a float; a lazy ``df_resid`` is then not checked here.
    """
    if objective.loss.fixed_dispersion:
        return 1.0
    if isinstance(df_resid, (int, float, np.number)) and df_resid <= 0:
        raise ValueError(
            f"The residual degrees of freedom are {df_resid:g} (n - p): the dispersion "
            "cannot be estimated (a saturated fit)."
        )
    phi = np.sum(pearson2) / df_resid
    return phi if lazy else float(phi)


class Influence(InfluenceFunctionsMixin):
    """Influence diagnostics of a fitted linear model (lazy; computed on first access).

    Obtain it from ``estimator.influence()`` or :func:`skinfluence.influence`;
    every attribute is computed once, from one factorization of the Hessian,
    and cached.

    Parameters
    ----------
    objective : LinearObjective
        The objective the estimator minimized, bound to the data.
    backend : str or Backend, default=None
        Linear-algebra backend (default: ``get_config()["backend"]``).
    damping : float, default=0.0
        Added to the Hessian's diagonal (regularizes a singular Hessian).
    index : pandas.Index, default=None
        Row labels used by :meth:`summary_frame`.
    solver : {"auto", "direct", "cg", "lissa"}, default="auto"
        Inverse-Hessian-vector products for the influence functions.
    leverage_method : {"exact", "sketch"}, default="exact"
        ``"sketch"``: leverage (and everything computed from it: Cook's
        distance, studentized residuals, DFFITS, COVRATIO, flags) from the
        randomized leverage of :func:`skinfluence.sketch.use_sketched_leverage`
        (relative-error QR sketch, or the unbiased JL + CG estimate beyond the
        memory guard); ``dfbeta`` keeps the exact H^-1 but its 1/(1 - h)
        factor uses the sketched h.
    leverage_options : dict, default=None
        Options of :func:`skinfluence.sketch.use_sketched_leverage`
        (``algorithm``, ``eps``, ``k``, ``random_state``, ...).
    solver : {"auto", "direct", "cg", "lissa"}, default="auto"
        Inverse-Hessian-vector-product solver of the influence functions
        (``loss_change``, ``up_loss``, ``pert_loss``, ...): the cached Cholesky
        factor, conjugate gradients on Hessian-vector products, or LiSSA;
        ``"auto"`` picks direct up to 4,000 parameters, CG beyond.
    encode_test : callable, default=None
        ``encode_test(X, y) -> (X, y)``: validates test data and brings it to
        the training data's form (pipeline transforms, label encoding).
    **solver_options
        Passed to the solver (CG: ``tol``, ``max_iter``, ``preconditioner``;
        LiSSA: ``scale``, ``depth``, ``n_samples``, ``batch_size``,
        ``random_state``).

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.linear_model import LinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 2)); y = X @ [1.0, -2.0] + rng.normal(size=50)
    >>> y[7] += 10                                   # an outlier
    >>> inf = LinearRegression().fit(X, y).influence()
    >>> int(np.argmax(inf.cooks_distance))
    7
    """

    def __init__(self, objective, backend=None, damping=0.0, index=None, solver="auto",
                 encode_test=None, leverage_method="exact", leverage_options=None,
                 **solver_options):
        if leverage_method not in ("exact", "sketch"):
            raise ValueError(
                f"leverage_method must be 'exact' or 'sketch'; got {leverage_method!r}."
            )
        self.objective = objective
        self.engine = InfluenceEngine(objective, backend=backend, damping=damping)
        self.index = index
        self._encode_test = encode_test
        self.leverage_method = leverage_method
        #: outcome of the front door's fit check (skinfluence._frontdoor.FitCheck)
        self.fit_check = None
        with warnings.catch_warnings():
            if leverage_method == "sketch":
                # the memory guard's StrategyWarning recommends exactly this path; a
                # quantity that still needs the factor (dfbeta) raises and says so
                warnings.simplefilter("ignore", StrategyWarning)
            self.solver = make_solver(self.engine, solver, **solver_options)
            if leverage_method == "sketch":
                use_sketched_leverage(self, **(leverage_options or {}))

    def __repr__(self):
        obj = self.objective
        return (
            f"<Influence: {type(obj.loss).__name__}, n_samples={obj.n_samples}, "
            f"n_params={obj.n_params}, penalized={obj.is_penalized}>"
        )

    # -- bookkeeping -------------------------------------------------------------
    @property
    def strategy(self):
        """How H^-1 is represented: ``"primal"`` (P x P Cholesky factor), ``"dual"``
        (n x n kernel form of wide designs) or ``"iterative"`` (matrix-free); chosen
        by ``influence(..., strategy="auto")``, reason in ``engine.strategy_reason``.

        Examples
        --------
        >>> from sklearn.datasets import load_diabetes
        >>> from skinfluence.linear_model import Ridge
        >>> X, y = load_diabetes(return_X_y=True)
        >>> Ridge().fit(X, y).influence().strategy
        'primal'
        """
        return self.engine.strategy

    @property
    def param_names(self):
        """Parameter labels in the order of ``dfbeta`` columns (intercept first)."""
        return list(self.objective.param_names)

    @property
    def _single(self):
        return self.objective.n_outputs == 1

    @property
    def _glm(self):
        return self._single and self.objective.loss.has_variance

    def _need_glm(self, name):
        _require(
            self._glm,
            f"{name} is defined for single-output exponential-family models (R's "
            f"lm/glm); {type(self.objective.loss).__name__} provides leverage, "
            "cooks_distance, dfbeta and dfbetas.",
        )

    @cached_property
    def n_params(self):
        """p: identifiable parameters, or effective degrees of freedom sum(h) if penalized."""
        obj = self.objective
        if obj.is_penalized or self.engine.damping:
            return float(self.leverage.sum())
        null = obj.null_space()
        return obj.n_params - (0 if null is None else null.shape[1])

    @cached_property
    def n_obs(self):
        """Rows with positive weight (R drops zero-weight rows from the df)."""
        return int(np.count_nonzero(self.objective.sample_weight > 0))

    @cached_property
    def df_resid(self):
        return self.n_obs - self.n_params

    # -- fitted values and residuals ----------------------------------------------
    @cached_property
    def fitted(self):
        """mu_i = inverse_link(eta_i) (class probabilities (n, K) for multinomial)."""
        obj = self.objective
        eta = obj.linear_predictor(backend=self.engine.backend)
        return obj.loss.mean(eta[:, 0] if self._single else eta)

    @cached_property
    def response_residuals(self):
        """y_i - mu_i."""
        self._need_glm("response_residuals")
        return self.objective.training_rows(self.engine.backend)[0] - self.fitted

    @cached_property
    def pearson_residuals(self):
        """sqrt(s_i) (y_i - mu_i) / sqrt(V(mu_i)) (R ``residuals(type="pearson")``)."""
        self._need_glm("pearson_residuals")
        obj = self.objective
        s = obj.training_rows(self.engine.backend)[1]
        return np.sqrt(s) * self.response_residuals / np.sqrt(obj.loss.variance(self.fitted))

    @cached_property
    def deviance_residuals(self):
        """sign(y_i - mu_i) sqrt(s_i d_i) (R ``residuals(type="deviance")``)."""
        self._need_glm("deviance_residuals")
        obj = self.objective
        s = obj.training_rows(self.engine.backend)[1]
        dev = 2.0 * s * obj.per_sample_loss(backend=self.engine.backend)
        return np.sign(self.response_residuals) * np.sqrt(np.maximum(dev, 0.0))

    @cached_property
    def dispersion(self):
        """phi: 1 for binomial/Poisson/multinomial, else Pearson chi^2 / (n - p)."""
        if self.objective.loss.fixed_dispersion or not self._glm:
            return 1.0
        return dispersion_formula(self.objective, self.pearson_residuals**2, self.df_resid)

    # -- leverage and deletion diagnostics ------------------------------------------
    @cached_property
    def leverage(self):
        """h_i, the diagonal of the (weighted, penalized) hat matrix; R ``hatvalues``."""
        return self.engine.leverage("fisher")

    @cached_property
    def studentized_residuals(self):
        """Internally studentized deviance residuals (R ``rstandard``)."""
        self._need_glm("studentized_residuals")
        return self.deviance_residuals / np.sqrt(self.dispersion * (1.0 - self.leverage))

    @cached_property
    def studentized_residuals_pearson(self):
        """Internally studentized Pearson residuals (R ``rstandard(type="pearson")``)."""
        self._need_glm("studentized_residuals_pearson")
        return self.pearson_residuals / np.sqrt(self.dispersion * (1.0 - self.leverage))

    @cached_property
    def sigma_loo(self):
        """sigma_(i): residual scale with row i deleted (R ``lm.influence()$sigma``)."""
        self._need_glm("sigma_loo")
        if self.df_resid <= 1.0:
            raise ValueError(
                f"The residual degrees of freedom n - p are {self.df_resid:.3g} (p = "
                f"{self.n_params:.4g}, the effective degrees of freedom of a penalized "
                "fit): with a row deleted none are left, so sigma_(i) and everything "
                "scaled by it (rstudent, DFFITS, COVRATIO, least-squares DFBETAS) are "
                "undefined. Use a stronger penalty or fewer features; leverage, Cook's "
                "distance and dfbeta are still available."
            )
        rd2 = self.deviance_residuals**2
        h = self.leverage
        num = rd2.sum() - rd2 / (1.0 - h)
        return np.sqrt(np.maximum(num, 0.0) / (self.df_resid - 1.0))

    @cached_property
    def studentized_residuals_external(self):
        """Externally studentized residuals (R ``rstudent``)."""
        self._need_glm("studentized_residuals_external")
        rd, rp, h = self.deviance_residuals, self.pearson_residuals, self.leverage
        r = np.sign(rd) * np.sqrt(rd**2 + h * rp**2 / (1.0 - h))
        if self.objective.loss.fixed_dispersion:
            return r
        return r / self.sigma_loo

    @cached_property
    def cooks_distance(self):
        """Cook's distance (R ``cooks.distance``): dfbeta' H dfbeta / (p phi)."""
        return self.engine.loo_param_norm("fisher") / (self.n_params * self.dispersion)

    @cached_property
    def dfbeta(self):
        """theta - theta_(-i), shape (n, n_params), columns as ``param_names``."""
        out = self.engine.loo_param_change("fisher")
        return np.negative(out, out=out) if isinstance(out, np.ndarray) else -out

    @cached_property
    def _inverse_diag(self):
        return self.engine.factor("fisher").inverse_diag()

    @cached_property
    def dfbetas(self):
        """Scaled dfbeta (R for least squares; SAS/statsmodels for GLMs)."""
        return self._scale_dfbeta(self.dfbeta)

    def _scale_dfbeta(self, dfbeta, out=None):
        """DFBETAS from dfbeta (into ``out`` when given: no other (n, P) array)."""
        se = np.sqrt(self._inverse_diag)
        if self._single and self.objective.loss.is_least_squares:
            rows = 1.0 / self.sigma_loo
            cols = 1.0 / se
        else:
            rows = None
            cols = 1.0 / (np.sqrt(self.dispersion) * se)
        if out is None:
            return dfbeta * cols[None, :] * (1.0 if rows is None else rows[:, None])
        np.multiply(dfbeta, cols[None, :], out=out)
        if rows is not None:
            out *= rows[:, None]
        return out

    @cached_property
    def dffits(self):
        """DFFITS (R ``dffits``): r_D sqrt(h) / (sigma_loo (1 - h))."""
        self._need_glm("dffits")
        h = self.leverage
        return self.deviance_residuals * np.sqrt(h) / (self.sigma_loo * (1.0 - h))

    @cached_property
    def cov_ratio(self):
        """COVRATIO (R ``covratio``): (sigma_loo / s)^(2p) / (1 - h)."""
        self._need_glm("cov_ratio")
        s = np.sqrt(np.sum(self.deviance_residuals**2) / self.df_resid)
        return (self.sigma_loo / s) ** (2 * self.n_params) / (1.0 - self.leverage)

    @cached_property
    def influential(self):
        """R's ``influence.measures()$is.inf``: bool array (n, n_params + 4).

        Columns: |dfbetas| > 1 per parameter, |dffits| > 3 sqrt(p/(n-p)),
        |1 - cov_ratio| > 3p/(n-p), F_{p, n-p}(cooks) > 0.5, h > 3p/n, with n the
        number of rows with h > 0. ``influential.any(axis=1)`` flags a row.
        """
        self._need_glm("influential")
        return np.hstack([np.abs(self.dfbetas) > 1] + [c[:, None] for c in self._row_flags()])

    def _row_flags(self):
        """R's flags other than DFBETAS: |dffits|, |1 - cov_ratio|, Cook's, hat."""
        h = self.leverage
        k = self.n_params
        n = int(np.count_nonzero(h > 0))
        with np.errstate(invalid="ignore"):
            return [
                np.abs(self.dffits) > 3 * np.sqrt(k / (n - k)),
                np.abs(1 - self.cov_ratio) > 3 * k / (n - k),
                # F_{k, n-k}(cooks) > 0.5 as a comparison with the median (stays lazy)
                self.cooks_distance > stats.f.ppf(0.5, k, n - k),
                h > 3 * k / n,
            ]

    @property
    def influential_columns(self):
        """Column labels of :attr:`influential`."""
        return [f"dfb_{p}" for p in self.param_names] + ["dffits", "cov_ratio", "cooks_d", "hat_diag"]

    # -- leave-one-out predictions -------------------------------------------------
    def loo_decision_function(self):
        """Each row's linear predictor with that row left out of the fit.

        eta_(-i),i = eta_i + xt_i' (theta_(-i) - theta), from the one cached
        factor (no refit, nothing of size n x n): exact for least squares and
        Ridge (the PRESS identity), one Newton step with the leave-one-out
        Hessian for GLMs and the SVM (the approximate leave-one-out predictor of
        Rad & Maleki 2020).

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            As the estimator's ``decision_function`` (regressors: ``predict`` on
            the linear-predictor scale): one column per class for multinomial
            models.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LinearRegression
        >>> from skinfluence.linear_model import Ridge
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(30, 3)); y = X @ [1.0, 2.0, 3.0] + rng.normal(size=30)
        >>> eta = Ridge(alpha=1.0).fit(X, y).influence().loo_decision_function()
        >>> refit = Ridge(alpha=1.0).fit(X[1:], y[1:]).predict(X[:1])
        >>> bool(np.isclose(eta[0], refit[0]))
        True
        """
        obj = self.objective
        eta = obj.linear_predictor(backend=self.engine.backend)
        out = eta + self.engine.loo_eta_change("observed")
        return out[:, 0] if self._single else out

    @cached_property
    def per_sample_loss(self):
        """Each training row's loss at the fitted parameters (unit weight), shape (n,).

        The loss the estimator minimized, per row: half squared error, log loss,
        half deviance, smoothed hinge.

        Examples
        --------
        >>> import numpy as np
        >>> from skinfluence.linear_model import LinearRegression
        >>> X = np.arange(7.0)[:, None]; y = np.array([0.0, 1.0, 2.0, 9.0, 4.0, 5.0, 6.0])
        >>> int(np.argmax(LinearRegression().fit(X, y).influence().per_sample_loss))
        3
        """
        obj = self.objective
        return obj.per_sample_loss(backend=self.engine.backend)

    def loo_per_sample_loss(self):
        """Each row's loss at the leave-one-out prediction eta_(-i),i, shape (n,).

        The leave-one-out (for GLMs: approximate leave-one-out) training loss; its
        mean is the ALO risk estimate (Rad & Maleki 2020).

        Examples
        --------
        >>> import numpy as np
        >>> from skinfluence.linear_model import LinearRegression
        >>> X = np.arange(6.0)[:, None]; y = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 9.0])
        >>> inf = LinearRegression().fit(X, y).influence()
        >>> bool(np.all(inf.loo_per_sample_loss() >= inf.per_sample_loss))
        True
        """
        obj = self.objective
        eta = obj.linear_predictor(backend=self.engine.backend)
        eta = eta + self.engine.loo_eta_change("observed")
        return obj.loss.loss(obj.y, obj._as_loss_input(eta))

    def _require_proba(self, name):
        if not self.objective.loss.is_probabilistic:
            raise AttributeError(
                f"{name} needs a probabilistic classifier (logistic regression); this "
                f"model's loss is {type(self.objective.loss).__name__}. Use "
                "loo_decision_function() or loo_predict()."
            )

    def loo_predict_proba(self):
        """Class probabilities of each row with that row left out, (n, n_classes).

        Columns in the order of the estimator's ``classes_``, as
        ``cross_val_predict(..., method="predict_proba")`` returns them (so they
        feed ``cleanlab.filter.find_label_issues(labels, pred_probs)``).
        Logistic regression only (raises AttributeError otherwise).

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skinfluence.linear_model import LogisticRegression
        >>> X, y = load_iris(return_X_y=True)
        >>> P = LogisticRegression(max_iter=1000).fit(X, y).influence().loo_predict_proba()
        >>> P.shape
        (150, 3)
        """
        self._require_proba("loo_predict_proba")
        mu = self.objective.loss.mean(self.loo_decision_function())
        if mu.ndim == 1:
            return np.column_stack([1.0 - mu, mu])
        return mu

    def loo_predict(self):
        """Each row's prediction with that row left out, shape (n,).

        Classifiers: the class label (as the estimator's ``predict``);
        regressors: the predicted mean (inverse link of the linear predictor).

        Examples
        --------
        >>> import numpy as np
        >>> from skinfluence.linear_model import LinearRegression
        >>> X = np.arange(6.0)[:, None]; y = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 9.0])
        >>> float(LinearRegression().fit(X, y).influence().loo_predict()[-1])  # refit on 0..4
        5.0
        """
        obj = self.objective
        eta = self.loo_decision_function()
        if obj.classes is None:
            return obj.loss.mean(eta)
        if eta.ndim == 1:  # np.where keeps a lazy (dask) eta lazy
            classes = np.asarray(obj.classes)
            return np.where(eta > 0, classes[1], classes[0])
        return np.asarray(obj.classes)[np.argmax(eta, axis=1)]

    def alo_score(self, scoring=None, sample_weight=None):
        """Approximate leave-one-out estimate of ``scoring`` (see :mod:`skinfluence._alo`).

        The scorer evaluated on the leave-one-out predictions: exact leave-one-out
        for least squares and Ridge, ALO (Rad & Maleki 2020) for GLMs and the SVM.
        ``scoring``: a scikit-learn scorer name or callable, None for the
        estimator's ``score`` metric; greater is better (losses come negated).

        Examples
        --------
        >>> from sklearn.datasets import load_breast_cancer
        >>> from sklearn.preprocessing import scale
        >>> from skinfluence.linear_model import LogisticRegression
        >>> X, y = load_breast_cancer(return_X_y=True)
        >>> inf = LogisticRegression().fit(scale(X), y).influence()
        >>> round(inf.alo_score("neg_log_loss"), 2)
        -0.08
        """
        return _alo_score(self, scoring=scoring, sample_weight=sample_weight)

    def cov_params(self):
        """Covariance of the fitted parameters, phi H^-1 (statsmodels' ``cov_params()``).

        Unpenalized fits only: OLS (phi = RSS / (n - p)) and GLMs (phi = 1 for
        binomial and Poisson, Pearson chi^2 / (n - p) otherwise), H the Fisher
        information; the square roots of its diagonal equal statsmodels'
        ``bse``. Penalized, damped, multinomial and SVM fits raise AttributeError:
        phi H^-1 with a penalty is not the sampling covariance of a biased
        estimate, and a t-statistic built on it would be silently wrong.

        Examples
        --------
        >>> import numpy as np
        >>> from skinfluence.linear_model import LinearRegression
        >>> X = np.arange(8.0)[:, None]; y = np.array([0.0, 1.5, 1.8, 3.2, 4.1, 4.8, 6.3, 7.0])
        >>> LinearRegression().fit(X, y).influence().cov_params().shape
        (2, 2)
        """
        obj = self.objective
        if obj.is_penalized or self.engine.damping:
            raise AttributeError(
                "Standard errors are defined here for unpenalized fits only (phi H^-1 "
                "of a penalized fit is not the sampling covariance of its biased "
                "estimate). Refit without penalty (LinearRegression, "
                "LogisticRegression(C=np.inf), PoissonRegressor(alpha=0), ...) to test "
                "a coefficient."
            )
        self._need_glm("cov_params")
        return self.dispersion * self.engine.factor("fisher").inverse()

    @property
    def bse(self):
        """Standard errors sqrt(diag(phi H^-1)) of an unpenalized fit (statsmodels' ``bse``)."""
        return np.sqrt(np.diag(self.cov_params()))

    feature_attribution = _feature_attribution  # per-feature split of loss_change/TracIn

    # -- convenience --------------------------------------------------------------
    def top(self, n=10, by="cooks_distance"):
        """Labels of the ``n`` rows with the largest ``|by|``, largest first.

        The training DataFrame's index labels when the data were a DataFrame
        (a pandas Index), row positions otherwise (an int array).

        Examples
        --------
        >>> import numpy as np
        >>> from skinfluence.linear_model import LinearRegression
        >>> X = np.arange(20.0)[:, None]; y = X[:, 0] * 2; y[3] += 30
        >>> LinearRegression().fit(X, y).influence().top(1).tolist()
        [3]
        """
        values = np.abs(np.asarray(getattr(self, by)))
        if values.ndim != 1:
            raise ValueError(f"{by!r} is not a per-row quantity.")
        pos = top_indices(values, n)
        return pos if self.index is None else self.index[pos]

    def summary_frame(self):
        """All per-row diagnostics as a pandas DataFrame (indexed like X).

        Column names are statsmodels' (``summary_frame`` of ``OLSInfluence``/
        ``GLMInfluence``) with their meaning, and R's where statsmodels has none:

        ===================  ==========================================================
        ``dfb_<param>``      DFBETAS
        ``cooks_d``          Cook's distance
        ``hat_diag``         leverage
        ``standard_resid``   internally studentized Pearson residual (statsmodels)
        ``rstandard``        internally studentized deviance residual (R ``rstandard``)
        ``student_resid``    externally studentized residual (statsmodels OLS, R
                             ``rstudent``)
        ``dffits``           DFFITS (external, R ``dffits``)
        ``cov_ratio``        COVRATIO
        ``pearson_resid``    Pearson residual
        ``deviance_resid``   deviance residual
        ``influential``      any of R's ``influence.measures`` flags
        ===================  ==========================================================

        The residual columns and the flags are for single-output exponential-family
        models; multinomial models and SVMs get the first three. With the dask
        backend (a dask array X) a lazy dask DataFrame, one partition per row chunk
        of X.

        Examples
        --------
        >>> import numpy as np
        >>> from skinfluence.linear_model import LinearRegression
        >>> X = np.arange(10.0)[:, None]; y = np.sin(X[:, 0])
        >>> LinearRegression().fit(X, y).influence().summary_frame().shape
        (10, 12)
        """
        try:
            import pandas  # noqa: F401  (a clear error before any work)
        except ImportError as exc:  # pragma: no cover
            raise ImportError('summary_frame needs pandas: pip install "skinfluence[pandas]"') from exc
        columns = {
            "cooks_d": lambda: self.cooks_distance,
            "hat_diag": lambda: self.leverage,
        }
        if self._glm:
            columns.update({
                "standard_resid": lambda: self.studentized_residuals_pearson,
                "rstandard": lambda: self.studentized_residuals,
                "student_resid": lambda: self.studentized_residuals_external,
                "dffits": lambda: self.dffits,
                "cov_ratio": lambda: self.cov_ratio,
                "pearson_resid": lambda: self.pearson_residuals,
                "deviance_resid": lambda: self.deviance_residuals,
            })
        dfb_names = [f"dfb_{p}" for p in self.param_names]
        if self.engine.backend.lazy:  # one lazy expression per column
            data = dict(zip(dfb_names, self.dfbetas.T))
            data.update({name: fn() for name, fn in columns.items()})
            if self._glm:
                data["influential"] = self.influential.any(axis=1)
            return self.engine.backend.to_frame(data, index=self.index)
        return self._summary_block(dfb_names, columns)

    def _summary_block(self, dfb_names, columns):
        """The frame over one (n, P + m) column-major float block that pandas wraps
        without copying: DFBETAS are written into it, and no other (n, P) array
        outlives the call (memory: the output plus one dfbeta)."""
        import pandas as pd

        P = len(dfb_names)
        n = self.objective.n_samples
        block = np.empty((n, P + len(columns)), order="F")
        if "dfbetas" in self.__dict__:
            block[:, :P] = self.dfbetas
        else:
            dfbeta = self.__dict__.get("dfbeta")
            if dfbeta is None:  # theta_(-i) - theta, negated in place (not kept)
                dfbeta = self.engine.loo_param_change("fisher")
                np.negative(dfbeta, out=dfbeta)
            self._scale_dfbeta(dfbeta, out=block[:, :P])
            del dfbeta
        for j, fn in enumerate(columns.values()):
            block[:, P + j] = fn()
        frame = pd.DataFrame(block, index=self.index, columns=dfb_names + list(columns),
                             copy=False)
        if self._glm:
            flag = np.logical_or.reduce(self._row_flags())
            for start, stop, part in iter_row_chunks(block[:, :P], P):
                flag[start:stop] |= np.abs(part).max(axis=1, initial=0.0) > 1
            frame["influential"] = flag
        return frame

    def plot(self, kind="influence", ax=None, n_labels=None, **kwargs):
        """Diagnostic plots (matplotlib); returns the Axes.

        Delegates to :mod:`skinfluence.plotting`; rows are labelled by the
        training DataFrame's index (positions for arrays).

        Parameters
        ----------
        kind : str, default="influence"
            ``"influence"``: car's ``influencePlot`` (studentized residual vs
            leverage, area ~ Cook's distance, lines at 2p/n, 3p/n, ``|t| = 2``);
            ``"residuals_leverage"``: R's ``plot.lm(which=5)`` with Cook's
            distance contours 0.5 and 1; ``"cooks"``: Cook's distance by row with
            the 4/n and F-median cut-offs; ``"leverage"``: leverage by row with
            2p/n and 3p/n; ``"dfbetas"``: one panel per parameter with
            ±2/sqrt(n) (returns an array of Axes); ``"loss_change"``: the
            training rows that help and hurt one test point most (pass
            ``X_test``, ``y_test`` and optionally ``test_row``, ``n``).
        ax : matplotlib Axes, default=None
            (``"dfbetas"``: pass ``axes=`` instead.)
        n_labels : int, default=None
            Rows to label (each plot's default when None).
        **kwargs
            Passed to the plotting function.

        Examples
        --------
        >>> import numpy as np, matplotlib
        >>> matplotlib.use("Agg")
        >>> from skinfluence.linear_model import LinearRegression
        >>> X = np.arange(10.0)[:, None]; y = np.sin(X[:, 0])
        >>> ax = LinearRegression().fit(X, y).influence().plot("cooks")
        """
        from . import plotting

        kinds = {
            "influence": plotting.influence_bubble,
            "residuals_leverage": plotting.residuals_leverage,
            "cooks": plotting.cooks_index,
            "leverage": plotting.leverage_index,
            "dfbetas": plotting.dfbetas_panels,
            "loss_change": plotting.loss_change_bars,
        }
        if kind not in kinds:
            raise ValueError(f"kind must be one of {sorted(kinds)}; got {kind!r}.")
        if n_labels is not None and kind != "loss_change":
            kwargs["n_labels"] = n_labels
        if kind == "dfbetas":
            if ax is not None:
                kwargs.setdefault("axes", ax)
            return kinds[kind](self, **kwargs)
        return kinds[kind](self, ax=ax, **kwargs)

    def _repr_html_(self):
        """Jupyter summary: the model, its size and the most influential rows."""
        from ._explain import influence_html

        return influence_html(self)

    def explain(self, X_test, y_test, n=5, *, X=None, y=None, method="influence", by="loss"):
        """Which training rows made these test predictions? One call, one frame.

        For each test row, the ``n`` training rows whose removal would raise its
        loss most (``"helpful"``: they lower the test loss) and the ``n`` whose
        removal would lower it most (``"harmful"``), from
        :meth:`loss_change`, with the training label and the training features.
        ``by="decision"`` ranks by the change of the test row's prediction (its
        linear predictor, the decision function) instead: the rows whose presence
        ``"raises"`` and ``"lowers"`` it most.

        Parameters
        ----------
        X_test, y_test : test data (as for :meth:`loss_change`)
        n : int, default=5
            Rows of each kind per test row.
        X : array-like or DataFrame, default=None
            Training features to show. Default: the untransformed training data
            if the result keeps it (``X_input``), else the design the model saw
            (after a pipeline's transforms).
        y : array-like, default=None
            Training labels to show; default: the labels the model saw.
        method : {"influence", "newton"}, default="influence"
            ``"newton"``: one Newton step with the leave-one-out Hessian (exact
            parameter change for least squares and Ridge).
        by : {"loss", "decision"}, default="loss"
            Rank by the test loss (:meth:`loss_change`) or by the test row's
            linear predictor, xt_test' (theta_(-i) - theta) from
            :meth:`param_change` (single-output models).

        Returns
        -------
        pandas.DataFrame
            Indexed like the training data; columns ``test_row`` (test label),
            ``role`` ("helpful"/"harmful"; by="decision": "raises"/"lowers"),
            ``rank``, ``loss_change`` (predicted change of the test loss when the
            row is removed; by="decision": ``decision_change``, the change of
            the test prediction), ``y`` and the feature columns.

        Examples
        --------
        >>> from sklearn.datasets import load_breast_cancer
        >>> from skinfluence.linear_model import LogisticRegression
        >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
        >>> X = (X - X.mean()) / X.std()
        >>> inf = LogisticRegression().fit(X[:400], y[:400]).influence()
        >>> ex = inf.explain(X[400:402], y[400:402], n=3)
        >>> ex.shape[0], list(ex.columns[:5])
        (12, ['test_row', 'role', 'rank', 'loss_change', 'y'])
        """
        from ._explain import explain_rows

        return explain_rows(self, X_test, y_test, n=n, X=X, y=y, method=method, by=by)
