"""Benchmark: leverage + Cook's distance + loss_change on the torch backend (issue 7).

Least squares (the fitted coefficients come from the normal equations on the
device), float32 X. Timed, cold (the Hessian is built and factored inside):

1. ``inf.leverage``      eta, Hessian X'X (float32 GEMMs, float64 accumulation),
                         Cholesky, per-row quadratic forms (one more GEMM pass)
2. ``inf.cooks_distance`` on top of 1 (no further pass over X for least squares)
3. ``inf.loss_change(X_test, y_test)`` for ``--n-test`` test points (one pass)

On a GPU (default when CUDA is available): n = 10,000,000, p = 1,000, X generated
on the device (40 GB float32). Prints seconds per stage, the achieved TFLOP/s
(GEMM flops actually executed: 2 n p'^2 for X'X + 2 n p'^2 for the projection +
2 n p' (3 + n_test)) against the device's float32 peak (table below, or
``--peak-tflops``) and against a float32 GEMM measured in the same run, and the
ratio against the NumPy backend on this machine's CPU cores. The NumPy peer runs
at ``--numpy-n`` rows (default 1,000,000: at 10M rows its float64 upcast of X
would need 80 GB of host memory); the torch backend is timed at that size too
(like-for-like ratio), and the NumPy time is also extrapolated linearly in n
(every stage is O(n)) for the ratio at full size. The results of both backends at
``--numpy-n`` are compared (max relative difference) to show what float32 with
float64 accumulation costs in accuracy.

On CPU torch (no CUDA): n = 200,000, p = 200, torch and NumPy at the same size.

Run:  python benchmarks/bench_torch.py                 # full size for this machine
      python benchmarks/bench_torch.py --quick         # n = 20,000, p = 50 (seconds)
      python benchmarks/bench_torch.py --device cuda --n 10000000 --p 1000
"""

import argparse
import time

import numpy as np

import skinfluence

# float32 peak (dense, no tensor cores/TF32) in TFLOP/s, by device-name substring
PEAK_FP32_TFLOPS = [
    ("H200", 66.9),
    ("H100 PCIe", 51.2),
    ("H100", 66.9),
    ("GH200", 66.9),
    ("A100", 19.5),
    ("L40S", 91.6),
    ("L4", 30.3),
    ("A10", 31.2),
    ("V100", 15.7),
    ("T4", 8.1),
    ("RTX 4090", 82.6),
]


def device_peak(torch, device):
    if device.type != "cuda":
        return None, "CPU"
    name = torch.cuda.get_device_name(device)
    for key, peak in PEAK_FP32_TFLOPS:
        if key in name:
            return peak, name
    return None, name


def sync(torch, device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measured_gemm_tflops(torch, device, p, rows=16384, repeat=5):
    """float32 X'X on a (rows, p) block: the GEMM rate this device reaches here."""
    A = torch.randn(rows, p, device=device, dtype=torch.float32)
    A.T @ A
    sync(torch, device)
    t = time.perf_counter()
    for _ in range(repeat):
        A.T @ A
    sync(torch, device)
    return 2.0 * rows * p * p * repeat / (time.perf_counter() - t) / 1e12


def make_problem_torch(torch, n, p, n_test, device, seed=0):
    g = torch.Generator(device=device).manual_seed(seed)
    X = torch.randn(n + n_test, p, device=device, dtype=torch.float32, generator=g)
    beta = torch.randn(p, device=device, dtype=torch.float32, generator=g) / p**0.5
    y = X @ beta + 0.5 + torch.randn(n + n_test, device=device, dtype=torch.float32, generator=g)
    y = y.to("cpu", torch.float64).numpy()
    return X[:n], y[:n], X[n:], y[n:]


def make_problem_numpy(n, p, n_test, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n + n_test, p), dtype=np.float32)
    beta = rng.standard_normal(p) / np.sqrt(p)
    y = X @ beta + 0.5 + rng.standard_normal(n + n_test)
    return X[:n], y[:n], X[n:], y[n:]


def ols_estimator(X, y, backend):
    """A fitted stock LinearRegression from the normal equations (on ``backend``)."""
    from sklearn.linear_model import LinearRegression

    be = skinfluence.backends.get_backend(backend)
    G = be.weighted_gram(X, np.ones(X.shape[0]), True)
    b = be.design_rmatmul(X, y, True)
    theta = np.linalg.solve(G, b)
    est = LinearRegression()
    est.intercept_, est.coef_, est.n_features_in_ = theta[0], theta[1:], X.shape[1]
    return est


def run_stages(est, X, y, Xte, yte, backend):
    """Seconds of each stage and the results (cold: nothing cached before)."""
    out, times = {}, {}
    t0 = time.perf_counter()
    inf = skinfluence.influence(est, X, y, backend=backend)
    out["leverage"] = inf.leverage
    t1 = time.perf_counter()
    out["cooks_distance"] = inf.cooks_distance
    t2 = time.perf_counter()
    if hasattr(inf, "loss_change"):
        out["loss_change"] = inf.loss_change(Xte, yte)
    t3 = time.perf_counter()
    times = {"leverage": t1 - t0, "cooks_distance": t2 - t1, "loss_change": t3 - t2}
    times["total"] = t3 - t0
    return times, out


