"""Diagnostic plots of an :class:`skinfluence.Influence` (matplotlib).

Each function takes a fitted :class:`~skinfluence.Influence` and returns the
matplotlib Axes it drew on (``dfbetas_plot`` returns an array of Axes). Points
are labelled by the row labels of the training data (a DataFrame's index, or
positions for arrays). ``Influence.plot(kind=...)`` calls these functions.

=========================== ==============================================================
function                    what statisticians know it as
=========================== ==============================================================
:func:`residuals_leverage`  R ``plot.lm(which = 5)``: standardized Pearson residual vs
                            leverage, Cook's distance contours at 0.5 and 1
:func:`cooks_index`         R ``plot.lm(which = 4)``: Cook's distance by row, with the
                            4/n rule of thumb and the F(p, n - p) median cut-off
:func:`influence_bubble`    car ``influencePlot``: studentized residual vs leverage,
                            circle area proportional to Cook's distance, lines at
                            2p/n, 3p/n and ``|t| = 2``
:func:`dfbetas_panels`      one DFBETAS index plot per parameter with ±2/sqrt(n) lines
:func:`loss_change_bars`    influence functions: the training rows that help and hurt
                            one test point most (Koh & Liang 2017)
=========================== ==============================================================
"""

import numpy as np
from scipy import stats

__all__ = [
    "cooks_index",
    "cooks_thresholds",
    "dfbetas_panels",
    "influence_bubble",
    "leverage_index",
    "loss_change_bars",
    "residuals_leverage",
    "row_labels",
]

_CONTOUR_COLOR = "tab:red"
_LINE_COLOR = "grey"


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover
        raise ImportError('plotting needs matplotlib: pip install "skinfluence[plot]"') from exc
    return plt


def _ax(ax):
    if ax is None:
        _, ax = _pyplot().subplots()
    return ax


def row_labels(inf):
    """Row labels of the training data: the DataFrame's index, else positions.

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.linear_model import LinearRegression
    >>> X = np.arange(5.0)[:, None]; y = np.array([0.0, 1.0, 3.0, 2.0, 4.0])
    >>> row_labels(LinearRegression().fit(X, y).influence()).tolist()
    [0, 1, 2, 3, 4]
    """
    n = inf.objective.n_samples
    return np.arange(n) if inf.index is None else np.asarray(inf.index)


def _largest(values, n):
    values = np.abs(np.asarray(values, dtype=float))
    values = np.where(np.isfinite(values), values, -np.inf)
    n = int(max(0, min(n, values.shape[0])))
    if n == 0:
        return np.empty(0, dtype=int)
    return np.argsort(-values, kind="stable")[:n]


def _annotate(ax, rows, x, y, labels):
    for i in rows:
        ax.annotate(str(labels[i]), (x[i], y[i]), xytext=(3, 3), textcoords="offset points",
                    fontsize="small")


def _stems(ax, values, labels, n_labels):
    """Index plot: one vertical stem per row, the largest |values| labelled."""
    pos = np.arange(values.shape[0])
    ax.vlines(pos, 0, values, color="k", lw=1)
    _annotate(ax, _largest(values, n_labels), pos, values, labels)
    return pos


def _need_residuals(inf, what):
    if not inf._glm:
        raise ValueError(
            f"The {what} plot needs residuals of a single-output exponential-family model "
            f"(R's lm/glm); this model's loss is {type(inf.objective.loss).__name__}. "
            "Use kind='cooks', 'leverage' or 'dfbetas'."
        )


