"""How far can the influence of a linear SVM be trusted? (Koh & Liang 2017, Fig. 3)

Two protocols on digits 1 vs 7 from ``load_digits`` (pixels scaled to [0, 1], no
intercept, lambda = 0.01 in Koh & Liang's convention "mean loss + lambda/2
||w||^2", i.e. C = 1 / (lambda * n_train) in the SVM's "1/2 ||w||^2 + C sum
loss"; leave-one-out retraining keeps C fixed):

1. *The model's own influence*: fit ``SmoothHingeSVC`` at temperature t, pick
   the test point with the highest loss, predict the change of its loss when
   each training row is removed (``Influence.loss_change``), take the 100 rows
   with the largest predicted |change|, retrain without each at the same t and
   correlate predicted with actual changes. Swept over t next to the test
   accuracy.
2. *The paper's protocol*: fit a stock ``LinearSVC(loss="hinge")``, predict with
   ``skinfluence.influence(svc, X, y, temperature=t)`` (smoothed-hinge Hessian and
   test-loss gradient at the hinge solution), and compare with the actual change
   of the test point's *hinge* loss after retraining ``LinearSVC`` without each
   row. The row "hinge" uses the hinge itself (second derivative 0 almost
   everywhere: the Hessian is the penalty alone), built directly on the engine
   because the public API refuses it.

Run: ``python examples/svm_influence_accuracy.py [--plot out.png] [--quick]``
(about 30 s; ``--quick`` uses 40 rows instead of 100).
"""

import argparse
import time
import warnings

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.svm import LinearSVC

import skinfluence
from skinfluence import Influence
from skinfluence._loss import SmoothHingeLoss
from skinfluence._model import LinearObjective
from skinfluence.svm import SmoothHingeSVC

LAMBDA = 0.01
SWEEP = (0.001, 0.01, 0.03, 0.1, 0.3, 1.0)
PAPER_TEMPERATURES = (0.001, 0.01, 0.1)


def load_1_vs_7(random_state=0):
    X, y = load_digits(return_X_y=True)
    keep = (y == 1) | (y == 7)
    X, y = X[keep] / 16.0, np.where(y[keep] == 1, 1, -1)
    return train_test_split(X, y, test_size=0.3, random_state=random_state, stratify=y)


def smooth_hinge_test_loss(coef, X, y, t):
    return SmoothHingeLoss(t).loss(y, X @ coef.ravel())


def top_rows(pred, n_rows):
    return np.argsort(-np.abs(pred), kind="stable")[:n_rows]


def own_influence(X, y, X_test, y_test, t, n_rows):
    """Protocol 1 at temperature t; returns a dict of the measured quantities."""
    C = 1.0 / (LAMBDA * X.shape[0])
    make = lambda: SmoothHingeSVC(C=C, temperature=t, fit_intercept=False, tol=1e-10,  # noqa: E731
                                  max_iter=5000)
    svc = make().fit(X, y)
    losses = smooth_hinge_test_loss(svc.coef_, X_test, y_test, t)
    j = int(np.argmax(losses))
    inf = svc.influence()
    pred = inf.loss_change(X_test[j:j + 1], y_test[j:j + 1])[0]
    newton = inf.loss_change(X_test[j:j + 1], y_test[j:j + 1], method="newton")[0]
    rows = top_rows(pred, n_rows)
    actual = np.empty(rows.size)
    keep = np.ones(X.shape[0], dtype=bool)
    for r, i in enumerate(rows):
        keep[i] = False
        fit_i = make().fit(X[keep], y[keep])
        keep[i] = True
        actual[r] = smooth_hinge_test_loss(fit_i.coef_, X_test[j:j + 1], y_test[j:j + 1], t)[0] - losses[j]
    return dict(
        t=t, accuracy=svc.score(X_test, y_test), test_index=j, rows=rows,
        predicted=pred[rows], newton=newton[rows], actual=actual,
        r=pearsonr(pred[rows], actual)[0], r_newton=pearsonr(newton[rows], actual)[0],
        rho=spearmanr(pred[rows], actual)[0],
    )


def hinge_influence(svc, X, y, X_test_j, y_test_j):
    """Predicted test-loss changes with the hinge itself (Hessian = penalty only)."""
    obj = LinearObjective(SmoothHingeLoss(0.0), X, y.astype(float), np.ones(X.shape[0]),
                          svc.coef_, np.zeros(1), False, penalty=1.0 / svc.C)
    inf = Influence(obj)
    g_test = obj.eta_gradient(X_test_j, y_test_j.astype(float))[0, 0] * X_test_j[0]
    u = inf.engine.solve(g_test, kind="observed")  # H^-1 grad l(z_test)
    return (X @ u) * inf.engine.g()[:, 0]           # grad l_test' H^-1 s_i grad l_i


