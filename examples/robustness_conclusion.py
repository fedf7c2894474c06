"""Is this conclusion robust? A textbook "significant" effect that two rows carry.

The Spector & Mazzeo (1980) data shipped with statsmodels (32 students): does a
new teaching method (PSI) raise the chance of a better grade, given GPA and a
pre-test score (TUCE)? The logit fit finds PSI significant at the 5% level
(z = 2.23, p = 0.025), the conclusion printed in many textbooks.

``skinfluence.robustness.dropping_robustness`` asks how many students would have
to be left out for that conclusion to change: influence ranks the rows, is
recomputed after each removal, and every answer is checked by an actual refit.
Here two students (6% of the data) suffice to make PSI non-significant, while
flipping its sign takes far more: the *direction* is robust, its *significance*
is fragile. The plot shows the estimate with its 95% interval on all rows and
without the two rows, and each row's one-step effect on the PSI coefficient.

Run::

    python examples/robustness_conclusion.py        # writes robustness_conclusion.png
"""

import argparse

import numpy as np
import statsmodels.api as sm
from sklearn.linear_model import LogisticRegression

import skinfluence
from skinfluence.robustness import dropping_robustness


def main(out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = sm.datasets.spector.load_pandas()
    X, y = data.exog, data.endog.astype(int)
    logit = LogisticRegression(C=np.inf, solver="newton-cholesky").fit(X, y)

    res = dropping_robustness(logit, X, y, target="PSI", what=["significance", "sign"],
                              max_fraction=0.3)
    print(res.T.to_string())
    sig = res.loc["significance"]
    dropped = sig["rows"]
    keep = X.index.difference(dropped)
    check = sm.Logit(y.loc[keep], sm.add_constant(X.loc[keep])).fit(disp=0)
    print(f"\nstatsmodels without rows {dropped}: PSI = {check.params['PSI']:.3f}, "
          f"p = {check.pvalues['PSI']:.3f}")

    inf = skinfluence.influence(logit, X, y)
    j = inf.param_names.index("PSI")
    effect = inf.param_change(method="newton")[:, j]       # theta_(-i) - theta, PSI

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for k, (label, est, se) in enumerate([
        ("all 32 students", sig["original"], sig["original_se"]),
        (f"without {len(dropped)} students", sig["refit"], sig["refit_se"]),
    ]):
        ax1.errorbar(est, k, xerr=1.96 * se, fmt="o", capsize=4)
        ax1.annotate(label, (est, k + 0.12), ha="center")
    ax1.axvline(0, color="grey", ls="--")
    ax1.set_yticks([])
    ax1.set_ylim(-0.5, 1.6)
    ax1.set_xlabel("PSI coefficient (log-odds), 95% interval")
    ax1.set_title("Significance of PSI rests on two students")
    colors = ["C3" if i in set(dropped) else "C0" for i in X.index]
    ax2.bar(np.arange(len(effect)), effect, color=colors)
    ax2.set_xlabel("student (row)")
    ax2.set_ylabel("change of the PSI coefficient if left out")
    ax2.set_title("One-step leave-one-out effect (red: the dropped rows)")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="robustness_conclusion.png")
    main(parser.parse_args().out)
