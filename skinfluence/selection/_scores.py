"""Per-row influence scores the selectors rank or sample by.

Everything comes from the one engine (``skinfluence.influence``): the
selectors never re-derive gradients, Hessians or solves.
"""

import numpy as np

from .._api import influence


def validation_loss_change(inf, estimator, X_val, y_val):
    """Predicted change of the *mean* validation loss when each training row is removed.

    Shape (n_train,). Positive: removing the row raises the validation loss
    (the row helps); negative: the row is harmful. This is ``loss_change``
    (Koh & Liang's -I_up,loss with the sign of DESIGN.md) averaged over the
    validation rows; by linearity it needs one Hessian solve for the averaged
    validation gradient instead of one per validation row, and one pass over X.
    """
    val = influence(estimator, X_val, y_val).objective  # lazy: nothing is computed
    obj, engine = inf.objective, inf.engine
    be = engine.backend
    G_val = val.eta_gradient(backend=be)  # (n_val, K), unit weights (class weights if any)
    grad = be.design_rmatmul(val.X, G_val, val.fit_intercept).T.ravel() / G_val.shape[0]
    u = engine.solve(grad, kind="observed")  # H^-1 grad L_val
    t = be.design_matmul(obj.X, u.reshape(obj.n_outputs, obj.p_).T, obj.fit_intercept)
    return np.einsum("ik,ik->i", t, engine.g())  # grad L_val' H^-1 s_i grad l_i


def self_influence(inf):
    """s_i^2 grad l_i' H^-1 grad l_i (Koh & Liang's self-influence), shape (n,)."""
    if hasattr(inf, "self_influence"):
        return np.asarray(inf.self_influence)
    engine = inf.engine
    g = engine.g()
    return np.einsum("ik,ikl,il->i", g, engine.C("observed"), g)


def influence_norms(pilot_inf, full_inf, metric=None):
    """||psi_i||_A with psi_i = H^-1 grad l_i (pilot Hessian), for every row of full_inf.

    ``metric`` (P', P') symmetric PSD square root S of the metric (A = S S'),
    acting on each output's block; None: the Euclidean norm of psi_i.
    """
    obj = full_inf.objective
    be = full_inf.engine.backend
    P = pilot_inf.objective.n_params
    K, q = obj.n_outputs, obj.p_
    if metric is None:
        R = np.eye(P)
    else:
        R = np.kron(np.eye(K), metric)
    M = pilot_inf.engine.solve(R, kind="observed")  # H^-1 S: psi' A psi = ||M' Xt' g||^2
    blocks = [M[k * q:(k + 1) * q] for k in range(K)]
    C = be.row_quadratic(obj.X, blocks, obj.fit_intercept)
    G = obj.eta_gradient(backend=be)  # unit weights for sample_weight=None
    return np.sqrt(np.maximum(np.einsum("ik,ikl,il->i", G, C, G), 0.0))
