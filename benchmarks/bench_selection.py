"""Cost of the selectors against one scikit-learn fit of the final model, same data, same run.

Issue 6 asks: every selector at n = 1,000,000, p = 50 takes at most 3x one fit
of the final model on all rows. Prints each selector's time, the peer fit's
time and the ratio.

    python benchmarks/bench_selection.py            # n = 1,000,000, p = 50
    python benchmarks/bench_selection.py --quick    # n = 100,000 (smoke test)
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression

from skinfluence.selection import (
    InfluenceFilter,
    InfluenceRelabeler,
    LeverageSampler,
    OptimalSubsampler,
    UIDSSampler,
)


def _timed(fn, repeat=1):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="n = 100,000")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--p", type=int, default=50)
    ap.add_argument("--n-val", type=int, default=500)
    ap.add_argument("--fraction", type=float, default=0.01)
    args = ap.parse_args()
    n = args.n or (100_000 if args.quick else 1_000_000)
    p = args.p
    rng = np.random.default_rng(0)
    X = rng.standard_t(4, size=(n + args.n_val, p))
    beta = rng.normal(size=p) / np.sqrt(p)
    eta = X @ beta
    y_reg = eta + (1 + np.abs(X[:, 0])) * rng.normal(size=n + args.n_val)
    y_clf = (rng.random(n + args.n_val) < 1 / (1 + np.exp(-eta))).astype(int)
    Xv, yv_clf = X[n:], y_clf[n:]
    X, y_reg, y_clf = X[:n], y_reg[:n], y_clf[:n]
    print(f"n = {n:,}, p = {p}, validation rows = {args.n_val}, fraction = {args.fraction}")

    t_lin = _timed(lambda: LinearRegression().fit(X, y_reg))
    t_log = _timed(lambda: LogisticRegression().fit(X, y_clf))
    print(f"peer: LinearRegression.fit   {t_lin:8.2f} s")
    print(f"peer: LogisticRegression.fit {t_log:8.2f} s")

    cases = [
        ("LeverageSampler(blev)", LeverageSampler(fraction=args.fraction, random_state=0),
         y_reg, None, t_lin),
        ("OptimalSubsampler(parameters), LinearRegression",
         OptimalSubsampler(LinearRegression(), fraction=args.fraction, random_state=0),
         y_reg, None, t_lin),
        ("OptimalSubsampler(prediction), LogisticRegression",
         OptimalSubsampler(LogisticRegression(), fraction=args.fraction,
                           criterion="prediction", random_state=0), y_clf, None, t_log),
        ("InfluenceFilter(cooks), LinearRegression",
         InfluenceFilter(LinearRegression(), score="cooks"), y_reg, None, t_lin),
        ("UIDSSampler(0.6), LogisticRegression",
         UIDSSampler(LogisticRegression(), fraction=0.6, random_state=0), y_clf, True, t_log),
        ("InfluenceFilter(validation), LogisticRegression",
         InfluenceFilter(LogisticRegression()), y_clf, True, t_log),
        ("InfluenceRelabeler, LogisticRegression",
         InfluenceRelabeler(LogisticRegression(), n_relabel=0.01), y_clf, True, t_log),
    ]
    print(f"\n{'selector':52s} {'time (s)':>9s} {'peer fit (s)':>13s} {'ratio':>7s}")
    worst = 0.0
    for name, sel, y, val, t_peer in cases:
        kw = {"X_val": Xv, "y_val": yv_clf} if val else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = _timed(lambda: sel.fit_resample(X, y, **kw))
        worst = max(worst, t / t_peer)
        print(f"{name:52s} {t:9.2f} {t_peer:13.2f} {t / t_peer:7.2f}x")
    print(f"\nworst ratio {worst:.2f}x (target: <= 3x one fit of the final model)")


if __name__ == "__main__":
    main()