def residuals_leverage(inf, ax=None, n_labels=3, levels=(0.5, 1.0)):
    """Standardized Pearson residuals vs leverage with Cook's distance contours.

    R's ``plot(lm_fit, which = 5)``: the rows beyond the dashed contours have a
    Cook's distance above 0.5 and 1. On this plot Cook's distance is
    D = r^2 h / (p (1 - h)) with r the standardized Pearson residual, so the
    contour of level D is r = ±sqrt(D p (1 - h) / h).

    Parameters
    ----------
    inf : Influence
        Of a single-output least-squares model or GLM.
    ax : matplotlib Axes, default=None
    n_labels : int, default=3
        Label the rows with the largest Cook's distance (R's default is 3).
    levels : sequence of float, default=(0.5, 1.0)
        Cook's distance contours.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, matplotlib
    >>> matplotlib.use("Agg")
    >>> from skinfluence.linear_model import LinearRegression
    >>> from skinfluence.plotting import residuals_leverage
    >>> X = np.arange(20.0)[:, None]; y = X[:, 0] + np.sin(X[:, 0]); y[19] += 8
    >>> ax = residuals_leverage(LinearRegression().fit(X, y).influence())
    >>> ax.get_xlabel()
    'Leverage'
    """
    _need_residuals(inf, "residuals vs leverage")
    ax = _ax(ax)
    h = inf.leverage
    r = inf.studentized_residuals_pearson
    labels = row_labels(inf)
    ax.scatter(h, r, s=14, facecolors="none", edgecolors="k", label="rows")
    ax.axhline(0.0, color=_LINE_COLOR, ls=":", lw=1)
    p = inf.n_params
    hmax = max(float(np.max(h)) * 1.08, 1e-3)
    hh = np.linspace(hmax / 200, min(hmax, 0.999), 200)
    for k, level in enumerate(levels):
        rr = np.sqrt(level * p * (1 - hh) / hh)
        label = "Cook's distance" if k == 0 else None
        ax.plot(hh, rr, color=_CONTOUR_COLOR, ls="--", lw=1, label=label)
        ax.plot(hh, -rr, color=_CONTOUR_COLOR, ls="--", lw=1)
        rmax = max(float(np.max(np.abs(r))) * 1.1, 1.0)
        # label the contour where it leaves the visible band (or at its right end)
        j = np.flatnonzero(rr <= rmax)
        j = j[0] if j.size else hh.size - 1
        for sign in (1, -1):
            ax.annotate(f"{level:g}", (hh[j], sign * rr[j]), color=_CONTOUR_COLOR,
                        fontsize="small", xytext=(2, 0), textcoords="offset points")
    rmax = max(float(np.max(np.abs(r))) * 1.15, 1.0)
    ax.set_ylim(-rmax, rmax)
    ax.set_xlim(0, hmax)
    _annotate(ax, _largest(inf.cooks_distance, n_labels), h, r, labels)
    ax.set_xlabel("Leverage")
    ax.set_ylabel("Std. Pearson resid.")
    ax.set_title("Residuals vs Leverage")
    ax.legend(loc="best", fontsize="small")
    return ax


def cooks_thresholds(inf):
    """The usual Cook's distance cut-offs: ``{"4/n": ..., "F median": ...}``.

    ``4/n`` is the rule of thumb (Bollen & Jackman 1990); the F median is the
    median of F(p, n - p), the cut-off of R's ``influence.measures``
    (``pf(D, p, n - p) > 0.5``), close to 1 for large n.

    Examples
    --------
    >>> import numpy as np
    >>> from skinfluence.linear_model import LinearRegression
    >>> X = np.arange(20.0)[:, None]; y = np.sin(X[:, 0])
    >>> cut = cooks_thresholds(LinearRegression().fit(X, y).influence())
    >>> round(cut["4/n"], 3), round(cut["F median"], 3)
    (0.2, 0.721)
    """
    n, p = inf.n_obs, inf.n_params
    out = {"4/n": 4.0 / n}
    if n - p > 0:
        out["F median"] = float(stats.f.ppf(0.5, p, n - p))
    return out


def cooks_index(inf, ax=None, n_labels=3):
    """Cook's distance by row, with the 4/n and F(p, n - p) median cut-offs.

    R's ``plot(lm_fit, which = 4)`` with the two cut-offs (see
    :func:`cooks_thresholds`) drawn as labelled horizontal lines.

    Parameters
    ----------
    inf : Influence
    ax : matplotlib Axes, default=None
    n_labels : int, default=3
        Label the rows with the largest Cook's distance.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, matplotlib
    >>> matplotlib.use("Agg")
    >>> from skinfluence.linear_model import LinearRegression
    >>> from skinfluence.plotting import cooks_index
    >>> X = np.arange(20.0)[:, None]; y = np.sin(X[:, 0])
    >>> ax = cooks_index(LinearRegression().fit(X, y).influence())
    >>> ax.get_ylabel()
    "Cook's distance"
    """
    ax = _ax(ax)
    d = inf.cooks_distance
    pos = _stems(ax, d, row_labels(inf), n_labels)
    styles = {"4/n": ":", "F median": "--"}
    for name, value in cooks_thresholds(inf).items():
        ax.axhline(value, color=_CONTOUR_COLOR, ls=styles[name], lw=1,
                   label=f"{name} = {value:.3g}")
        ax.annotate(name, (pos[-1] if pos.size else 0, value), color=_CONTOUR_COLOR,
                    fontsize="small", ha="right", va="bottom")
    ax.set_xlabel("Row (position)")
    ax.set_ylabel("Cook's distance")
    ax.set_title("Cook's distance")
    ax.legend(loc="best", fontsize="small")
    return ax


