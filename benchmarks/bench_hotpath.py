"""The hot path against the hardware floor (issue 11, item 3), side by side in one run.

Each figure is the minimum over ``--repeat`` interleaved runs of skinfluence and of a
hand-written floor computed in the same process on the same data and fit:

* ``logistic``: ``skinfluence.influence(est, X, y).cooks_distance`` against the floor
  "one weighted Gram plus one row pass" (linear predictor, IRLS weights, the weighted
  Gram by a symmetric rank-k update, a Cholesky factor, then one pass computing
  ``C_i = ||L^-1 xt_i||^2`` and Cook's distance), and against statsmodels'
  ``GLMInfluence.cooks_distance`` at one size;
* ``ols``: ``summary_frame()`` of a least-squares fit against the floor that writes its
  n x p output (Gram, inverse, one GEMM into the frame's block, one row pass), with
  the peak memory beyond X and the output measured by ``tracemalloc``;
* ``float32``: float32 X computed in float32 (float64 accumulation) against the float64
  path and a single-precision floor;
* ``torch``: the torch backend on CPU against the NumPy backend.

Run with one BLAS thread (``OPENBLAS_NUM_THREADS=1``) on a shared machine: under load,
multithreaded OpenBLAS spins. Command::

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_hotpath.py --part all
"""

import argparse
import os
import time
import tracemalloc

import numpy as np
from scipy.linalg import blas, cho_solve, cholesky, solve_triangular
from sklearn.linear_model import LinearRegression, LogisticRegression

import skinfluence


def best(fns, repeat):
    """Minimum wall time of each callable over interleaved runs."""
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {name: min(v) for name, v in times.items()}


def peak_bytes(fn):
    """Peak bytes allocated while fn runs (NumPy reports to tracemalloc)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    out = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, out


def logistic_data(n, p, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)).astype(dtype)
    beta = rng.standard_normal(p) / np.sqrt(p)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ beta)))).astype(int)
    est = LogisticRegression(C=1.0, tol=1e-10, max_iter=1000).fit(X, y)
    return X, y, est


def _gram(A):
    """A' A by a symmetric rank-k update (the lower triangle is filled in)."""
    syrk = blas.dsyrk if A.dtype == np.float64 else blas.ssyrk
    G = syrk(1.0, A, trans=1, lower=1)
    return np.tril(G) + np.tril(G, -1).T


def logistic_floor(X, y, est, C=1.0, chunk=4096):
    """Cook's distance of a penalized logistic fit: one weighted Gram + one row pass.

    Both passes go over cache-sized row chunks with reused buffers (the fastest
    hand-written form measured here; whole-array temporaries were slower); the
    linear predictor and the IRLS weights are computed inside the Gram's pass.
    """
    n, p = X.shape
    dt = X.dtype
    b = est.coef_[0].astype(dt)
    b0 = dt.type(est.intercept_[0])
    w = np.empty(n, dtype=dt)
    mu = np.empty(n, dtype=dt)
    H = np.zeros((p + 1, p + 1))
    buf = np.empty((chunk, p + 1), dtype=dt)
    for s in range(0, n, chunk):
        Xc = X[s:s + chunk]
        m = Xc.shape[0]
        eta = Xc @ b
        eta += b0
        mc = mu[s:s + m]
        np.exp(-eta, out=mc)
        mc += 1
        np.reciprocal(mc, out=mc)
        wc = w[s:s + m]
        np.multiply(mc, 1 - mc, out=wc)
        A = buf[:m]
        np.sqrt(wc, out=A[:, 0])
        np.multiply(Xc, A[:, :1], out=A[:, 1:])
        H += A.T @ A
    H[1:, 1:] += np.eye(p) / C
    # C_i = ||xt_i U||^2 with U = L^-T upper triangular: a triangular product (trmm,
    # half the flops of a general one) on a copy of each chunk, the intercept's row
    # added as a shift
    U = solve_triangular(cholesky(H, lower=True), np.eye(p + 1), lower=True).T
    trmm = blas.dtrmm if dt == np.float64 else blas.strmm
    T = np.asfortranarray(U[1:, 1:], dtype=dt)
    shift = U[0, 1:].astype(dt)
    Cq = np.empty(n)
    Z = np.empty((chunk, p), dtype=dt)
    for s in range(0, n, chunk):
        Xc = X[s:s + chunk]
        m = Xc.shape[0]
        Zc = Z[:m]
        Zc[...] = Xc
        trmm(1.0, T, Zc.T, side=0, lower=0, trans_a=1, overwrite_b=1)
        Zc += shift
        Cq[s:s + m] = np.einsum("ij,ij->i", Zc, Zc)
    Cq += U[0, 0] ** 2
    h = w * Cq
    r = y - mu
    return r * r * Cq / ((1 - h) ** 2 * (p + 1))


