"""Dask backend: overhead over the NumPy backend in memory, and an out-of-core table.

(b) in memory: leverage + Cook's distance of a least-squares fit on an n x 50
    float32 table, NumPy backend vs the dask backend (threaded scheduler, and a
    dask.distributed LocalCluster with processes=False), same machine, same data.
(a) out of core: the same table written to zarr on local disk (uncompressed
    float32), then ``da.from_zarr`` -> leverage and Cook's distance written to zarr
    (never gathered), compared with one sequential read of the table (the I/O
    floor: ``X.sum(axis=0)``), influence-sketch scores written to zarr, and an
    OptimalSubsampler subsample; peak RSS of
    each phase (each phase runs in its own process). Then the leverage pass with
    1 and 2 single-threaded workers (BLAS single-threaded) for a scaling point.

Usage::

    python benchmarks/bench_dask.py --n-mem 4000000 --n-disk 20000000 --dir /tmp/x

Every phase prints its wall time; the driver prints the ratios. The zarr data is
deleted at the end.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

P = 50
CHUNK_ROWS = 250_000
REPO = Path(__file__).resolve().parents[1]


def _rss_gib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _beta():
    return np.linspace(-1.0, 1.0, P)


def _make_block(block, block_info=None):
    """Deterministic rows of the synthetic table (seeded by the block's position)."""
    start = block_info[None]["array-location"][0][0]
    rng = np.random.default_rng(start)
    return rng.standard_normal(block.shape, dtype=np.float32)


def _target_block(Xb):
    rng = np.random.default_rng(int(abs(Xb[0, 0]) * 1e6))
    return (Xb @ _beta().astype(np.float32) + rng.standard_normal(Xb.shape[0])).astype(
        np.float64
    )


def _pilot_fit(X, y, n_pilot=100_000):
    from sklearn.linear_model import LinearRegression

    Xp = np.asarray(X[:n_pilot])
    yp = np.asarray(y[:n_pilot])
    # a pilot fit on the first rows: not the optimum of the whole table (issue 10's
    # fit check will warn); the diagnostics are those of these parameters
    return LinearRegression().fit(Xp, yp)


# -- phases (each in its own process) ---------------------------------------------------
def phase_memory(n):
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    import skinfluence

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, P), dtype=np.float32)
    y = X @ _beta().astype(np.float32) + rng.standard_normal(n)
    est = _pilot_fit(X, y)
    out = {"n": n, "gib_X": X.nbytes / 2**30}

    # the pilot fit is not the table's optimum: fit_check="warn" (the check still runs)
    def numpy_run():
        inf = skinfluence.influence(est, X, y, backend="numpy", fit_check="warn")
        return inf.leverage, inf.cooks_distance

    # wrapped once, outside the timings: da.from_array hashes X (~0.2 s per GiB; a
    # user's cost, not the backend's; name=False skips it)
    Xd = da.from_array(X, chunks=(CHUNK_ROWS, P))

    def dask_run():
        inf = skinfluence.influence(est, Xd, y, fit_check="warn")
        return dask.compute(inf.leverage, inf.cooks_distance)

    t = time.perf_counter()
    _, c_np = numpy_run()
    out["numpy_s"] = time.perf_counter() - t
    with dask.config.set(scheduler="threads", num_workers=1):  # the pure overhead
        t = time.perf_counter()
        dask_run()
        out["dask_1thread_s"] = time.perf_counter() - t
    with dask.config.set(scheduler="threads", num_workers=2):
        t = time.perf_counter()
        _, c_da = dask_run()
        out["dask_threaded_s"] = time.perf_counter() - t
    out["max_rel_diff"] = float(np.max(np.abs(c_da - c_np) / np.maximum(np.abs(c_np), 1e-300)))
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as cluster, Client(cluster):
        # X held by the cluster first (as data loaded there would be), not shipped
        # from the client with every graph
        Xd = Xd.persist()
        t = time.perf_counter()
        dask_run()
        out["dask_localcluster_s"] = time.perf_counter() - t
    out["peak_rss_gib"] = _rss_gib()
    return out


