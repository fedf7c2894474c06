"""Per-row influence scores the selectors rank or sample by.

Everything comes from the one engine (``skinfluence.influence`` and the
:class:`skinfluence.Influence` methods); the selectors never re-derive
gradients, Hessians or solves.
"""

import numpy as np



def validation_loss_change(inf, X_val, y_val):
    """Predicted change of the *mean* validation loss when each training row is removed.

    ``Influence.loss_change(..., reduce="mean")``: one solve for the mean
    validation gradient and one pass over the training rows, shape (n_train,).
    Positive: removing the row raises the validation loss (the row helps);
    negative: the row is harmful.
    """
    return np.asarray(
        inf._loss_change(X_val, y_val, reduce="mean", names=("X_val", "y_val"))
    ).ravel()


def influence_norms(pilot_inf, full_inf, metric=None):
    """||psi_i||_A with psi_i = H^-1 grad l_i (pilot Hessian), for every row of full_inf.

    ``metric``: a symmetric square root S of the metric (A = S S) acting on each
    output's parameter block; None: the Euclidean norm of psi_i. Computed as
    row norms of Xt_i (H^-1 S) weighted by the loss gradient, in one chunked
    pass (``Backend.row_quadratic``), so the (n, P) matrix of psi_i is never
    formed.
    """
    obj = full_inf.objective
    be = full_inf.engine.backend
    K, q = obj.n_outputs, obj.p_
    P = K * q
    R = np.eye(P) if metric is None else np.kron(np.eye(K), metric)
    M = pilot_inf.ihvp(R)  # H^-1 S:  ||psi_i||_A^2 = ||M' Xt_i' g_i||^2
    blocks = [M[k * q:(k + 1) * q] for k in range(K)]
    C = be.row_quadratic(obj.X, blocks, obj.fit_intercept)
    G = full_inf.engine.g()  # unit sample weights
    return np.sqrt(np.maximum(np.einsum("ik,ikl,il->i", G, C, G), 0.0))
