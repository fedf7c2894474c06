"""Mislabel triage (Koh & Liang 2017, Fig. 6): which training labels should a person check?

A fraction of the training labels is flipped; the rows are then checked in the
order ``skinfluence.selection.mislabel_ranking`` gives with (a) the leave-one-out
self-confidence 1 - P_(-i)(y_i) (the default), (b) self-influence
s_i^2 grad l_i' H^-1 grad l_i (Koh & Liang's score), (c) training loss,
(d) random order. The table gives the fraction of the flipped labels found
after checking 5-30% of the training data. (The full comparison with cleanlab's
5-fold recipe on four real data sets is ``benchmarks/bench_label_errors.py``.)

Run:  python examples/mislabel_triage.py [--flip 0.1] [--seed 0] [--plot triage.png]
"""

import argparse

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from skinfluence.selection import mislabel_ranking

CHECKED = (0.05, 0.10, 0.15, 0.20, 0.25, 0.30)


def datasets():
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast cancer (569 x 30)", X, y
    X, y = load_digits(return_X_y=True)
    yield "digits, even vs odd (1797 x 64)", X, (y % 2 == 0).astype(int)


def triage(X, y, flip=0.1, seed=0, C=1.0):
    """Return {ranking: fraction of flipped rows found at each checked fraction}."""
    rng = np.random.default_rng(seed)
    X = StandardScaler().fit_transform(X)
    n = len(y)
    flipped = rng.choice(n, int(round(flip * n)), replace=False)
    y_noisy = y.copy()
    y_noisy[flipped] = 1 - y_noisy[flipped]
    is_flipped = np.zeros(n, bool)
    is_flipped[flipped] = True

    est = LogisticRegression(C=C, max_iter=5000).fit(X, y_noisy)
    methods = {"LOO confidence": "loo_confidence", "self-influence": "self_influence",
               "training loss": "loss", "random": "random"}
    orders = {name: mislabel_ranking(est, X, y_noisy, method=m, random_state=seed).index
              for name, m in methods.items()}
    found = {}
    for name, order in orders.items():
        hits = np.cumsum(is_flipped[order])
        found[name] = [hits[int(round(f * n)) - 1] / flipped.size for f in CHECKED]
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flip", type=float, default=0.1, help="fraction of labels flipped")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5, help="random flips averaged")
    parser.add_argument("--plot", default=None, help="save a figure to this path (matplotlib)")
    args = parser.parse_args(argv)

    results = {}
    for title, X, y in datasets():
        runs = [triage(X, y, args.flip, args.seed + r) for r in range(args.repeats)]
        mean = {k: np.mean([run[k] for run in runs], axis=0) for k in runs[0]}
        results[title] = mean
        print(f"\n{title}: {args.flip:.0%} of labels flipped, mean of {args.repeats} draws")
        print(f"{'checked':>8} " + " ".join(f"{k:>15}" for k in mean))
        for j, f in enumerate(CHECKED):
            print(f"{f:>8.0%} " + " ".join(f"{mean[k][j]:>15.1%}" for k in mean))

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 4), squeeze=False)
        for ax, (title, mean) in zip(axes[0], results.items()):
            for k, v in mean.items():
                ax.plot([100 * f for f in CHECKED], [100 * x for x in v], marker="o", label=k)
            ax.set_xlabel("training data checked (%)")
            ax.set_ylabel("flipped labels found (%)")
            ax.set_title(title)
            ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"\nfigure written to {args.plot}")
    return results


if __name__ == "__main__":
    main()
