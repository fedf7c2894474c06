"""The demo: flipped labels in scikit-learn's breast-cancer data, found by influence."""

import numpy as np


def run_demo(flip=0.1, top=15, seed=0, out=print):
    """Fit a logistic regression on partly mislabeled data and rank rows by influence.

    Returns a dict with the recall of flipped rows in the top 5/10/20% by Cook's
    distance and the recall random inspection would have.

    Examples
    --------
    >>> res = run_demo(out=lambda *a: None)
    >>> res["recall"][0.1] > 3 * res["random"][0.1]
    True
    """
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    from .linear_model import LogisticRegression

    data = load_breast_cancer()
    X = StandardScaler().fit_transform(data.data)
    y = data.target.copy()
    n = y.shape[0]
    rng = np.random.default_rng(seed)
    flipped = rng.choice(n, size=int(round(flip * n)), replace=False)
    y[flipped] = 1 - y[flipped]
    is_flipped = np.zeros(n, bool)
    is_flipped[flipped] = True

    est = LogisticRegression(C=1.0, max_iter=1000, tol=1e-8).fit(X, y)
    inf = est.influence()
    out(
        f"Breast cancer data (scikit-learn): n={n}, p={X.shape[1]}; "
        f"{flipped.size} labels flipped ({flip:.0%}). Model: {est!r}"
    )
    out(f"{inf!r}\n")
    order = inf.top(n, by="cooks_distance")
    flags = inf.influential.any(axis=1)
    out(f"{'rank':>4} {'row':>5} {'cooks_d':>10} {'leverage':>9} {'R-flag':>6} {'flipped':>7}")
    for rank, i in enumerate(order[:top], 1):
        out(
            f"{rank:>4} {i:>5} {inf.cooks_distance[i]:>10.4f} {inf.leverage[i]:>9.4f} "
            f"{'*' if flags[i] else '':>6} {'yes' if is_flipped[i] else '':>7}"
        )
    out("\nFlipped rows found when inspecting the top-ranked rows:")
    out(f"{'inspect':>8} {'by Cook':>10} {'random':>8}")
    recall, rand = {}, {}
    for frac in (0.05, 0.1, 0.2):
        k = int(round(frac * n))
        found = int(is_flipped[order[:k]].sum())
        recall[frac] = found / flipped.size
        rand[frac] = k / n  # expected recall of random inspection
        out(f"{frac:>8.0%} {found:>4}/{flipped.size:<3}({recall[frac]:>4.0%}) {rand[frac]:>7.0%}")
    return {"recall": recall, "random": rand, "order": order, "flipped": flipped}