def leverage_index(inf, ax=None, n_labels=3):
    """Leverage by row with the 2p/n and 3p/n lines.

    Examples
    --------
    >>> import numpy as np, matplotlib
    >>> matplotlib.use("Agg")
    >>> from skinfluence.linear_model import LinearRegression
    >>> from skinfluence.plotting import leverage_index
    >>> X = np.arange(20.0)[:, None]; y = np.sin(X[:, 0])
    >>> leverage_index(LinearRegression().fit(X, y).influence()).get_ylabel()
    'Leverage'
    """
    ax = _ax(ax)
    _stems(ax, inf.leverage, row_labels(inf), n_labels)
    mean_h = inf.n_params / inf.n_obs
    for k, ls in ((2, ":"), (3, "--")):
        ax.axhline(k * mean_h, color=_LINE_COLOR, ls=ls, lw=1, label=f"{k}p/n = {k * mean_h:.3g}")
    ax.set_xlabel("Row (position)")
    ax.set_ylabel("Leverage")
    ax.set_title("Leverage")
    ax.legend(loc="best", fontsize="small")
    return ax


def influence_bubble(inf, ax=None, n_labels=2, scale=10.0):
    """car's ``influencePlot``: studentized residual vs leverage, area ~ Cook's distance.

    Vertical lines at 2p/n and 3p/n (twice and three times the mean leverage),
    horizontal lines at -2, 0 and 2 (externally studentized residuals, R's
    ``rstudent``). As in car, the ``n_labels`` most extreme rows on each of
    leverage, absolute studentized residual and Cook's distance are labelled.

    Parameters
    ----------
    inf : Influence
        Of a single-output least-squares model or GLM.
    ax : matplotlib Axes, default=None
    n_labels : int, default=2
    scale : float, default=10.0
        Largest circle radius in points (car's ``scale``).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, matplotlib
    >>> matplotlib.use("Agg")
    >>> from skinfluence.linear_model import LinearRegression
    >>> from skinfluence.plotting import influence_bubble
    >>> X = np.arange(20.0)[:, None]; y = np.sin(X[:, 0])
    >>> influence_bubble(LinearRegression().fit(X, y).influence()).get_xlabel()
    'Hat-values'
    """
    _need_residuals(inf, "influence (bubble)")
    ax = _ax(ax)
    h = inf.leverage
    t = inf.studentized_residuals_external
    d = inf.cooks_distance
    labels = row_labels(inf)
    dmax = max(float(np.nanmax(d)), 1e-300)
    radius = scale * np.sqrt(np.clip(d, 0, None) / dmax)  # area ~ Cook's distance
    ax.scatter(h, t, s=np.maximum(radius, 0.5) ** 2 * np.pi, alpha=0.5,
               edgecolors="k", label="area ~ Cook's distance")
    mean_h = inf.n_params / inf.n_obs
    for k, ls in ((2, ":"), (3, "--")):
        ax.axvline(k * mean_h, color=_LINE_COLOR, ls=ls, lw=1, label=f"{k}p/n")
    for level in (-2.0, 0.0, 2.0):
        ax.axhline(level, color=_LINE_COLOR, ls="--" if level else ":", lw=1)
    rows = np.unique(np.r_[_largest(h, n_labels), _largest(t, n_labels), _largest(d, n_labels)])
    _annotate(ax, rows, h, t, labels)
    ax.set_xlabel("Hat-values")
    ax.set_ylabel("Studentized residuals")
    ax.set_title("Influence plot")
    ax.legend(loc="best", fontsize="small")
    return ax