def phase_write(n, root):
    import dask.array as da

    X = da.zeros((n, P), dtype=np.float32, chunks=(CHUNK_ROWS, P)).map_blocks(
        _make_block, dtype=np.float32
    )
    y = X.map_blocks(_target_block, drop_axis=1, dtype=np.float64)
    t = time.perf_counter()
    da.to_zarr(X, str(root / "X.zarr"), compressors=None, overwrite=True)
    da.to_zarr(y, str(root / "y.zarr"), compressors=None, overwrite=True)
    return {"write_s": time.perf_counter() - t, "gib_X": n * P * 4 / 2**30,
            "peak_rss_gib": _rss_gib()}


def phase_read(root):
    import dask.array as da

    X = da.from_zarr(str(root / "X.zarr"))
    t = time.perf_counter()
    X.sum(axis=0, dtype=np.float64).compute()
    return {"read_s": time.perf_counter() - t, "peak_rss_gib": _rss_gib()}


def phase_diagnostics(root):
    import dask.array as da

    import skinfluence

    X = da.from_zarr(str(root / "X.zarr"))
    y = da.from_zarr(str(root / "y.zarr"))
    t = time.perf_counter()
    est = _pilot_fit(X, y)
    t_pilot = time.perf_counter() - t
    t = time.perf_counter()
    # y (one float per row) is gathered by the validation; the linear predictor is
    # kept in memory (8 bytes per row)
    inf = skinfluence.influence(est, X, y, fit_check="warn")
    h, c = inf.leverage, inf.cooks_distance
    da.compute(
        da.to_zarr(h, str(root / "leverage.zarr"), compute=False, overwrite=True),
        da.to_zarr(c, str(root / "cooks.zarr"), compute=False, overwrite=True),
    )
    out = {"diagnostics_s": time.perf_counter() - t, "pilot_fit_s": t_pilot,
           "peak_rss_gib": _rss_gib()}
    back = da.from_zarr(str(root / "cooks.zarr"))
    out["cooks_max"] = float(back.max().compute())
    return out


def phase_sketch(root, k):
    import dask.array as da

    from skinfluence.sketch import influence_sketch

    X = da.from_zarr(str(root / "X.zarr"))
    y = da.from_zarr(str(root / "y.zarr"))
    est = _pilot_fit(X, y)
    t = time.perf_counter()
    sk = influence_sketch(est, X, y, k=k, random_state=0, fit_check="warn")
    da.compute(
        da.to_zarr(sk.score, str(root / "score.zarr"), compute=False, overwrite=True),
        da.to_zarr(sk.cooks_distance, str(root / "sk_cooks.zarr"), compute=False,
                   overwrite=True),
    )
    out = {"sketch_s": time.perf_counter() - t, "peak_rss_gib": _rss_gib()}
    # the sketch ranks rows like the exact Cook's distance written by "diagnostics"
    from scipy.stats import spearmanr

    exact = da.from_zarr(str(root / "cooks.zarr"))[:200_000].compute()
    approx = da.from_zarr(str(root / "sk_cooks.zarr"))[:200_000].compute()
    out["spearman_first_2e5"] = float(spearmanr(exact, approx)[0])
    return out


def phase_subsample(root, r):
    import dask.array as da

    from skinfluence.selection import OptimalSubsampler

    X = da.from_zarr(str(root / "X.zarr"))
    y = da.from_zarr(str(root / "y.zarr")).compute()
    t = time.perf_counter()
    sampler = OptimalSubsampler(n_samples=r, n_pilot=100_000, random_state=0)
    Xs, _ = sampler.fit_resample(X, y)
    return {"subsample_s": time.perf_counter() - t, "subsample_rows": int(Xs.shape[0]),
            "peak_rss_gib": _rss_gib()}


def phase_scaling(root, workers):
    import dask.array as da
    from distributed import Client, LocalCluster

    import skinfluence

    X = da.from_zarr(str(root / "X.zarr"))
    y = da.from_zarr(str(root / "y.zarr")).compute()
    est = _pilot_fit(X, y)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster):
        t = time.perf_counter()
        inf = skinfluence.influence(est, X, y, fit_check="warn")
        float(inf.leverage.sum().compute())  # Hessian pass + leverage pass
        return {"workers": workers, "leverage_s": time.perf_counter() - t}


