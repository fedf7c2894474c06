"""EK-FAC vs conjugate gradients for a wide multinomial model (issue 16).

Multinomial LogisticRegression with K classes on sparse text-like X (n rows,
p columns, ~60 non-zeros per row, rows L2-normalized): P = K (p + 1) parameters,
250,050 at K = 50, p = 5,000 -- far beyond the direct solver (a dense H of
500 GB). Influence of every training row on ``n_test`` test losses
(``loss_change``) with

* ``solver="cg"`` (tol 1e-6): one pass over X per iteration for all right-hand sides,
* ``solver="ekfac"``: two passes over X once, then small dense products per vector.

Printed: setup and solve time of each, their ratio, and the accuracy of EK-FAC
against CG (Pearson correlation of the loss_change matrices, and overlap of the
top-1% most helpful training rows per test point).

The model is fitted by lbfgs with a capped number of iterations: the solvers do
not need the exact optimum (both use the Hessian at the fitted parameters).

Full run:   python benchmarks/bench_ekfac.py                 (K=50, p=5000, n=100000)
Smaller:    python benchmarks/bench_ekfac.py --n 20000 --n-test 5
"""

import argparse
import time

import numpy as np
from bench_svm import text_data as svm_text_data
from sklearn.linear_model import LogisticRegression

import skinfluence


def text_data(n, p, K, seed=0):
    """bench_svm's sparse text-like X with K classes drawn from a sparse softmax model."""
    X, _ = svm_text_data(n, p, seed=seed)
    rng = np.random.default_rng(seed + 1)
    W = rng.standard_normal((p, K)) * (rng.random((p, K)) < 0.05) * 8
    eta = np.asarray(X @ W) + rng.gumbel(size=(n, K))
    return X, eta.argmax(axis=1)


def peak_rss_gb():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--p", type=int, default=5_000)
    ap.add_argument("--K", type=int, default=50)
    ap.add_argument("--n-test", type=int, default=5)
    ap.add_argument("--fit-iter", type=int, default=50)
    ap.add_argument("--cg-max-iter", type=int, default=500)
    ap.add_argument("--solvers", default="ekfac,cg", help="comma-separated subset of ekfac,cg")
    args = ap.parse_args()

    X, y = text_data(args.n + args.n_test, args.p, args.K)
    Xtr, ytr, Xte, yte = X[:args.n], y[:args.n], X[args.n:], y[args.n:]
    print(f"n={args.n:,} p={args.p:,} K={args.K} nnz/row={Xtr.nnz / args.n:.0f} "
          f"P={args.K * (args.p + 1):,} n_test={args.n_test}")
    t0 = time.perf_counter()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = LogisticRegression(C=10.0, max_iter=args.fit_iter).fit(Xtr, ytr)
    print(f"fit (lbfgs, {args.fit_iter} iterations max): {time.perf_counter() - t0:.1f} s")

    res = {}
    chosen = args.solvers.split(",")
    for solver, kw in (("ekfac", {}), ("cg", {"tol": 1e-6, "max_iter": args.cg_max_iter})):
        if solver not in chosen:
            continue
        c0 = time.process_time()
        t0 = time.perf_counter()
        inf = skinfluence.influence(est, Xtr, ytr, solver=solver, **kw)
        t_obj = time.perf_counter() - t0
        t0 = time.perf_counter()
        if solver == "ekfac":
            inf.solver.solve(np.zeros(inf.objective.n_params))   # setup: two passes, eighs
        t_setup = time.perf_counter() - t0
        t0 = time.perf_counter()
        lc = inf.loss_change(Xte, yte)
        t_solve = time.perf_counter() - t0
        extra = ""
        if solver == "cg":
            extra = (f", {inf.solver.n_iter_} iterations, relative residual "
                     f"{inf.solver.residual_:.2g}")
        print(f"{solver:6s} influence(): {t_obj:.2f} s  setup: {t_setup:.2f} s  "
              f"loss_change: {t_solve:.2f} s  total: {t_obj + t_setup + t_solve:.2f} s "
              f"(CPU {time.process_time() - c0:.1f} s){extra}")
        res[solver] = (t_obj + t_setup + t_solve, t_solve, lc)
        print(f"  peak RSS so far: {peak_rss_gb():.2f} GB")
    if len(res) < 2:
        return
    (te, se, a), (tc, sc, b) = res["ekfac"], res["cg"]
    r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    k = max(1, args.n // 100)
    overlap = np.mean([len(set(np.argsort(-a[t])[:k]) & set(np.argsort(-b[t])[:k])) / k
                       for t in range(a.shape[0])])
    print(f"total time CG / EK-FAC: {tc:.2f} s / {te:.2f} s = {tc / te:.1f}x; "
          f"per-solve (after setup) {sc:.2f} s / {se:.3f} s = {sc / se:.0f}x")
    print(f"accuracy EK-FAC vs CG: Pearson r = {r:.3f}, top-1% overlap = {overlap:.2f}")


if __name__ == "__main__":
    main()
