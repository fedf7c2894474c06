"""Benchmark for issue 11: wide and sparse designs without a dense p x p Hessian.

Part A -- a TF-IDF text matrix (Zipf vocabulary), 3,000 documents x 10,544 terms,
L2 logistic regression: every diagnostic and ``self_influence`` through the exact
n x n kernel (dual) form chosen by ``strategy="auto"``, against the primal P x P
Cholesky form on the same data (``--primal``: slow, ~10 GB in the issue's
measurement, so off by default; a smaller vocabulary is compared instead) and a
hand-written dual leverage (the floor: one n x n Cholesky), all in one run.

Part B -- sparse CSR n = 100,000, p = 50,000, 30 non-zeros per row: the memory
guard (neither the P x P nor the n x n form fits: the engine warns and uses the
iterative strategy; leverage raises a MemoryError naming the options), the JL + CG
leverage estimator (``influence(..., leverage_method="sketch")``, unbiased, stated
relative standard deviation sqrt(2/k)) and the influence sketch's leverage (a lower
bound) against the exact leverage of 40 random rows computed by CG (40 right-hand
sides); first, at 20,000 x 2,000, the JL estimate against the exact leverage of
every row.

Run with ``OPENBLAS_NUM_THREADS=1`` on a shared machine: under heavy load, 2-thread
OpenBLAS GEMMs were measured 20-100x slower than 1-thread ones (spin-waiting
threads), which swamps every ratio.

Part C -- CG ``self_influence`` scaling in n (p = 50): time and counted
Hessian-vector products, n = 5,000 / 10,000 / 20,000, against the direct solver.

Part D -- influence sketch accuracy (Spearman against the exact Cook's distance)
vs k on a design with a mildly decaying spectrum: random subspace (today's), the
hat-matrix subspace (and its rescaled version), the unbiased JL + CG estimate, a
Hutch++-style split (hat subspace of k/2 + JL of the complement with k/2), and
two idealised noise laws (a uniformly random k-dim subspace, the JL law) that show
what a k-dimensional sketch can reach on these data. (Power iterations were
measured earlier and rank worse on this spectrum; see RESULTS.md.)

Usage::

    python benchmarks/bench_wide.py            # all parts
    python benchmarks/bench_wide.py --part A   # one part
"""

import argparse
import inspect
import os
import resource
import time
import warnings

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression

import skinfluence


def peak_rss_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def tfidf_problem(n_docs=3000, vocab=10544, mean_len=120, seed=0):
    """Documents with Zipf(1.07) word frequencies, TF-IDF weighted (l2 rows)."""
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, vocab + 1, dtype=np.float64)
    prob = ranks**-1.07
    prob /= prob.sum()
    lengths = rng.poisson(mean_len, size=n_docs) + 5
    cols = np.searchsorted(np.cumsum(prob), rng.random(lengths.sum()))
    np.minimum(cols, vocab - 1, out=cols)
    indptr = np.r_[0, np.cumsum(lengths)]
    counts = sp.csr_matrix((np.ones(cols.size), cols, indptr), shape=(n_docs, vocab))
    counts.sum_duplicates()
    X = TfidfTransformer().fit_transform(counts).tocsr()
    beta = np.zeros(vocab)
    topic = rng.choice(np.arange(50, 2000), 100, replace=False)
    beta[topic] = rng.normal(scale=8.0, size=100)
    eta = X @ beta
    y = (rng.random(n_docs) < 1 / (1 + np.exp(-(eta - np.median(eta))))).astype(int)
    return X, y


def dual_leverage_floor(X, est):
    """Hand-written leverage of an L2 logistic fit through the n x n kernel form."""
    C = est.C
    p_hat = est.predict_proba(X)[:, 1]
    w = C * p_hat * (1 - p_hat)  # normalized form: C * sum loss + 1/2 ||w||^2
    sw = np.sqrt(w)
    G = (X @ X.T).toarray()
    K = np.eye(X.shape[0]) + sw[:, None] * G * sw[None, :]
    L = scipy.linalg.cholesky(K, lower=True)
    Kinv = scipy.linalg.cho_solve((L, True), np.eye(X.shape[0]))
    u = sw
    Ku = Kinv @ u
    # h = 1 - diag(K^-1) + (K^-1 u)^2 / (u' K^-1 u)  (lambda = 1 in this scaling)
    return 1 - np.diag(Kinv) + Ku**2 / (u @ Ku)