def part_logistic(sizes, repeat, with_statsmodels):
    print("\n## logistic Cook's distance vs the floor (float64)")
    print("| n | p | floor | skinfluence (fit check on) | ratio | fit_check='off' | ratio |")
    print("|---|---|---|---|---|---|---|")
    for n, p in sizes:
        X, y, est = logistic_data(n, p)
        t = best({
            "floor": lambda: logistic_floor(X, y, est),
            "sk": lambda: skinfluence.influence(est, X, y).cooks_distance,
            "off": lambda: skinfluence.influence(est, X, y, fit_check="off").cooks_distance,
        }, repeat)
        d_sk = skinfluence.influence(est, X, y).cooks_distance
        d_fl = logistic_floor(X, y, est)
        rank = np.corrcoef(np.argsort(np.argsort(d_sk)), np.argsort(np.argsort(d_fl)))[0, 1]
        print(f"| {n:,} | {p} | {t['floor']:.3f} s | {t['sk']:.3f} s | {t['sk'] / t['floor']:.2f}x "
              f"| {t['off']:.3f} s | {t['off'] / t['floor']:.2f}x |  (Spearman vs floor {rank:.6f})")
        if with_statsmodels and (n, p) == with_statsmodels:
            import statsmodels.api as sm

            # statsmodels' unpenalized fit, started at the penalized optimum
            res = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial()).fit(
                start_params=np.r_[est.intercept_, est.coef_[0]], maxiter=3)

            def sm_cooks():
                return res.get_influence().cooks_distance[0]

            t2 = best({"sk": lambda: skinfluence.influence(est, X, y).cooks_distance,
                       "sm": sm_cooks}, 1)
            print(f"   statsmodels GLMInfluence.cooks_distance (its unpenalized fit) at "
                  f"{n:,} x {p}: {t2['sm']:.2f} s vs skinfluence {t2['sk']:.3f} s: "
                  f"{t2['sm'] / t2['sk']:.1f}x faster")


def ols_floor(X, y):
    """summary_frame's content for OLS, written into one (n, p + 1 + 5) block."""
    import pandas as pd

    n, p = X.shape
    q = p + 1
    Xt1 = X.sum(axis=0)
    G = np.empty((q, q))
    G[1:, 1:] = _gram(X)
    G[0, 0] = n
    G[0, 1:] = G[1:, 0] = Xt1
    L = cholesky(G, lower=True)
    rhs = np.r_[y.sum(), X.T @ y]
    beta = cho_solve((L, True), rhs)
    Ginv = cho_solve((L, True), np.eye(q))
    out = np.empty((n, q + 5), order="F")
    M = out[:, :q]
    np.matmul(X, Ginv[1:, :], out=M)
    M += Ginv[0, :]
    e = y - X @ beta[1:] - beta[0]
    h = np.einsum("ij,ij->i", M[:, 1:], X)
    h += M[:, 0]
    s2 = e @ e / (n - q)
    s2_i = ((n - q) * s2 - e * e / (1 - h)) / (n - q - 1)
    scale = e / ((1 - h) * np.sqrt(s2_i))
    M *= scale[:, None]
    M /= np.sqrt(np.diag(Ginv))
    out[:, q] = e * e * h / ((1 - h) ** 2 * q * s2)
    out[:, q + 1] = h
    out[:, q + 2] = e / np.sqrt(s2 * (1 - h))
    out[:, q + 3] = e / np.sqrt(s2_i * (1 - h))
    out[:, q + 4] = out[:, q + 3] * np.sqrt(h / (1 - h))
    cols = ["dfb_const"] + [f"dfb_x{j}" for j in range(p)] + [
        "cooks_d", "hat_diag", "standard_resid", "student_resid", "dffits"]
    return pd.DataFrame(out, columns=cols, copy=False)


