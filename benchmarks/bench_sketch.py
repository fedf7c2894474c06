"""Benchmark for issue 5: influence sketching at the scale of the paper's corpus.

Part A -- sparse logistic regression, n = 2,000,000, p = 100,000, ~30 non-zeros
per row (Wojnowicz et al. 2016's malware corpus size): time of the influence
sketch (median of runs; the fit is timed separately) and peak memory (RSS of
the whole process, X included). The exact engine cannot run here (its Hessian
would be p x p = 80 GB) and statsmodels needs a dense exog: its size is stated.

Part B -- dense logistic regression, n = 1,000,000, p = 200: the exact Cook's
distance (skinfluence's engine, the peer) vs the sketch: time ratio, Spearman
correlation and recall of the exact top 1%. ``--statsmodels`` adds statsmodels'
``GLMResults.get_influence().cooks_distance`` on the same data.

Usage::

    python benchmarks/bench_sketch.py            # full size (issue 5 targets)
    python benchmarks/bench_sketch.py --quick    # about 1 minute on 2 cores
    python benchmarks/bench_sketch.py --part A   # only the sparse problem
"""

import argparse
import resource
import time

import numpy as np
import scipy.sparse as sp
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression

import skinfluence
from skinfluence.sketch import influence_sketch, sketch_objective


def peak_rss_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB


