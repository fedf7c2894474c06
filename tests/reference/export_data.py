"""Export the reference datasets used by the R-parity tests.

Builds every dataset from data shipped inside scikit-learn / statsmodels (no
network needed) and writes one CSV per dataset into ``data/`` plus a
``data/manifest.csv`` describing how each one is to be fitted.  The CSVs use
``%.17g`` so that every float round-trips exactly through R's ``read.csv`` and
through ``numpy``/``pandas``.

CSV layout: column ``y`` (response), then the design columns (no intercept
column; the intercept is added by the model formula / estimator unless
``intercept`` is 0 in the manifest).  Prior weights are not stored: weighted
variants use w_i = 1 + (i % 3), i the 0-based row index (see MANIFEST).

Run from anywhere:  python tests/reference/export_data.py
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import statsmodels.api as sm
from sklearn.datasets import load_breast_cancer, load_diabetes

DATA_DIR = Path(__file__).resolve().parent / "data"

# name, data file (data/<data>.csv), family, link, has weights, has intercept.
# Weighted variants and the no-intercept variant reuse the unweighted CSV (to
# keep data/ small); the prior weights are *generated* identically in R and in
# the tests: w_i = 1 + (i % 3) with i the 0-based row index.
MANIFEST = [
    ("lm_diabetes", "diabetes", "gaussian_lm", "identity", 0, 1),
    ("lm_diabetes_w", "diabetes", "gaussian_lm", "identity", 1, 1),
    ("lm_diabetes_noint", "diabetes", "gaussian_lm", "identity", 0, 0),
    ("binom_cancer", "cancer", "binomial", "logit", 0, 1),
    ("binom_cancer_w", "cancer", "binomial", "logit", 1, 1),
    ("poisson_cpunish", "cpunish", "poisson", "log", 0, 1),
    ("gamma_scotland", "scotland", "Gamma", "log", 0, 1),
    ("gamma_scotland_w", "scotland", "Gamma", "log", 1, 1),
]


def _zscore(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    return (X - X.mean(axis=0)) / X.std(axis=0, ddof=0)


def _clean(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]", "_", str(name))


def _write(name: str, X, y, colnames) -> None:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    header = ["y"] + [_clean(c) for c in colnames]
    path = DATA_DIR / f"{name}.csv"
    with path.open("w", newline="") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(header)
        for i in range(len(y)):
            row = [y[i]] + list(X[i])
            wr.writerow(["%.17g" % v for v in row])
    print(f"wrote {path} ({X.shape[0]} x {X.shape[1]})")


def main() -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)

    # 1-3: diabetes (as shipped: already centred/scaled by sklearn)
    d = load_diabetes()
    X, y, cols = d.data, d.target, d.feature_names
    _write("diabetes", X, y, cols)

    # 4-5: breast cancer, 4 columns z-scored
    bc = load_breast_cancer()
    sel = ["mean radius", "mean texture", "mean smoothness", "mean symmetry"]
    idx = [list(bc.feature_names).index(c) for c in sel]
    Xb = _zscore(bc.data[:, idx])
    _write("cancer", Xb, bc.target, sel)

    # 6: cpunish, INCOME -> log(INCOME), all columns z-scored
    cp = sm.datasets.cpunish.load_pandas()
    ex = cp.exog.copy()
    ex["INCOME"] = np.log(ex["INCOME"])
    ex = ex.rename(columns={"INCOME": "LOG_INCOME"})
    _write("cpunish", _zscore(ex.to_numpy()), cp.endog.to_numpy(), ex.columns)

    # 7-8: scotland, exog z-scored
    sc = sm.datasets.scotland.load_pandas()
    Xs = _zscore(sc.exog.to_numpy())
    _write("scotland", Xs, sc.endog.to_numpy(), sc.exog.columns)

    with (DATA_DIR / "manifest.csv").open("w", newline="") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(["name", "data", "family", "link", "weights", "intercept"])
        wr.writerows(MANIFEST)
    print("wrote manifest.csv")


if __name__ == "__main__":
    main()