def part_ols(n, p, repeat):
    print(f"\n## OLS summary_frame vs the floor that writes its output ({n:,} x {p}, float64)")
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, p))
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    est = LinearRegression().fit(X, y)
    t = best({
        "floor": lambda: ols_floor(X, y),
        "sk": lambda: skinfluence.influence(est, X, y).summary_frame(),
    }, repeat)
    pk_floor, fr_floor = peak_bytes(lambda: ols_floor(X, y))
    pk_sk, fr_sk = peak_bytes(lambda: skinfluence.influence(est, X, y).summary_frame())
    out_floor = fr_floor.memory_usage(index=False, deep=False).sum()
    out_sk = fr_sk.memory_usage(index=False, deep=False).sum()
    err = np.max(np.abs(fr_sk["cooks_d"].to_numpy() - fr_floor["cooks_d"].to_numpy()))
    xb = X.nbytes
    print(f"floor {t['floor']:.3f} s, skinfluence {t['sk']:.3f} s: {t['sk'] / t['floor']:.2f}x "
          f"(max |cooks_d difference| {err:.1e})")
    print(f"peak memory beyond X: floor {pk_floor / 2**20:.0f} MiB (output {out_floor / 2**20:.0f} MiB), "
          f"skinfluence {pk_sk / 2**20:.0f} MiB (output {fr_sk.shape[1]} columns, "
          f"{out_sk / 2**20:.0f} MiB); beyond its output: {(pk_sk - out_sk) / xb:.2f}x X "
          f"(floor {(pk_floor - out_floor) / xb:.2f}x X)")


def part_float32(n, p, repeat):
    print(f"\n## float32 X ({n:,} x {p}, logistic Cook's distance)")
    X32, y, est = logistic_data(n, p, dtype=np.float32)
    X64 = X32.astype(np.float64)
    t = best({
        "floor32": lambda: logistic_floor(X32, y, est),
        "floor64": lambda: logistic_floor(X64, y, est),
        "sk32": lambda: skinfluence.influence(est, X32, y).cooks_distance,
        "sk64": lambda: skinfluence.influence(est, X64, y).cooks_distance,
    }, repeat)
    d32 = skinfluence.influence(est, X32, y).cooks_distance
    d64 = skinfluence.influence(est, X64, y).cooks_distance
    rel = np.max(np.abs(d32 - d64)) / np.max(d64)
    print(f"floor float32 {t['floor32']:.3f} s, float64 {t['floor64']:.3f} s; skinfluence float32 "
          f"{t['sk32']:.3f} s ({t['sk32'] / t['floor32']:.2f}x the float32 floor), float64 "
          f"{t['sk64']:.3f} s; float32 / float64 = {t['sk32'] / t['sk64']:.2f}; "
          f"max |D32 - D64| / max D = {rel:.1e}")


def part_torch(n, p, repeat):
    import torch

    torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", "0")) or torch.get_num_threads())
    print(f"\n## torch backend on CPU vs the NumPy backend ({n:,} x {p}, logistic Cook's distance)")
    print("| dtype | NumPy backend | torch backend | torch / NumPy |")
    print("|---|---|---|---|")
    for dt, tdt in ((np.float32, torch.float32), (np.float64, torch.float64)):
        X, y, est = logistic_data(n, p, dtype=dt)
        Xt = torch.from_numpy(X)
        t = best({
            "np": lambda: skinfluence.influence(est, X, y).cooks_distance,
            "torch": lambda: skinfluence.influence(est, Xt, y).cooks_distance,
        }, repeat)
        print(f"| {np.dtype(dt).name} | {t['np']:.3f} s | {t['torch']:.3f} s | {t['torch'] / t['np']:.2f}x |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", default="all", choices=["all", "logistic", "ols", "float32", "torch"])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    a = ap.parse_args()
    print(f"load average {os.getloadavg()}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    big = 10**5 if a.quick else 10**6
    if a.part in ("all", "logistic"):
        sizes = ([(3 * 10**4, 10), (10**5, 50)] if a.quick else
                 [(3 * 10**5, 10), (10**6, 10), (3 * 10**6, 10), (3 * 10**5, 50), (10**6, 50)])
        part_logistic(sizes, a.repeat, with_statsmodels=sizes[-1])
    if a.part in ("all", "ols"):
        part_ols(big, 50, a.repeat)
    if a.part in ("all", "float32"):
        part_float32(big, 50, a.repeat)
    if a.part in ("all", "torch"):
        part_torch(big, 50, a.repeat)


if __name__ == "__main__":
    main()
