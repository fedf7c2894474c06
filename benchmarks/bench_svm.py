"""Fit time of SmoothHingeSVC vs LogisticRegression(solver="lbfgs"), side by side.

Same data, same C, same run, each fit timed ``--repeat`` times (best kept):

* dense:  n = 200,000, p = 100, Gaussian features
* sparse: n = 100,000, p = 50,000 CSR, text-like (Zipf-distributed word
  frequencies, ~60 words per row, tf-idf-like values, rows L2-normalized)

SmoothHingeSVC runs at its defaults (temperature 0.1, tol 1e-6) and at
LogisticRegression's tol = 1e-4 (both solvers stop on the largest entry of the
gradient of the mean-loss-scaled objective, so equal tol is like for like).
Target: within 3x of LogisticRegression.

Full run:   python benchmarks/bench_svm.py
Quick run:  python benchmarks/bench_svm.py --quick      (n / 10, p_sparse / 10)
"""

import argparse
import time

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from skinfluence.svm import SmoothHingeSVC


def dense_data(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = rng.standard_normal(p) / np.sqrt(p)
    y = (X @ w + 0.5 * rng.standard_normal(n) > 0).astype(int)
    return X, y


def text_data(n, p, words_per_row=60, seed=0):
    rng = np.random.default_rng(seed)
    freq = 1.0 / np.arange(1, p + 1) ** 1.1
    freq /= freq.sum()
    nnz = rng.poisson(words_per_row, size=n).clip(1)
    indptr = np.concatenate([[0], np.cumsum(nnz)])
    cols = rng.choice(p, size=indptr[-1], p=freq)
    vals = np.log1p(rng.poisson(1.0, size=indptr[-1]) + 1.0) * np.log(1.0 / freq[cols])
    X = sp.csr_matrix((vals, cols, indptr), shape=(n, p))
    X.sum_duplicates()
    X = sp.csr_matrix(X.multiply(1.0 / np.sqrt(X.multiply(X).sum(axis=1))))
    w = rng.standard_normal(p) * (rng.random(p) < 0.05) * 5
    margin = X @ w
    y = (margin + 0.3 * rng.standard_normal(n) > np.median(margin)).astype(int)
    return X, y


def best_time(make, X, y, repeat):
    best, est = np.inf, None
    for _ in range(repeat):
        est = make()
        t0 = time.perf_counter()
        est.fit(X, y)
        best = min(best, time.perf_counter() - t0)
    return best, est


def run(name, X, y, C, repeat):
    print(f"\n{name}: n={X.shape[0]:,} p={X.shape[1]:,}"
          + (f" nnz={X.nnz:,}" if sp.issparse(X) else "") + f", C={C}")
    t_lr, lr = best_time(lambda: LogisticRegression(C=C, solver="lbfgs", max_iter=1000), X, y, repeat)
    acc = lambda e: np.mean(e.predict(X) == y)  # noqa: E731
    print(f"  {'LogisticRegression(lbfgs, tol=1e-4)':<40} {t_lr:8.3f} s  n_iter={int(np.max(lr.n_iter_)):4d}"
          f"  train acc={acc(lr):.4f}  (peer)")
    for label, kw in [("SmoothHingeSVC(defaults, tol=1e-6)", {}),
                      ("SmoothHingeSVC(tol=1e-4)", {"tol": 1e-4}),
                      ("SmoothHingeSVC(lbfgs, tol=1e-4)", {"tol": 1e-4, "solver": "lbfgs"})]:
        t, svc = best_time(lambda: SmoothHingeSVC(C=C, **kw), X, y, repeat)  # noqa: B023
        print(f"  {label:<40} {t:8.3f} s  n_iter={svc.n_iter_:4d}  train acc={acc(svc):.4f}"
              f"  ratio vs LogisticRegression = {t / t_lr:.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n / 10 and p_sparse / 10")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (default: all)")
    args = parser.parse_args(argv)
    div = 10 if args.quick else 1
    with threadpool_limits(limits=args.threads):
        X, y = dense_data(200_000 // div, 100)
        run("dense", X, y, C=1.0, repeat=args.repeat)
        X, y = text_data(100_000 // div, 50_000 // div)
        run("sparse text-like", X, y, C=1.0, repeat=args.repeat)


if __name__ == "__main__":
    main()