def part_a(primal_vocab):
    print("== Part A: TF-IDF 3,000 x 10,544, L2 logistic regression ==")
    X, y = tfidf_problem()
    print(f"X: {X.shape}, nnz={X.nnz}, density={X.nnz / np.prod(X.shape):.4f}, "
          f"mean nnz/row={X.nnz / X.shape[0]:.0f}")
    t_fit, est = timed(lambda: LogisticRegression(C=1.0, max_iter=2000, tol=1e-8).fit(X, y))
    print(f"fit (lbfgs): {t_fit:.2f} s")
    t0 = time.perf_counter()
    inf = skinfluence.influence(est, X, y)
    print(f"strategy: {inf.engine.strategy} ({inf.engine.strategy_reason})")
    rows = []
    for name, fn in [
        ("leverage", lambda: inf.leverage),
        ("cooks_distance", lambda: inf.cooks_distance),
        ("loo_decision_function", lambda: inf.loo_decision_function()),
        ("dfbeta", lambda: inf.dfbeta),
        ("dfbetas", lambda: inf.dfbetas),
        ("self_influence", lambda: inf.self_influence),
    ]:
        t, _ = timed(fn)
        rows.append((name, t))
    total = time.perf_counter() - t0
    for name, t in rows:
        print(f"  {name:24s} {t:7.2f} s (incremental, cached factor)")
    print(f"  all of the above          {total:7.2f} s   peak RSS {peak_rss_gb():.2f} GiB")
    t_floor, h_floor = timed(lambda: dual_leverage_floor(X, est))
    err = np.max(np.abs(inf.leverage - h_floor))
    print(f"hand-written dual leverage (floor): {t_floor:.2f} s; max |h - h_floor| = {err:.2e}; "
          f"skinfluence leverage+cooks / floor = {(rows[0][1] + rows[1][1]) / t_floor:.2f}x")
    # primal vs dual where the primal is affordable: a smaller vocabulary
    Xs, ys = tfidf_problem(n_docs=1500, vocab=primal_vocab, seed=1)
    est_s = LogisticRegression(C=1.0, max_iter=2000, tol=1e-8).fit(Xs, ys)
    res = {}
    for strategy in ("dual", "primal"):
        def run(strategy=strategy):
            i = skinfluence.influence(est_s, Xs, ys, strategy=strategy)
            return i.leverage, i.cooks_distance, i.dfbeta, i.self_influence
        res[strategy] = timed(run)
    td, (hd, cd, dd, sd) = res["dual"]
    tp, (hp, cp, dp, spp) = res["primal"]
    rel = max(np.max(np.abs(a - b)) / np.max(np.abs(b))
              for a, b in [(hd, hp), (cd, cp), (dd, dp), (sd, spp)])
    print(f"1,500 x {primal_vocab}: dual {td:.2f} s vs primal {tp:.2f} s "
          f"(ratio {tp / td:.1f}x); max relative difference {rel:.1e}")


def sparse_problem(n, p, nnz_row, seed=0):
    """Binary CSR features, Zipf-like column popularity (as bench_sketch.py)."""
    rng = np.random.default_rng(seed)
    nnz = n * nnz_row
    prob = np.arange(1, p + 1, dtype=np.float64) ** -0.8
    prob /= prob.sum()
    cols = np.minimum(np.searchsorted(np.cumsum(prob), rng.random(nnz)), p - 1)
    indptr = np.arange(0, nnz + 1, nnz_row, dtype=np.int64)
    X = sp.csr_matrix((np.ones(nnz), cols.astype(np.int32), indptr), shape=(n, p))
    X.sum_duplicates()
    eta = X @ (rng.standard_normal(p) * 0.5)
    eta = (eta - eta.mean()) / (eta.std() + 1e-12) * 2.0
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return X, y


def _jl_vs_reference(h, h_ref, acc):
    ratio = h / h_ref
    lo, hi = acc["ratio_interval"]
    inside = np.mean((ratio >= lo) & (ratio <= hi))
    return (f"estimate/exact: mean {ratio.mean():.3f}, sd {ratio.std():.3f} (stated "
            f"{acc['relative_sd']:.3f}), median {np.median(ratio):.3f}, min {ratio.min():.3f}, "
            f"max {ratio.max():.3f}; inside the stated 95% interval [{lo:.2f}, {hi:.2f}]: "
            f"{100 * inside:.1f}% of {ratio.size} rows")


