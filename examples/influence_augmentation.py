"""Choosing data augmentations by influence (Lee et al., CVPR 2020), on digits.

For every training image we consider a few label-preserving augmentations
(one-pixel shifts, +-12 degree rotations) and predict, without retraining, how
*replacing* the image by each augmented copy would change the mean validation
loss (``Influence.replacement_loss_change``: -grad L_val' H^-1 (grad l(z~_i) -
grad l(z_i))). Per image we keep the augmentation that lowers the validation
loss most, and replace the image only when that prediction is negative. The
prediction is first order, so the policy proceeds in rounds: replace the 20
images with the largest predicted gain, refit, predict again (5 rounds).

Verified by retraining:

1. single replacements: predicted vs actual change of the validation loss for
   40 (image, augmentation) pairs (Pearson r);
2. the whole policy: validation and *test* loss/accuracy after retraining on
   the influence-chosen replacements, next to the original training set and to
   as many random augmentations.

Measured (400 training, 400 validation, 997 test images)::

    single replacements: Pearson r = 0.941 over 40 pairs
    training set                        val loss test loss  test acc
    original                              0.2879    0.2679     0.956
    100 random augmentations              0.3326    0.3231     0.929
    100 influence-chosen                  0.2300    0.2724     0.948

The chosen augmentations lower the validation loss they were chosen for by 20%;
on the test set they cost nothing, where as many random ones cost 0.055 of test
loss and 2.7 points of accuracy (replacing, not adding, images: the test digits
are not augmented).

Run: ``python examples/influence_augmentation.py`` (about 90 s of CPU).
"""

import numpy as np
from scipy.ndimage import rotate, shift
from scipy.stats import pearsonr
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

import skinfluence

AUGMENTATIONS = {
    "shift left": lambda im: shift(im, (0, -1), order=0),
    "shift right": lambda im: shift(im, (0, 1), order=0),
    "shift up": lambda im: shift(im, (-1, 0), order=0),
    "shift down": lambda im: shift(im, (1, 0), order=0),
    "rotate +12": lambda im: rotate(im, 12, reshape=False, order=1),
    "rotate -12": lambda im: rotate(im, -12, reshape=False, order=1),
}


N_ROUNDS, PER_ROUND = 5, 20


def augment(X, fn):
    return np.stack([np.clip(fn(x.reshape(8, 8)), 0, 1).ravel() for x in X])


def fit(X, y):
    return LogisticRegression(C=1.0, max_iter=5000, tol=1e-8).fit(X, y)


def main():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_tr, X_rest, y_tr, y_rest = train_test_split(X, y, train_size=400, random_state=0,
                                                  stratify=y)
    X_val, X_te, y_val, y_te = train_test_split(X_rest, y_rest, train_size=400,
                                                random_state=0, stratify=y_rest)
    n, names = len(y_tr), list(AUGMENTATIONS)
    aug = np.stack([augment(X_tr, AUGMENTATIONS[a]) for a in names])      # (A, n, p)

    est = fit(X_tr, y_tr)
    inf = skinfluence.influence(est, X_tr, y_tr)
    rows = np.tile(np.arange(n), len(names))
    pred = inf.replacement_loss_change(rows, aug.reshape(-1, X.shape[1]), None, X_val, y_val)
    pred = pred.reshape(len(names), n)                                   # (A, n)
    base_val = log_loss(y_val, est.predict_proba(X_val))

    # 1. single replacements, retrained
    rng = np.random.default_rng(0)
    pairs = [(int(a), int(i)) for a, i in zip(rng.integers(0, len(names), 20),
                                              rng.choice(n, 20, replace=False))]
    best_pairs = np.dstack(np.unravel_index(np.argsort(pred, axis=None)[:20], pred.shape))[0]
    pairs += [(int(a), int(i)) for a, i in best_pairs]
    actual = []
    for a, i in pairs:
        Xr = X_tr.copy()
        Xr[i] = aug[a, i]
        actual.append(log_loss(y_val, fit(Xr, y_tr).predict_proba(X_val)) - base_val)
    p_single = np.array([pred[a, i] for a, i in pairs])
    print(f"single replacements: predicted vs retrained change of the validation loss, "
          f"Pearson r = {pearsonr(p_single, actual)[0]:.3f} over {len(pairs)} pairs")

    # 2. the policy, in rounds: replace the images whose best augmentation is predicted
    #    to help most, refit, predict again (first order holds for small steps only)
    X_inf, replaced = X_tr.copy(), np.zeros(n, bool)
    for r in range(N_ROUNDS):
        if r:
            inf = skinfluence.influence(fit(X_inf, y_tr), X_inf, y_tr)
            aug = np.stack([augment(X_inf, AUGMENTATIONS[a]) for a in names])
            pred = inf.replacement_loss_change(rows, aug.reshape(-1, X.shape[1]), None,
                                               X_val, y_val).reshape(len(names), n)
        pred[:, replaced] = np.inf               # each image is augmented at most once
        best = pred.argmin(axis=0)
        gain = pred[best, np.arange(n)]
        take = np.argsort(gain)[:PER_ROUND]
        take = take[gain[take] < 0]
        X_inf[take] = aug[best[take], take]
        replaced[take] = True
    n_rep = int(replaced.sum())
    X_rand = X_tr.copy()
    pick = rng.choice(n, n_rep, replace=False)
    for i in pick:
        X_rand[i] = np.clip(AUGMENTATIONS[names[rng.integers(len(names))]](
            X_tr[i].reshape(8, 8)), 0, 1).ravel()
    print(f"influence policy: {n_rep} images replaced in {N_ROUNDS} rounds of {PER_ROUND}")
    print(f"{'training set':34s} {'val loss':>9s} {'test loss':>9s} {'test acc':>9s}")
    for name, Xs in (("original", X_tr), (f"{n_rep} random augmentations", X_rand),
                     (f"{n_rep} influence-chosen", X_inf)):
        m = fit(Xs, y_tr)
        print(f"{name:34s} {log_loss(y_val, m.predict_proba(X_val)):9.4f} "
              f"{log_loss(y_te, m.predict_proba(X_te)):9.4f} {m.score(X_te, y_te):9.3f}")


if __name__ == "__main__":
    main()