def _run_phase(args):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # one BLAS thread everywhere: parallelism comes from dask's threads/workers. On this
    # shared 2-core machine (load ~18) multithreaded OpenBLAS spins: a 1e6 x 50 Gram
    # took 23-28 s with its default threads and 1.0 s with one thread.
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    res = subprocess.run([sys.executable, __file__, "--phase", *map(str, args)],
                         check=True, capture_output=True, text=True, env=env)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    print(args[0], out, flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-mem", type=int, default=4_000_000)
    ap.add_argument("--n-disk", type=int, default=20_000_000)
    ap.add_argument("--subsample", type=int, default=1_000_000)
    ap.add_argument("--k", type=int, default=16, help="influence sketch columns")
    ap.add_argument("--dir", default="/tmp/skinfluence_bench_dask")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-disk", action="store_true")
    ap.add_argument("--phase", nargs="+")
    a = ap.parse_args()
    if a.phase:
        name, *rest = a.phase
        fn = {"memory": lambda: phase_memory(int(rest[0])),
              "write": lambda: phase_write(int(rest[0]), Path(rest[1])),
              "read": lambda: phase_read(Path(rest[0])),
              "diagnostics": lambda: phase_diagnostics(Path(rest[0])),
              "subsample": lambda: phase_subsample(Path(rest[0]), int(rest[1])),
              "sketch": lambda: phase_sketch(Path(rest[0]), int(rest[1])),
              "scaling": lambda: phase_scaling(Path(rest[0]), int(rest[1]))}[name]
        print(json.dumps(fn()))
        return
    print("load average:", os.getloadavg(), flush=True)
    if not a.skip_memory:
        m = _run_phase(["memory", a.n_mem])
        print(f"(b) in memory {a.n_mem:.0e} x {P} float32: numpy {m['numpy_s']:.1f} s, "
              f"dask 1 thread {m['dask_1thread_s']:.1f} s "
              f"(ratio {m['dask_1thread_s'] / m['numpy_s']:.2f}), "
              f"dask 2 threads {m['dask_threaded_s']:.1f} s "
              f"(ratio {m['dask_threaded_s'] / m['numpy_s']:.2f}), dask LocalCluster "
              f"{m['dask_localcluster_s']:.1f} s "
              f"(ratio {m['dask_localcluster_s'] / m['numpy_s']:.2f})", flush=True)
    if not a.skip_disk:
        root = Path(a.dir)
        root.mkdir(parents=True, exist_ok=True)
        try:
            w = _run_phase(["write", a.n_disk, root])
            r = _run_phase(["read", root])
            d = _run_phase(["diagnostics", root])
            k = _run_phase(["sketch", root, a.k])
            s = _run_phase(["subsample", root, a.subsample])
            s1 = _run_phase(["scaling", root, 1])
            s2 = _run_phase(["scaling", root, 2])
            print(f"(a) zarr {w['gib_X']:.1f} GiB: one read {r['read_s']:.1f} s, leverage + "
                  f"Cook's to zarr {d['diagnostics_s']:.1f} s (ratio "
                  f"{d['diagnostics_s'] / r['read_s']:.2f}), peak RSS "
                  f"{d['peak_rss_gib']:.2f} GiB; influence sketch (k={a.k}) score + "
                  f"Cook's to zarr {k['sketch_s']:.1f} s (ratio "
                  f"{k['sketch_s'] / r['read_s']:.2f}, peak RSS {k['peak_rss_gib']:.2f} GiB, "
                  f"Spearman with exact Cook's {k['spearman_first_2e5']:.3f}); optimal subsample of {s['subsample_rows']} "
                  f"rows {s['subsample_s']:.1f} s (ratio {s['subsample_s'] / r['read_s']:.2f}, "
                  f"peak RSS {s['peak_rss_gib']:.2f} GiB); leverage with 1 worker "
                  f"{s1['leverage_s']:.1f} s, 2 workers {s2['leverage_s']:.1f} s (speed-up "
                  f"{s1['leverage_s'] / s2['leverage_s']:.2f})", flush=True)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    print("load average:", os.getloadavg(), flush=True)


if __name__ == "__main__":
    main()