def sparse_problem(n, p, nnz_row, seed=0):
    """Binary CSR features (power-law column frequencies, like token counts)."""
    rng = np.random.default_rng(seed)
    nnz = n * nnz_row
    # Zipf-like column popularity keeps a few frequent and many rare features
    ranks = np.arange(1, p + 1, dtype=np.float64)
    prob = ranks**-0.8
    prob /= prob.sum()
    cols = np.searchsorted(np.cumsum(prob), rng.random(nnz)).astype(np.int32)
    np.minimum(cols, p - 1, out=cols)
    indptr = np.arange(0, nnz + 1, nnz_row, dtype=np.int64)
    X = sp.csr_matrix((np.ones(nnz), cols, indptr), shape=(n, p))
    X.sum_duplicates()
    beta = rng.standard_normal(p) * 0.5
    eta = X @ beta
    eta = (eta - eta.mean()) / (eta.std() + 1e-12) * 2.0
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.int8)
    flip = rng.choice(n, n // 100, replace=False)
    y[flip] = 1 - y[flip]
    return X, y


def dense_problem(n, p, seed=0):
    rng = np.random.default_rng(seed)
    scales = np.arange(1, p + 1, dtype=float) ** -1.0
    X = rng.standard_normal((n, p))
    X *= scales
    lev = rng.choice(n, n // 100, replace=False)
    X[lev] *= 6.0
    beta = rng.standard_normal(p) / scales * 0.3 / np.sqrt(p)
    beta[:10] = rng.standard_normal(10) * 2 / scales[:10]
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ beta)))).astype(int)
    flip = rng.choice(n, n // 50, replace=False)
    y[flip] = 1 - y[flip]
    return X, y


def recall(approx, exact, frac=0.01):
    m = max(1, int(frac * exact.shape[0]))
    top = np.argpartition(-exact, m - 1)[:m]
    return np.isin(np.argpartition(-approx, m - 1)[:m], top).mean()


def part_a(n, p, nnz_row, k, repeats, projection):
    print(f"== A: sparse logistic, n={n:,}, p={p:,}, ~{nnz_row} nnz/row, k={k}, "
          f"projection={projection!r}")
    t = time.perf_counter()
    X, y = sparse_problem(n, p, nnz_row)
    x_gb = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**30
    print(f"data: {time.perf_counter() - t:.1f} s, X (CSR) {x_gb:.2f} GiB, "
          f"nnz={X.nnz:,}; peak RSS {peak_rss_gb():.2f} GiB")
    t = time.perf_counter()
    est = LogisticRegression(C=10.0, max_iter=100).fit(X, y)
    fit_s = time.perf_counter() - t
    rss_fit = peak_rss_gb()
    print(f"fit (lbfgs, C=10): {fit_s:.1f} s; peak RSS after fit {rss_fit:.2f} GiB")
    times = []
    for r in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        res = influence_sketch(est, X, y, k=k, projection=projection, random_state=r)
        times.append(time.perf_counter() - t)
        parts = ", ".join(f"{key} {val:.1f} s" for key, val in res.timings.items())
        print(f"  sketch run {r}: {times[-1]:.1f} s wall, {time.process_time() - c:.1f} s "
              f"CPU (all threads) [{parts}]")
    med = float(np.median(times))
    rss = peak_rss_gb()
    dense_gb = n * p * 8 / 2**30
    print(f"influence_sketch: median {med:.1f} s (target <= 60 s), "
          f"sketch / fit time ratio {med / fit_s:.2f}")
    print(f"peak RSS (whole process, X included): {rss:.2f} GiB (target <= 6 GB); "
          f"after fit {rss_fit:.2f} GiB")
    print(f"statsmodels GLM needs a dense exog: {dense_gb:,.0f} GiB for X alone "
          f"({dense_gb / max(rss, 1e-9):,.0f}x our peak); exact Hessian p x p would be "
          f"{p * p * 8 / 2**30:,.0f} GiB")
    top = res.top(10)
    print(f"top-10 rows by score: {top.tolist()}")
    return med


def part_b(n, p, k, repeats, with_statsmodels):
    print(f"== B: dense logistic, n={n:,}, p={p}, k={k}")
    X, y = dense_problem(n, p)
    t = time.perf_counter()
    est = LogisticRegression(C=1.0, max_iter=300).fit(X, y)
    print(f"fit: {time.perf_counter() - t:.1f} s")
    ex_times = []
    for _ in range(repeats):
        t = time.perf_counter()
        exact = skinfluence.influence(est, X, y).cooks_distance
        ex_times.append(time.perf_counter() - t)
    ex = float(np.median(ex_times))
    print(f"exact Cook's distance (skinfluence engine): median {ex:.2f} s")
    for projection in ("gaussian", "sparse", "countsketch", "srht"):
        times = []
        for r in range(repeats):
            t = time.perf_counter()
            res = influence_sketch(est, X, y, k=k, projection=projection, random_state=r)
            times.append(time.perf_counter() - t)
        sk_t = float(np.median(times))
        rho = spearmanr(res.cooks_distance, exact)[0]
        print(f"  sketch {projection:12s}: {sk_t:6.2f} s, exact/sketch time ratio "
              f"{ex / sk_t:5.2f}x, Spearman {rho:.4f}, top-1% recall "
              f"{recall(res.cooks_distance, exact):.3f}")
    inf = skinfluence.influence(est, X, y)
    t = time.perf_counter()
    res = sketch_objective(inf.objective, k=k, projection="gaussian", random_state=0)
    print(f"  sketch on a built objective (no validation/adapter): "
          f"{time.perf_counter() - t:.2f} s")
    if with_statsmodels:
        import statsmodels.api as sm

        t = time.perf_counter()
        try:
            glm = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial())
            fitres = glm.fit(start_params=np.r_[est.intercept_, est.coef_[0]], maxiter=1)
            sm_cooks = fitres.get_influence().cooks_distance[0]
        except Exception as exc:  # e.g. LinAlgError from statsmodels' pinv of wexog
            print(f"  statsmodels failed after {time.perf_counter() - t:.1f} s: {exc!r}")
            print(f"peak RSS {peak_rss_gb():.2f} GiB")
            return
        sm_t = time.perf_counter() - t
        print(f"  statsmodels get_influence().cooks_distance (one IRLS step from our "
              f"fit): {sm_t:.1f} s; exact engine is {sm_t / ex:.1f}x faster, sketch "
              f"(last) {sm_t / sk_t:.1f}x; Spearman(sm, exact) "
              f"{spearmanr(sm_cooks, exact)[0]:.4f} (sm's fit is unpenalized)")
    print(f"peak RSS {peak_rss_gb():.2f} GiB")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced sizes (~1 minute)")
    ap.add_argument("--part", choices=["A", "B", "AB"], default="AB")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--k", type=int, default=256, help="sketch size for part A")
    ap.add_argument("--kb", type=int, default=50, help="sketch size for part B")
    ap.add_argument("--projection", default="sparse", help="projection for part A")
    ap.add_argument("--statsmodels", action="store_true", help="also time statsmodels in B")
    args = ap.parse_args()
    if args.quick:
        a = dict(n=200_000, p=20_000, nnz_row=30)
        b = dict(n=100_000, p=200)
    else:
        a = dict(n=2_000_000, p=100_000, nnz_row=30)
        b = dict(n=1_000_000, p=200)
    if "A" in args.part:
        part_a(**a, k=args.k, repeats=args.repeats, projection=args.projection)
    if "B" in args.part:
        part_b(**b, k=args.kb, repeats=args.repeats, with_statsmodels=args.statsmodels)


if __name__ == "__main__":
    main()
