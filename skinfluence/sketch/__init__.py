"""Sketching for large and sparse data: influence sketching and randomized leverage.

* :func:`influence_sketch` (Wojnowicz et al., IEEE BigData 2016): rank the rows of
  a million-row, 10^5-feature sparse fit by influence in seconds, through a
  k-column random projection of the IRLS-weighted design.
* :func:`randomized_leverage` (Drineas et al. 2012; Clarkson & Woodruff 2013):
  relative-error leverage for tall data with a moderate number of columns;
  :func:`leverage` is the shared ``method="exact" | "sketch"`` interface and
  :func:`use_sketched_leverage` runs an :class:`skinfluence.Influence` on it.
* :func:`jl_leverage`: unbiased leverage with a stated accuracy (relative standard
  deviation sqrt(2 / k)) by k conjugate-gradient solves, for wide sparse data where
  neither the P x P Hessian nor the n x n kernel fits (``influence(...,
  leverage_method="sketch")`` picks it there).

Examples
--------
>>> import numpy as np
>>> from skinfluence.linear_model import LogisticRegression
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(300, 30)); y = (X[:, 0] > 0).astype(int)
>>> sk = LogisticRegression().fit(X, y).influence_sketch(k=16, random_state=0)
>>> sk.cooks_distance.shape
(300,)
"""

from ._influence_sketch import InfluenceSketch, influence_sketch, sketch_objective
from .._randomized import jl_leverage, randomized_leverage, use_sketched_leverage
from ._leverage import leverage
from ._projections import PROJECTIONS, make_projection

__all__ = [
    "PROJECTIONS",
    "InfluenceSketch",
    "influence_sketch",
    "jl_leverage",
    "leverage",
    "make_projection",
    "randomized_leverage",
    "sketch_objective",
    "use_sketched_leverage",
]
