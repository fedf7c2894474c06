"""``skinfluence.influence``: influence of a fitted estimator or pipeline, no refit."""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._result import Influence
from ._solvers import ALL_SOLVER_OPTIONS
from .adapters import get_adapter
from .backends import get_backend
from .utils._validation import _is_dataframe, check_design, check_target, check_weights


def _split_pipeline(estimator, X):
    """Transform X through all but the last step; return (final_estimator, Xt)."""
    while isinstance(estimator, Pipeline):
        check_is_fitted(estimator)
        if len(estimator.steps) > 1:
            X = estimator[:-1].transform(X)
        estimator = estimator.steps[-1][1]
    return estimator, X


def _owning_backend(X, backend):  # SHIM: lead replaces at merge (issue 10's front door)
    """The plugin backend whose array type X is (looked up by X's top-level module)."""
    from .backends import _entry_point_backends, get_backend

    if backend is not None:
        be = get_backend(backend)
        return be if type(be).owns(X) else None
    name = type(X).__module__.split(".")[0]
    if name in ("numpy", "scipy", "pandas", "builtins"):
        return None
    if name == "dask" and name not in _entry_point_backends():
        # a shipped plugin whose entry point is missing from stale (editable) metadata
        from .backends import _REGISTRY, register_backend

        if name not in _REGISTRY:
            from .backends._dask import DaskBackend

            register_backend(name, DaskBackend)
    elif name not in _entry_point_backends():
        return None
    be = get_backend(name)
    return be if type(be).owns(X) else None


def _check_owned(owner, X, n_features, name):  # SHIM: lead replaces at merge
    X = owner.check_design(X, name)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the estimator was fitted with "
            f"{n_features} features."
        )
    return X


def influence(
    estimator, X, y, sample_weight=None, *, backend=None, damping=0.0, solver="auto",
    leverage_method="exact", leverage_options=None, **adapter_options,
):
    """Influence diagnostics of a fitted scikit-learn estimator or pipeline.

    Nothing is refitted: the objective the estimator minimized is rebuilt from its
    fitted parameters and the data, and every diagnostic comes from one
    factorization of its Hessian.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
        A supported linear model (see
        :func:`skinfluence.adapters.supported_estimators`), or a fitted
        ``Pipeline`` ending in one: X is transformed through the earlier steps
        and the final step is analysed.
    X : array-like or sparse CSR matrix of shape (n_samples, n_features)
        The training data the estimator was fitted on (a DataFrame's index
        labels the rows of :meth:`Influence.summary_frame`).
    y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None
        The weights passed to ``fit`` (class weights are added from the estimator).
    backend : str, default=None
        Linear-algebra backend; ``None`` uses ``skinfluence.get_config()``.
    damping : float, default=0.0
        Added to the Hessian's diagonal before factoring (and by every solver).
    solver : {"auto", "direct", "cg", "lissa"}, default="auto"
        Inverse-Hessian-vector products of the influence functions: cached
        Cholesky factor, conjugate gradients on Hessian-vector products (never
        forms H; sparse X with 10^5 features), or LiSSA. ``"auto"``: direct up
        to 4,000 parameters, CG beyond.
    leverage_method : {"exact", "sketch"}, default="exact"
        ``"sketch"``: diagnostics run on relative-error randomized leverage
        (:func:`skinfluence.sketch.randomized_leverage`) for tall data.
    leverage_options : dict, default=None
        Options of the randomized leverage (``eps``, ``random_state``, ...).
    **adapter_options
        Solver options (CG: ``tol``, ``max_iter``, ``preconditioner``; LiSSA:
        ``scale``, ``depth``, ``n_samples``, ``batch_size``, ``random_state``)
        go to the solver; the others to the estimator's adapter (e.g.
        ``temperature`` for hinge-loss SVMs), which refuses options it does not
        know.

    Returns
    -------
    Influence

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    skinfluence.exceptions.UnsupportedEstimatorError
        (a TypeError) for unsupported estimators or penalties.
    ValueError
        For NaN/inf, shape mismatches and unknown labels.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> import skinfluence
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    >>> inf = skinfluence.influence(pipe, X, y)
    >>> inf.cooks_distance.shape
    (569,)
    """
    index = X.index if _is_dataframe(X) else None
    final, Xt = _split_pipeline(estimator, X)
    adapter = get_adapter(final)
    check_is_fitted(final)
    n_features = getattr(final, "n_features_in_", None)
    owner = _owning_backend(Xt, backend)  # SHIM: lead replaces at merge
    if owner is not None:
        backend = owner
        Xt = _check_owned(owner, Xt, n_features, "X")
    else:
        Xt = check_design(Xt, n_features=n_features)
    if type(Xt).__module__.startswith("torch") and get_backend(backend).name == "numpy":
        raise ValueError(
            "X is a torch tensor but the backend is 'numpy': pass backend='torch' "
            "(or skinfluence.set_config(backend='torch')), or a NumPy array."
        )
    y = check_target(y, Xt.shape[0])
    s = check_weights(sample_weight, Xt.shape[0])
    solver_options = {k: adapter_options.pop(k) for k in list(adapter_options)
                      if k in ALL_SOLVER_OPTIONS}
    objective = adapter(final, Xt, y, s, **adapter_options)
    objective.loss.check_y(objective.y)

    def encode_test(X_test, y_test):
        # test data go through the same steps and label encoding as the training data
        _, Xt_test = _split_pipeline(estimator, X_test)
        # the estimator's own feature count: an adapter may keep fewer columns
        # (e.g. the active set of an L1 fit) and slices test data itself
        test_owner = _owning_backend(Xt_test, None)  # SHIM: lead replaces at merge
        if test_owner is not None:
            Xt_test = _check_owned(test_owner, Xt_test, n_features, "X_test")
        else:
            Xt_test = check_design(Xt_test, n_features=n_features, name="X_test")
        y_test = check_target(y_test, Xt_test.shape[0], name="y_test")
        try:
            test_obj = adapter(final, Xt_test, y_test, np.ones(Xt_test.shape[0]),
                               **adapter_options)
            test_obj.loss.check_y(test_obj.y)
        except ValueError as exc:
            raise ValueError(f"y_test: {exc}") from None
        return test_obj.X, test_obj.y  # as the adapter sees it (e.g. active columns)

    return Influence(objective, backend=backend, damping=damping, index=index,
                     solver=solver, encode_test=encode_test,
                     leverage_method=leverage_method, leverage_options=leverage_options,
                     **solver_options)
