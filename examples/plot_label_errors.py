"""
Finding flipped labels from one fit: breast cancer
==================================================

We flip 5% of the labels of scikit-learn's breast-cancer data and rank the
rows for review by the leave-one-out probability of their given label
(approximate leave-one-out from one fit, no refits) and by Cook's distance.
The curve shows how many flipped labels a reviewer finds after checking the
top-ranked rows, against random review.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from skinfluence.linear_model import LogisticRegression

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)
rng = np.random.default_rng(0)
flipped = rng.choice(len(y), size=len(y) // 20, replace=False)
y_noisy = y.copy()
y_noisy[flipped] = 1 - y_noisy[flipped]

inf = LogisticRegression(C=1.0).fit(X, y_noisy).influence()
P = inf.loo_predict_proba()
rankings = {
    "leave-one-out P(given label)": np.argsort(P[np.arange(len(y)), y_noisy]),
    "Cook's distance": np.argsort(-inf.cooks_distance),
}

# %%
# Share of flipped labels found against the number of rows reviewed.
checked = np.arange(1, len(y) + 1)
fig, ax = plt.subplots()
for name, order in rankings.items():
    found = np.cumsum(np.isin(order, flipped)) / flipped.size
    ax.plot(checked, found, label=name)
    print(f"{name}: {found[2 * flipped.size - 1]:.0%} found in the top {2 * flipped.size} rows")
ax.plot(checked, checked / len(y), ls=":", color="grey", label="random review")
ax.set_xlabel("rows reviewed")
ax.set_ylabel("share of flipped labels found")
ax.legend()
plt.show()