def dfbetas_panels(inf, params=None, n_labels=2, axes=None, ncols=3):
    """One DFBETAS index plot per parameter, with ±2/sqrt(n) lines.

    Belsley, Kuh & Welsch's size-adjusted cut-off 2/sqrt(n) is drawn dashed;
    R's ``influence.measures`` flag (``|DFBETAS| > 1``) lies beyond it.

    Parameters
    ----------
    inf : Influence
    params : list of str, default=None
        Parameter names (``inf.param_names``) to plot; default all.
    n_labels : int, default=2
        Label the rows with the largest absolute DFBETAS in each panel.
    axes : array of matplotlib Axes, default=None
        At least ``len(params)`` Axes; default: a new figure.
    ncols : int, default=3

    Returns
    -------
    ndarray of matplotlib Axes, one per parameter

    Examples
    --------
    >>> import numpy as np, matplotlib
    >>> matplotlib.use("Agg")
    >>> from skinfluence.linear_model import LinearRegression
    >>> from skinfluence.plotting import dfbetas_panels
    >>> X = np.c_[np.arange(20.0), np.cos(np.arange(20.0))]; y = np.sin(X[:, 0])
    >>> [ax.get_title() for ax in dfbetas_panels(LinearRegression().fit(X, y).influence())]
    ['(Intercept)', 'x0', 'x1']
    """
    names = inf.param_names
    if params is None:
        params = names
    params = list(params)
    unknown = [q for q in params if q not in names]
    if unknown:
        raise ValueError(f"params: unknown parameter(s) {unknown}; known: {names}.")
    if not params:
        raise ValueError("params selects no parameter.")
    dfb = inf.dfbetas
    labels = row_labels(inf)
    n = dfb.shape[0]
    if axes is None:
        ncols = max(1, min(ncols, len(params)))
        nrows = -(-len(params) // ncols)
        _, axes = _pyplot().subplots(nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows),
                                     squeeze=False, sharex=True)
    axes = np.asarray(axes).ravel()
    if axes.size < len(params):
        raise ValueError(f"axes: {axes.size} Axes for {len(params)} parameters.")
    cut = 2.0 / np.sqrt(n)
    for ax, name in zip(axes, params):
        _stems(ax, dfb[:, names.index(name)], labels, n_labels)
        ax.axhline(cut, color=_CONTOUR_COLOR, ls="--", lw=1, label=f"±2/sqrt(n) = {cut:.3g}")
        ax.axhline(-cut, color=_CONTOUR_COLOR, ls="--", lw=1)
        ax.set_title(str(name))
        ax.set_ylabel("DFBETAS")
    for ax in axes[len(params):]:
        ax.set_visible(False)
    axes[0].legend(loc="best", fontsize="small")
    return axes[: len(params)]


def loss_change_bars(inf, X_test, y_test, test_row=0, n=10, ax=None, method="influence"):
    """The training rows that most help and most hurt one test point.

    Bars are ``inf.loss_change(X_test, y_test)[test_row]``: the predicted change
    of that test point's loss when the training row is removed. Positive (the
    row helps: removing it raises the test loss) and negative (the row hurts)
    effects are drawn in two colours; rows are labelled by the training index.

    Parameters
    ----------
    inf : Influence
    X_test, y_test : test data (as for :meth:`Influence.loss_change`)
    test_row : int, default=0
        Position of the test point in ``X_test``.
    n : int, default=10
        Rows shown on each side.
    ax : matplotlib Axes, default=None
    method : {"influence", "newton"}, default="influence"

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from skinfluence.linear_model import LogisticRegression
    >>> from skinfluence.plotting import loss_change_bars
    >>> X, y = load_breast_cancer(return_X_y=True); X = scale(X)
    >>> inf = LogisticRegression().fit(X[:400], y[:400]).influence()
    >>> len(loss_change_bars(inf, X[400:], y[400:], n=5).patches)
    10
    """
    n_test = X_test.shape[0]
    if not -n_test <= int(test_row) < n_test:
        raise ValueError(f"test_row must be a position in X_test (0..{n_test - 1}); "
                         f"got {test_row}.")
    row = int(test_row)
    sl = slice(row, row + 1) if row >= 0 else slice(row, row + 1 or None)
    Xs = X_test.iloc[sl] if hasattr(X_test, "iloc") else X_test[sl]
    ys = y_test.iloc[sl] if hasattr(y_test, "iloc") else np.asarray(y_test)[sl]
    change = inf.loss_change(Xs, ys, method=method)[0]
    order = np.argsort(change, kind="stable")
    k = int(min(n, change.size))
    harmful = order[:k][change[order[:k]] < 0]
    helpful = order[::-1][:k][change[order[::-1][:k]] > 0]
    rows = np.r_[helpful, harmful[::-1]]
    labels = row_labels(inf)
    ax = _ax(ax)
    ypos = np.arange(rows.size)[::-1]
    colors = ["tab:blue" if change[i] > 0 else "tab:red" for i in rows]
    ax.barh(ypos, change[rows], color=colors)
    ax.set_yticks(ypos)
    ax.set_yticklabels([str(labels[i]) for i in rows])
    ax.axvline(0.0, color=_LINE_COLOR, lw=1)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color="tab:blue", label="helpful (removal raises test loss)"),
                       Patch(color="tab:red", label="harmful (removal lowers test loss)")],
              loc="best", fontsize="small")
    ax.set_xlabel("Predicted change of the test loss when the row is removed")
    ax.set_ylabel("Training row")
    name = X_test.index[row] if hasattr(X_test, "index") and hasattr(X_test, "iloc") else row
    ax.set_title(f"Training rows behind test point {name}")
    return ax