def paper_protocol(X, y, X_test, y_test, n_rows):
    """Protocol 2: LinearSVC(hinge) fit, smoothed-hinge predictions, hinge retraining."""
    C = 1.0 / (LAMBDA * X.shape[0])
    make = lambda: LinearSVC(C=C, loss="hinge", fit_intercept=False, tol=1e-8,  # noqa: E731
                             max_iter=200_000, dual=True)
    svc = make().fit(X, y)
    hinge = lambda coef, Xt, yt: np.maximum(0.0, 1.0 - yt * (Xt @ coef.ravel()))  # noqa: E731
    # the test point with the smallest positive margin that is still wrong or inside it
    margins = y_test * (X_test @ svc.coef_.ravel())
    j = int(np.argmax(np.maximum(0.0, 1.0 - margins)))
    Xj, yj = X_test[j:j + 1], y_test[j:j + 1]
    base = hinge(svc.coef_, Xj, yj)[0]
    preds = {"hinge": hinge_influence(svc, X, y, Xj, yj)}
    for t in PAPER_TEMPERATURES:
        preds[t] = skinfluence.influence(svc, X, y, temperature=t).loss_change(Xj, yj)[0]
    cache = {}
    keep = np.ones(X.shape[0], dtype=bool)

    def actual(i):
        if i not in cache:
            keep[i] = False
            cache[i] = hinge(make().fit(X[keep], y[keep]).coef_, Xj, yj)[0] - base
            keep[i] = True
        return cache[i]

    out = {}
    for key, pred in preds.items():
        rows = top_rows(pred, n_rows)
        act = np.array([actual(i) for i in rows])
        out[key] = dict(r=pearsonr(pred[rows], act)[0], rho=spearmanr(pred[rows], act)[0],
                        predicted=pred[rows], actual=act)
    return out, svc.score(X_test, y_test), j


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", default=None, help="save the scatter plots to this PNG")
    parser.add_argument("--quick", action="store_true", help="40 rows instead of 100")
    args = parser.parse_args(argv)
    n_rows = 40 if args.quick else 100
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, X_test, y, y_test = load_1_vs_7()
    print(f"digits 1 vs 7: {X.shape[0]} training rows, {X_test.shape[0]} test rows, "
          f"{X.shape[1]} features; lambda = {LAMBDA} -> C = 1/(lambda n) = "
          f"{1 / (LAMBDA * X.shape[0]):.4f}; no intercept; top {n_rows} rows\n")

    print("1. SmoothHingeSVC's own influence (predicted vs retrained LOO change of the "
          "highest-loss test point's loss)")
    print(f"{'t':>7} {'test acc':>9} {'Pearson r':>10} {'Spearman':>9} {'r (newton)':>11} {'time s':>7}")
    sweep = []
    for t in SWEEP:
        t0 = time.perf_counter()
        res = own_influence(X, y, X_test, y_test, t, n_rows)
        sweep.append(res)
        print(f"{t:>7g} {res['accuracy']:>9.4f} {res['r']:>10.3f} {res['rho']:>9.3f} "
              f"{res['r_newton']:>11.3f} {time.perf_counter() - t0:>7.1f}")

    print("\n2. Koh & Liang's protocol: LinearSVC(loss='hinge'), predicted with the "
          "smoothed hinge at t, actual = hinge-loss change after hinge retraining")
    paper, acc, j = paper_protocol(X, y, X_test, y_test, n_rows)
    print(f"   (LinearSVC test accuracy {acc:.4f}; test point {j})")
    print(f"{'t':>7} {'Pearson r':>10} {'Spearman':>9}   paper (MNIST, ~13,000 rows)")
    ref = {"hinge": "low", 0.001: "0.95", 0.01: "-", 0.1: "0.91"}
    for key, res in paper.items():
        print(f"{key!s:>7} {res['r']:>10.3f} {res['rho']:>9.3f}   {ref[key]}")

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        panels = [(f"SmoothHingeSVC t={r['t']:g}: r={r['r']:.2f}", r) for r in sweep]
        panels += [(f"LinearSVC hinge, t={k}: r={v['r']:.2f}", v) for k, v in paper.items()]
        ncol = 5
        fig, axes = plt.subplots(2, ncol, figsize=(3.2 * ncol, 6.4))
        for ax, (title, r) in zip(axes.ravel(), panels):
            ax.scatter(r["actual"], r["predicted"], s=8)
            lim = np.abs(np.concatenate([r["actual"], r["predicted"]])).max() * 1.05
            ax.plot([-lim, lim], [-lim, lim], color="grey", lw=0.5)
            ax.set_title(title, fontsize=8)
            ax.set_xlabel("actual LOO change", fontsize=7)
            ax.set_ylabel("predicted", fontsize=7)
        for ax in axes.ravel()[len(panels):]:
            ax.axis("off")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=80)
        print(f"\nsaved {args.plot}")
    return sweep, paper


if __name__ == "__main__":
    main()