def flops(n, p, n_test):
    q = p + 1
    return 4.0 * n * q * q + 2.0 * n * q * (3 + n_test)


def rel_diff(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def report(label, times, n, p, n_test, peak=None, gemm=None):
    tf = flops(n, p, n_test) / times["total"] / 1e12
    parts = ", ".join(f"{k} {v:.3f} s" for k, v in times.items() if k != "total")
    line = f"  {label:<34} total {times['total']:8.3f} s  ({parts});  {tf:.3g} TFLOP/s"
    if peak:
        line += f" = {100 * tf / peak:.0f}% of peak {peak} TFLOP/s"
    if gemm:
        line += f", {100 * tf / gemm:.0f}% of measured GEMM {gemm:.1f} TFLOP/s"
    print(line)
    return tf


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="n=20,000, p=50")
    ap.add_argument("--device", default=None, help="torch device (default: cuda if available)")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--p", type=int, default=None)
    ap.add_argument("--n-test", type=int, default=10)
    ap.add_argument("--numpy-n", type=int, default=None,
                    help="rows for the NumPy peer (default: min(n, 1,000,000))")
    ap.add_argument("--working-memory", type=float, default=None,
                    help="MiB per chunk (default 2048 on a GPU, else the config's)")
    ap.add_argument("--peak-tflops", type=float, default=None)
    ap.add_argument("--precision", default="mixed", choices=["mixed", "float64"])
    args = ap.parse_args(argv)

    import torch

    from skinfluence.backends._torch import TorchBackend

    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    gpu = device.type == "cuda"
    if args.quick:
        n, p = 20_000, 50
    else:
        n, p = (10_000_000, 1_000) if gpu else (200_000, 200)
    n = args.n or n
    p = args.p or p
    n_np = min(n, args.numpy_n or 1_000_000)
    wm = args.working_memory or (2048 if gpu else None)
    if wm:
        skinfluence.set_config(working_memory=wm)
    be = TorchBackend(device=device, precision=args.precision)
    peak, name = device_peak(torch, device)
    peak = args.peak_tflops or peak
    gemm = measured_gemm_tflops(torch, device, p) if gpu else None
    print(f"device: {name} ({device}); torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads; precision={args.precision}; "
          f"working_memory={skinfluence.get_config()['working_memory']} MiB")
    print(f"least squares, float32 X, n_test={args.n_test}; "
          f"flops counted: 4 n p'^2 + 2 n p' (3 + n_test)")

    # 1. full size on the torch device, data generated there
    print(f"\n[1] torch backend, n={n:,}, p={p:,}, X generated on {device}")
    X, y, Xte, yte = make_problem_torch(torch, n, p, args.n_test, device)
    # the test points are tiny: hand them over as host arrays (loss_change forms
    # their dense (p', n_test) gradients on the host)
    Xte = Xte.cpu().numpy()
    est = ols_estimator(X, y, be)
    be_run = TorchBackend(device=device, precision=args.precision)
    sync(torch, device)
    t_full, _ = run_stages(est, X, y, Xte, yte, be_run)
    report("torch (device data)", t_full, n, p, args.n_test, peak, gemm)
    del X
    if gpu:
        torch.cuda.empty_cache()

    # 2. the NumPy peer on the CPU, and torch on the same data
    print(f"\n[2] NumPy backend vs torch backend on the same data, n={n_np:,}, p={p:,}")
    Xn, yn, Xten, yten = make_problem_numpy(n_np, p, args.n_test)
    est_n = ols_estimator(Xn, yn, "numpy")
    t_np, r_np = run_stages(est_n, Xn, yn, Xten, yten, "numpy")
    report("numpy (host data)", t_np, n_np, p, args.n_test)
    Xd = torch.from_numpy(Xn).to(device)
    sync(torch, device)
    t_td, r_td = run_stages(est_n, Xd, yn, Xten, yten, TorchBackend(device, args.precision))
    report("torch (device data)", t_td, n_np, p, args.n_test, peak, gemm)
    del Xd
    t_th, _ = run_stages(est_n, Xn, yn, Xten, yten, TorchBackend(device, args.precision))
    report("torch (host NumPy data, streamed)", t_th, n_np, p, args.n_test, peak, gemm)
    diffs = ", ".join(f"{k} {rel_diff(r_td[k], r_np[k]):.1e}" for k in r_np)
    print(f"  max relative difference torch vs numpy: {diffs}")

    print("\nratios (NumPy seconds / torch seconds):")
    print(f"  same data, n={n_np:,}: device data {t_np['total'] / t_td['total']:.1f}x, "
          f"host data {t_np['total'] / t_th['total']:.1f}x")
    if n != n_np:
        t_np_full = t_np["total"] * n / n_np
        print(f"  n={n:,}: NumPy extrapolated {t_np_full:.1f} s (linear in n) / torch "
              f"{t_full['total']:.2f} s = {t_np_full / t_full['total']:.1f}x")


if __name__ == "__main__":
    main()
