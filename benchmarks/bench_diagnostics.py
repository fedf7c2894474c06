"""Deletion diagnostics: skinfluence vs statsmodels, side by side in one run.

1. Unpenalized logistic regression, n = 1,000,000, p = 50: Cook's distance
   (skinfluence: ``influence(est, X, y).cooks_distance`` from a fitted estimator,
   validation included; statsmodels: ``GLMResults.get_influence().cooks_distance``).
   Target: >= 10x faster; peak extra memory <= 2x the size of X.
2. OLS, n = 20,000, p = 30: the full summary frame (DFBETAS, DFFITS, COVRATIO,
   external studentized residuals, Cook's, leverage) vs statsmodels'
   ``OLSInfluence.summary_frame()`` (which refits n times).

Usage::

    python benchmarks/bench_diagnostics.py            # full sizes (statsmodels OLS ~8 min)
    python benchmarks/bench_diagnostics.py --quick    # small sizes, a smoke run
"""

import argparse
import platform
import time
import tracemalloc

import numpy as np
import statsmodels.api as sm
from sklearn.linear_model import LinearRegression, LogisticRegression

import skinfluence


def _timeit(fn, repeat=1):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def bench_logistic(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    beta = rng.normal(scale=0.3, size=p)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.2 + X @ beta)))).astype(float)
    est = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-10).fit(X, y)

    ours = lambda: skinfluence.influence(est, X, y).cooks_distance  # noqa: E731
    t_ours, cooks = _timeit(ours, repeat=3)
    tracemalloc.start()
    ours()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    Xc = sm.add_constant(X, prepend=True)
    res = sm.GLM(y, Xc, family=sm.families.Binomial()).fit(start_params=np.r_[est.intercept_, est.coef_.ravel()], maxiter=3)
    t_sm, sm_cooks = _timeit(lambda: res.get_influence().cooks_distance[0])
    rel = np.max(np.abs(cooks - sm_cooks)) / np.max(sm_cooks)
    print(f"[logistic n={n:,} p={p}] Cook's distance")
    print(f"  skinfluence  {t_ours:8.3f} s (median of 3)   peak extra memory {peak / 2**20:8.1f} MiB = {peak / X.nbytes:.2f} x size of X ({X.nbytes / 2**20:.0f} MiB)")
    print(f"  statsmodels  {t_sm:8.3f} s")
    print(f"  speed-up     {t_sm / t_ours:8.1f} x        max |diff| / max = {rel:.1e}")
    return t_ours, t_sm, peak / X.nbytes


def bench_ols(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = X @ rng.normal(size=p) + rng.standard_t(3, size=n)
    est = LinearRegression().fit(X, y)
    t_ours, frame = _timeit(lambda: skinfluence.influence(est, X, y).summary_frame(), repeat=3)
    res = sm.OLS(y, sm.add_constant(X, prepend=True)).fit()
    t_sm, sm_frame = _timeit(lambda: res.get_influence().summary_frame())
    rel = np.max(np.abs(frame["dffits"].to_numpy() - sm_frame["dffits"].to_numpy())) / np.max(np.abs(sm_frame["dffits"]))
    print(f"[OLS n={n:,} p={p}] full summary frame (DFBETAS, DFFITS, COVRATIO, rstudent, Cook's, hat)")
    print(f"  skinfluence  {t_ours:8.3f} s (median of 3)")
    print(f"  statsmodels  {t_sm:8.3f} s")
    print(f"  speed-up     {t_sm / t_ours:8.0f} x        max |dffits diff| / max = {rel:.1e}")
    return t_ours, t_sm


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    args = parser.parse_args(argv)
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{__import__('os').cpu_count()} cores; numpy {np.__version__}, statsmodels {sm.__version__}")
    if args.quick:
        bench_logistic(50_000, 20)
        bench_ols(1_000, 10)
    else:
        bench_logistic(1_000_000, 50)
        bench_ols(20_000, 30)


if __name__ == "__main__":
    main()