def part_b_small(n=20_000, p=2_000, k=128):
    """JL leverage against the exact (Cholesky) leverage of every row, where it fits."""
    print(f"== Part B (check): sparse CSR {n:,} x {p:,}, 30 nnz/row: JL k={k} vs exact ==")
    X, y = sparse_problem(n, p, 30, seed=1)
    est = LogisticRegression(C=1.0, max_iter=1000, tol=1e-8).fit(X, y)
    inf = skinfluence.influence(est, X, y)
    t_ex, h_ex = timed(lambda: inf.leverage)
    print(f"exact leverage (primal Cholesky, {inf.strategy}): {t_ex:.1f} s")
    hs = {}
    for tol in (1e-8, 1e-2, 1e-3):
        t_jl, jl = timed(lambda tol=tol: skinfluence.influence(
            est, X, y, leverage_method="sketch",
            leverage_options={"algorithm": "jl", "k": k, "tol": tol, "random_state": 0}))
        acc = jl.leverage_accuracy
        hs[tol] = jl.leverage
        cg_err = np.max(np.abs(jl.leverage / hs[1e-8] - 1))
        print(f"JL k={k}, tol={tol:g} ({acc['cg_iterations']} CG iterations, {t_jl:.1f} s; "
              f"max relative change against tol=1e-8 {cg_err:.1e}): "
              + _jl_vs_reference(jl.leverage, h_ex, acc))
    from scipy.stats import spearmanr

    print(f"Spearman(JL Cook's, exact Cook's) = "
          f"{spearmanr(jl.cooks_distance, inf.cooks_distance)[0]:.4f}")


def part_b(n=100_000, p=50_000, k=256, k_jl=64):
    print(f"== Part B: sparse CSR {n:,} x {p:,}, 30 nnz/row, L2 logistic: the memory guard ==")
    X, y = sparse_problem(n, p, 30)
    print(f"X: nnz={X.nnz:,} (density {X.nnz / n / p:.2e})")
    t_fit, est = timed(lambda: LogisticRegression(C=1.0, max_iter=300, tol=1e-6).fit(X, y))
    print(f"fit (lbfgs): {t_fit:.1f} s")
    # a loosely converged fit on purpose (300 lbfgs iterations): the fit check must only warn
    extra = {"fit_check": "warn"} if "fit_check" in inspect.signature(
        skinfluence.influence).parameters else {}
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        inf = skinfluence.influence(est, X, y, **extra)
        strategy = inf.engine.strategy
    msgs = [str(w.message)[:160] for w in rec if "strategy" in str(w.message)]
    print(f"strategy: {strategy}; warning: {msgs[0] if msgs else None}...")
    try:
        _ = inf.leverage
        print("leverage: computed?!")
    except MemoryError as exc:
        print(f"leverage -> {type(exc).__name__}: {str(exc)[:240]}...")
    # the JL + CG leverage through the front door (leverage_method="sketch" picks it here)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_jl, jl = timed(lambda: skinfluence.influence(
            est, X, y, leverage_method="sketch",
            leverage_options={"k": k_jl, "random_state": 0}, **extra))
    t_cooks, _ = timed(lambda: jl.cooks_distance)
    acc = jl.leverage_accuracy
    print(f"influence(..., leverage_method='sketch') -> JL k={k_jl}: {t_jl:.1f} s "
          f"(incl. the fit check; {acc['cg_iterations']} CG iterations, relative residual "
          f"{acc['cg_residual']:.1e}, {acc['hessian_vector_products']} Hessian-vector "
          f"products); cooks_distance then {t_cooks:.2f} s; peak RSS {peak_rss_gb():.2f} GiB")
    # exact leverage of 40 rows by CG (40 right-hand sides), the accuracy reference
    from skinfluence.sketch import sketch_objective
    rows = np.random.default_rng(0).choice(n, 40, replace=False)
    obj = inf.objective
    w = inf.engine.B("fisher")[:, 0, 0]
    V = inf._gradient_vectors(X[rows], np.ones((40, 1)))
    from skinfluence._solvers import CGSolver, HessianOperator

    cg = CGSolver(HessianOperator(obj, inf.engine.backend, inf.engine.B("fisher")), tol=1e-6)
    t_ref, U = timed(lambda: cg.solve(V))
    h_ref = w[rows] * np.einsum("ij,ij->j", V, U)
    print(f"reference: leverage of 40 random rows by CG (Fisher Hessian, relative residual "
          f"{cg.residual_:.1e}, {cg.n_iter_} iterations) in {t_ref:.1f} s")
    print(f"JL on the 40 rows: {_jl_vs_reference(jl.leverage[rows], h_ref, acc)}")
    t_sk, sk = timed(lambda: sketch_objective(obj, k=k, projection="sparse", random_state=0))
    ratio = sk.leverage[rows] / h_ref
    print(f"influence sketch k={k}: {t_sk:.1f} s; sketched/exact leverage on the 40 rows: "
          f"median {np.median(ratio):.3f}, min {ratio.min():.3f}, max {ratio.max():.3f} "
          f"(a lower bound); peak RSS {peak_rss_gb():.2f} GiB")


