"""Public losses (what a new adapter builds its :class:`~skinfluence.adapters.LinearObjective` from).

Each loss gives the per-sample loss, its first and second derivatives in the
linear predictor (observed and IRLS/Fisher), the inverse link (``mean``), the
variance function and its flags (``fixed_dispersion``, ``is_least_squares``,
``shift_invariant``, ``is_probabilistic``). A new loss subclasses
:class:`BaseLoss` (see ``skinfluence/_loss/_loss.py``).

Examples
--------
>>> import numpy as np
>>> from skinfluence.losses import HalfBinomialLoss
>>> HalfBinomialLoss().gradient(np.array([1.0]), np.array([0.0]))
array([-0.5])
"""

from ._loss import *  # noqa: F401,F403
from ._loss import __all__  # noqa: F401
