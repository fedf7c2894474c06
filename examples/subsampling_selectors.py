"""Influence-based subsampling, filtering and relabeling, as pipeline steps.

Reproduces, averaged over seeds, the claims behind skinfluence.selection:

1. Ting & Brochu (2018): on heavy-tailed, heteroscedastic linear regression a
   1% optimal influence subsample estimates the coefficients better than a
   uniform or leverage-based (BLEV/SLEV, Ma et al. 2015) subsample.
2. UIDS (Wang et al. 2020): digits 1 vs 7 with 40% of the training labels
   flipped and a small *clean* validation set: keeping 60% of the rows by
   influence on the validation loss beats the full-data model. With a
   validation set as noisy as the training data it is worse: UIDS needs clean
   validation labels.
3. RDIA (Kong et al. 2022): flipping the labels of the most harmful rows gives
   a lower test log-loss than dropping the same rows.
4. Filtering: dropping the rows flagged as harmful (by validation-loss
   influence or Cook's distance) improves the validation error when
   outliers were injected.

It also shows the two ways to put a selector in a pipeline.

    python examples/subsampling_selectors.py
"""

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skinfluence.pipeline import ResampledEstimator
from skinfluence.selection import OptimalSubsampler, UIDSSampler

try:  # the evidence functions live with the tests; keep one copy of each experiment
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_selection_evidence import _coef_mse, _digits_1_vs_7, _outliers, _rdia, _uids_accuracy
except ImportError as exc:  # pragma: no cover
    raise SystemExit(f"run from a source checkout (needs tests/): {exc}")


def main():
    print("1. Ting & Brochu: coefficient MSE of a 1% subsample (n=20,000, p=5, 20 seeds)")
    for name, v in _coef_mse(20_000, 5, range(20)).items():
        print(f"   {name:8s} {v:.4f}")

    print("\n2. UIDS, digits 1 vs 7, 40% flipped training labels, keep 60% (10 seeds)")
    full, sub = _uids_accuracy(range(10))
    print(f"   clean validation (40 rows): full-data model {full:.3f}, UIDS subset {sub:.3f}")
    full, sub = _uids_accuracy(range(10), probability="linear")
    print(f"   linear probability:         full-data model {full:.3f}, UIDS subset {sub:.3f}")
    full, sub = _uids_accuracy(range(10), noisy_validation=True)
    print(f"   NOISY validation (40% flipped): full {full:.3f}, UIDS subset {sub:.3f}  <- worse")

    print("\n3. RDIA on breast cancer, 30% flipped labels: test log-loss (10 seeds)")
    for name, v in _rdia(range(10)).items():
        print(f"   {name:8s} {v:.4f}")

    print("\n4. Filtering, linear regression with 15 injected outliers in 300 rows")
    from sklearn.metrics import mean_squared_error

    from skinfluence.selection import InfluenceFilter

    for score in ("validation", "cooks"):
        full, filt = [], []
        for seed in range(10):
            Xtr, ytr, Xva, yva = _outliers(seed)
            full.append(mean_squared_error(yva, LinearRegression().fit(Xtr, ytr).predict(Xva)))
            kw = {"X_val": Xva, "y_val": yva} if score == "validation" else {}
            Xs, ys = InfluenceFilter(LinearRegression(), score=score).fit_resample(Xtr, ytr, **kw)
            filt.append(mean_squared_error(yva, LinearRegression().fit(Xs, ys).predict(Xva)))
        print(f"   {score:10s}: validation MSE full {np.mean(full):.3f} -> filtered {np.mean(filt):.3f}")

    print("\n5. In pipelines")
    X, y = _digits_1_vs_7()
    try:
        from imblearn.pipeline import make_pipeline as imb_make_pipeline

        import warnings

        # imblearn's Pipeline routes no fit parameters to fit_resample (without
        # metadata routing), so the sampler holds out 20% as validation and warns.
        pipe = imb_make_pipeline(UIDSSampler(fraction=0.6, random_state=0), LogisticRegression())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe.fit(X, y)
        print(f"   imblearn Pipeline: fitted on {pipe[0].sample_indices_.size} of {len(y)} rows;"
              f" predicts all {pipe.predict(X).shape[0]} rows")
        model = ResampledEstimator(UIDSSampler(fraction=0.6, random_state=0), LogisticRegression())
        model.fit(X[40:], y[40:], X_val=X[:40], y_val=y[:40])
        print(f"   ResampledEstimator with X_val: fitted on {model.sample_indices_.size} of"
              f" {len(y) - 40} rows")
    except ImportError:
        print("   (imbalanced-learn not installed: skipping its Pipeline)")
    rng = np.random.default_rng(0)
    Xr = rng.standard_t(3, size=(20_000, 5))
    yr = Xr @ np.ones(5) + (1 + np.abs(Xr[:, 0])) * rng.standard_t(3, size=20_000)
    model = make_pipeline(StandardScaler(),
                          ResampledEstimator(OptimalSubsampler(random_state=0), LinearRegression()))
    search = GridSearchCV(model, {"resampledestimator__sampler__n_samples": [200, 2000]}, cv=3)
    search.fit(Xr, yr)
    print(f"   GridSearchCV over the sample size: best {search.best_params_}")


if __name__ == "__main__":
    main()