def part_c(p=50):
    print(f"== Part C: CG self_influence, dense logistic, p = {p}: scaling in n ==")
    for n in (5_000, 10_000, 20_000):
        rng = np.random.default_rng(0)
        X = rng.normal(size=(n, p))
        y = (X[:, 0] + rng.normal(size=n) > 0).astype(int)
        est = LogisticRegression(max_iter=1000).fit(X, y)
        cg = skinfluence.influence(est, X, y, solver="cg")
        t_cg, s_cg = timed(lambda cg=cg: cg.self_influence)
        direct = skinfluence.influence(est, X, y, solver="direct")
        t_d, s_d = timed(lambda direct=direct: direct.self_influence)
        err = np.max(np.abs(s_cg - s_d)) / np.max(s_d)
        print(f"n={n:6d}: CG {t_cg:.2f} s ({cg.solver.operator.n_vectors} Hessian-vector "
              f"products), direct {t_d:.2f} s, ratio {t_cg / t_d:.1f}x, max rel diff {err:.1e}")


def _hat_plus_complement(H, Xt, w, pen, k1, k2, rng):
    """Hutch++-style leverage: exact on a k1-dim hat subspace + JL (k2) of the complement.

    Dense reference implementation (p is small in part D): the subspace is
    range(H^-1 Xt' W^1/2 Psi) as in ``subspace="hat"``; the complement's share
    w_i ||Pi A (H^-1 - P_S) xt_i||^2 / k2 (A'A = H) is unbiased. Cost: k1 + k2
    right-hand sides of H (CG in a matrix-free implementation).
    """
    n = Xt.shape[0]
    sw = np.sqrt(w)
    h = np.zeros(n)
    P_S = np.zeros_like(H)
    if k1:
        Q, _ = np.linalg.qr(np.linalg.solve(H, Xt.T @ (sw[:, None] * rng.standard_normal((n, k1)))))
        P_S = Q @ np.linalg.solve(Q.T @ H @ Q, Q.T)
        Z = Xt @ Q
        h += w * np.einsum("ij,ji->i", Z, np.linalg.solve(Q.T @ H @ Q, Z.T))
    if k2:
        B = Xt.T @ (sw[:, None] * rng.standard_normal((n, k2)))
        B += np.sqrt(pen)[:, None] * rng.standard_normal((H.shape[0], k2))
        Y = np.linalg.solve(H, B) - P_S @ B
        h += w * np.sum((Xt @ Y) ** 2, axis=1) / k2
    return h


