"""How H^-1 is represented, decided in one place: :func:`resolve_strategy`.

``"primal"``
    the Jacobi-scaled Cholesky factor of the P x P Hessian (P parameters):
    O(n P^2 + P^3) time, O(P^2) memory. Tall data.
``"dual"``
    the n x n kernel (push-through) form of :mod:`skinfluence._dual`: exact, the
    same numbers as the primal form, O(N^3 + N nnz(X)) time and O(N^2) memory
    (N = n_samples * n_outputs). Wide data (P > N): text, genomics.
``"iterative"``
    no dense matrix at all: influence functions by conjugate gradients on
    Hessian-vector products; quantities that need a factor (leverage, Cook's
    distance, dfbeta) raise :class:`HessianMemoryError` naming the options
    (influence sketching, a larger memory budget).

``"auto"`` estimates the memory of each dense form *before* allocating anything
and takes the smaller one that fits the dense budget, ``16 * working_memory``
MiB (4 GiB with the default ``working_memory=256``; change it with
``skinfluence.set_config(working_memory=...)``). When neither fits it falls back
to ``"iterative"`` with a :class:`StrategyWarning` saying why.
"""

import warnings

from ._config import get_config

STRATEGIES = ("auto", "primal", "dual", "iterative")

#: dense matrices may use this many times ``working_memory`` MiB in all
DENSE_BUDGET_FACTOR = 16
#: dense N x N or P x P matrices alive at the peak of each strategy
_PRIMAL_COPIES = 4  # Hessian, scaled copy, Cholesky factor, whitening/inverse
_DUAL_COPIES = 5  # kernel, I + M (factor/inverse), Q, T and Q Kern (dfbeta)


class StrategyWarning(UserWarning):
    """The engine chose a cheaper representation of H^-1 than the exact dense ones."""


class HessianMemoryError(MemoryError):
    """A dense factor of the Hessian would exceed the memory budget."""


def dense_budget_bytes():
    """Bytes the dense factor may use: ``16 * working_memory`` MiB."""
    return DENSE_BUDGET_FACTOR * get_config()["working_memory"] * 2**20


def memory_estimate(objective, strategy):
    """Peak bytes of the dense matrices a strategy allocates for this objective.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> import skinfluence
    >>> from skinfluence._strategy import memory_estimate
    >>> X, y = load_diabetes(return_X_y=True)
    >>> obj = skinfluence.influence(Ridge().fit(X, y), X, y).objective
    >>> memory_estimate(obj, "primal")              # 4 copies of 11 x 11 float64
    3872
    """
    if strategy == "primal":
        return _PRIMAL_COPIES * 8 * objective.n_params**2
    if strategy == "dual":
        N = objective.n_samples * objective.n_outputs
        return _DUAL_COPIES * 8 * N**2
    return 0


def _gib(b):
    return f"{b / 2**30:.3g} GiB"


def resolve_strategy(objective, strategy="auto", damping=0.0):
    """Choose how H^-1 is represented; returns ``(name, reason)``.

    Parameters
    ----------
    objective : LinearObjective
    strategy : {"auto", "primal", "dual", "iterative"}, default="auto"
        An explicit choice is honoured (``"dual"`` raises ValueError when the
        kernel form does not apply to the objective); ``"auto"`` follows the
        module docstring.
    damping : float, default=0.0

    Returns
    -------
    name : str
    reason : str
        One sentence, shown by ``Influence.engine.strategy_reason``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> import skinfluence
    >>> from skinfluence._strategy import resolve_strategy
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 500)); y = rng.normal(size=30)
    >>> obj = skinfluence.influence(Ridge().fit(X, y), X, y).objective
    >>> resolve_strategy(obj)[0]
    'dual'
    >>> resolve_strategy(obj, "primal")[0]
    'primal'
    """
    from ._dual import dual_obstacle

    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}; got {strategy!r}.")
    obstacle = dual_obstacle(objective, damping)
    if strategy == "dual" and obstacle is not None:
        raise ValueError(f"strategy='dual' does not apply to this model: {obstacle}. "
                         "Use strategy='primal' or 'auto'.")
    if strategy != "auto":
        return strategy, f"strategy={strategy!r} was requested"
    P = objective.n_params
    N = objective.n_samples * objective.n_outputs
    budget = dense_budget_bytes()
    need = {"primal": memory_estimate(objective, "primal"),
            "dual": memory_estimate(objective, "dual")}
    order = ["primal"]
    if obstacle is None:
        order = ["dual", "primal"] if N < P else ["primal", "dual"]
    for name in order:
        if need[name] <= budget:
            if name == "dual":
                why = (f"{P} parameters > {N} rows: the {N} x {N} kernel form "
                       f"({_gib(need['dual'])}) instead of the {P} x {P} Hessian "
                       f"({_gib(need['primal'])})")
            elif obstacle is None or N >= P:
                why = f"{P} parameters <= {N} rows: the {P} x {P} Hessian ({_gib(need['primal'])})"
            else:
                why = (f"the {N} x {N} kernel form ({_gib(need['dual'])}) exceeds the dense "
                       f"budget; the {P} x {P} Hessian ({_gib(need['primal'])}) fits")
            return name, why
    dual_part = (f"nor the {N} x {N} kernel form ({_gib(need['dual'])})" if obstacle is None
                 else f"and the kernel form does not apply ({obstacle})")
    why = (f"neither the {P} x {P} Hessian ({_gib(need['primal'])}) fits the dense budget "
           f"({_gib(budget)} = {DENSE_BUDGET_FACTOR} x working_memory) {dual_part}")
    warnings.warn(
        f"Using the iterative strategy: {why}. Influence functions use conjugate "
        "gradients; exact leverage, Cook's distance and dfbeta need a dense factor and "
        "will raise HessianMemoryError. Options: influence(..., leverage_method='sketch') "
        "for unbiased leverage and Cook's distance with a stated accuracy (JL + CG, "
        "relative error sqrt(2/k)); skinfluence.sketch.influence_sketch for sketched "
        "scores; or a larger budget with skinfluence.set_config(working_memory=...).",
        StrategyWarning,
        stacklevel=4,
    )
    return "iterative", why


def memory_error(objective, reason):
    """The HessianMemoryError raised when the iterative strategy is asked for a factor."""
    return HessianMemoryError(
        f"This quantity needs a dense factor of the Hessian, which the engine did not "
        f"allocate ({reason}). Options: skinfluence.influence(estimator, X, y, "
        "leverage_method='sketch') for unbiased leverage, Cook's distance and studentized "
        "residuals with a stated accuracy (skinfluence.sketch.jl_leverage: k conjugate-"
        "gradient solves, relative standard deviation sqrt(2/k) per row, no dense matrix); "
        "skinfluence.sketch.influence_sketch(estimator, X, y, k=...) for fast sketched "
        "rankings (a lower bound of the leverage); influence functions "
        "(self_influence, loss_change, ...) with solver='cg'; a larger budget with "
        "skinfluence.set_config(working_memory=...) (dense budget = "
        f"{DENSE_BUDGET_FACTOR} x working_memory MiB); or influence(..., strategy='primal' "
        "or 'dual') to allocate regardless."
    )
