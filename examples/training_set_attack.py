"""A training-set attack from influence functions (Koh & Liang 2017, section 5.2).

Goal: flip the model's prediction on one chosen test image by changing the
*pixels* of a few training images (labels untouched). ``Influence.pert_loss``
gives, without retraining, the gradient of the test image's loss with respect
to every pixel of every training image, d l(z_test; theta_hat) / d x_i (the
model refitted). The attack moves the k training images with the largest
gradient norm one signed-gradient step up that gradient (pixels clipped to
[0, 1], at most ``EPS_TOTAL`` away from the original), refits, and repeats
until the test prediction flips.

Every step is verified by actually retraining: success is counted only when the
refitted model misclassifies the target. Digits 3 vs 8 of ``load_digits``
(pixels in [0, 1]), LogisticRegression(C=1); the targets are the 15 correctly
classified test images with the smallest margin (Koh & Liang attacked every
correct test image; far-from-boundary images need larger changes).

Measured (178 training images, test accuracy 0.989, 15 targets)::

    k = 1 training images per step: 11/15 flipped, median 8 steps, median L_inf 0.25,
          median 3 images changed
    k = 3 training images per step: 15/15 flipped, median 4 steps, median L_inf 0.15,
          median 5 images changed

    k = 3 random images, random signs (control) per step: 1/15 flipped

(pixels in [0, 1]; every flip confirmed by refitting. The control spends the
same step budget on random images in random directions.)

Run: ``python examples/training_set_attack.py`` (a few minutes of CPU).
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import skinfluence

STEP, EPS_TOTAL, MAX_STEPS, N_TARGETS = 0.05, 0.5, 10, 15


def fit(X, y):
    return LogisticRegression(C=1.0, max_iter=2000, tol=1e-8).fit(X, y)


def attack(X, y, x_t, y_t, k, control=None):
    """Perturb k training images to flip the prediction on (x_t, y_t); (flipped, steps, Linf).

    ``control`` (a Generator): the same budget spent on k random images in random
    directions, for comparison.
    """
    Xa = X.copy()
    for step in range(1, MAX_STEPS + 1):
        if control is None:
            est = fit(Xa, y)
            inf = skinfluence.influence(est, Xa, y)
            grad = inf.pert_loss(x_t[None], [y_t])[0]                # (n, p)
            rows = np.argsort(-np.linalg.norm(grad, axis=1))[:k]
        else:
            rows = control.choice(len(y), k, replace=False)
            grad = np.zeros_like(Xa)
            grad[rows] = control.choice([-1.0, 1.0], size=(k, X.shape[1]))
        Xa[rows] = np.clip(Xa[rows] + STEP * np.sign(grad[rows]), 0, 1)
        Xa = np.clip(Xa, X - EPS_TOTAL, X + EPS_TOTAL)
        if fit(Xa, y).predict(x_t[None])[0] != y_t:                 # retrained: flipped?
            return True, step, np.abs(Xa - X).max(), np.count_nonzero(np.any(Xa != X, 1))
    return False, MAX_STEPS, np.abs(Xa - X).max(), np.count_nonzero(np.any(Xa != X, 1))


def main():
    X, y = load_digits(return_X_y=True)
    keep = (y == 3) | (y == 8)
    X, y = X[keep] / 16.0, (y[keep] == 8).astype(int)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    est = fit(X_tr, y_tr)
    margin = np.abs(est.decision_function(X_te))
    correct = np.flatnonzero(est.predict(X_te) == y_te)
    targets = correct[np.argsort(margin[correct])[:N_TARGETS]]
    print(f"{len(y_tr)} training images, test accuracy {est.score(X_te, y_te):.3f}; "
          f"attacking {len(targets)} correctly classified test images")
    rng = np.random.default_rng(0)
    for k, control in ((1, None), (3, None), (3, rng)):
        res = [attack(X_tr, y_tr, X_te[t], y_te[t], k, control) for t in targets]
        ok = [r for r in res if r[0]]
        what = "random images, random signs (control)" if control else "training images"
        print(f"k = {k} {what} per step: {len(ok)}/{len(res)} flipped"
              + (f", median {np.median([r[1] for r in ok]):.0f} steps, median L_inf "
                 f"{np.median([r[2] for r in ok]):.2f}, median {np.median([r[3] for r in ok]):.0f}"
                 " images changed" if ok else ""))


if __name__ == "__main__":
    main()