def part_d(n=20_000, p=200, seeds=3):
    print(f"== Part D: sketch accuracy vs k, mildly decaying spectrum (n={n:,}, p={p}) ==")
    from scipy.stats import spearmanr

    from skinfluence.sketch import influence_sketch, jl_leverage

    rng = np.random.default_rng(0)
    Qr, _ = np.linalg.qr(rng.normal(size=(p, p)))
    # singular values j^-1/2, heavy-tailed rows (leverage varies across rows)
    X = (rng.standard_t(3, size=(n, p)) * np.arange(1, p + 1) ** -0.5) @ Qr.T
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ (0.3 * rng.normal(size=p))))).astype(int)
    est = LogisticRegression(C=1.0, tol=1e-8, max_iter=1000).fit(X, y)
    inf = skinfluence.influence(est, X, y)
    t_ex, exact = timed(lambda: inf.cooks_distance)
    h_ex = inf.leverage
    obj = inf.objective
    w = inf.engine.B("fisher")[:, 0, 0]
    r2 = inf.engine.g()[:, 0] ** 2 / w
    d = obj.p_

    def cooks(h):  # Cook's distance up to a constant factor, from any leverage estimate
        h = np.clip(h, 0.0, 0.999)
        return r2 * h / (1 - h) ** 2

    def rho(h):
        return spearmanr(cooks(h), exact)[0]

    print(f"exact Cook's distance: {t_ex:.2f} s; Spearman(cooks(h_exact), exact) = "
          f"{rho(h_ex):.6f} (the formula used for the estimates below)")
    H = obj.hessian("fisher")
    Xt = np.hstack([np.ones((n, 1)), X])
    spread = np.std(np.log(h_ex))
    print(f"sd of log(exact leverage) across rows: {spread:.3f}; mean leverage "
          f"{h_ex.mean():.4f}; p' = {d}")
    methods = ["random (today)", "hat subspace", "hat, rescaled p'/k", "JL + CG (unbiased)",
               "hat k/2 + JL k/2 (Hutch++)", "ideal: Beta", "ideal: chi2_k/k"]
    print("k   | " + " | ".join(methods) + "  (Spearman vs exact Cook's, mean of "
          f"{seeds} seeds [min, max]; time of one run)")
    for k in (p // 10, p // 5, 2 * p // 5, 3 * p // 5):
        cells = {m: [] for m in methods}
        times = {}
        for seed in range(seeds):
            t, sk = timed(lambda k=k, seed=seed: influence_sketch(
                est, X, y, k=k, projection="gaussian", random_state=seed))
            cells["random (today)"].append(spearmanr(sk.cooks_distance, exact)[0])
            times["random (today)"] = t
            t, sk = timed(lambda k=k, seed=seed: influence_sketch(
                est, X, y, k=k, subspace="hat", random_state=seed))
            cells["hat subspace"].append(spearmanr(sk.cooks_distance, exact)[0])
            cells["hat, rescaled p'/k"].append(rho(sk.leverage * d / k))
            times["hat subspace"] = times["hat, rescaled p'/k"] = t
            t, h = timed(lambda k=k, seed=seed: jl_leverage(obj, k=k, random_state=seed))
            cells["JL + CG (unbiased)"].append(rho(h))
            times["JL + CG (unbiased)"] = t
            g = np.random.default_rng(100 + seed)
            cells["hat k/2 + JL k/2 (Hutch++)"].append(
                rho(_hat_plus_complement(H, Xt, w, obj.pen, k // 2, k - k // 2, g)))
            cells["ideal: Beta"].append(rho(h_ex * g.beta(k / 2, (d - k) / 2, size=n) * d / k))
            cells["ideal: chi2_k/k"].append(rho(h_ex * g.chisquare(k, size=n) / k))
        out = []
        for m in methods:
            v = np.array(cells[m])
            tt = f"; {times[m]:.2f} s" if m in times else ""
            out.append(f"{v.mean():.4f} [{v.min():.4f}, {v.max():.4f}]{tt}")
        print(f"{k:3d} | " + " | ".join(out))
    print("ideal: Beta = each row's leverage times an independent Beta(k/2, (p'-k)/2) p'/k "
          "factor (a uniformly random k-dim subspace of the whitened space); ideal: chi2_k/k "
          "= the JL law. Relative sd: Beta sqrt(2(p'-k)/(k(p'+2))), JL sqrt(2/k).")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=["A", "B", "C", "D"], default=None)
    ap.add_argument("--primal-vocab", type=int, default=3000)
    ap.add_argument("--k-jl", type=int, default=64, help="JL right-hand sides in part B")
    args = ap.parse_args()
    print(f"load average: {os.getloadavg()}")
    if args.part in (None, "A"):
        part_a(args.primal_vocab)
    if args.part in (None, "C"):
        part_c()
    if args.part in (None, "D"):
        part_d()
    if args.part in (None, "B"):
        part_b_small()
        part_b(k_jl=args.k_jl)


if __name__ == "__main__":
    warnings.simplefilter("default")
    main()
