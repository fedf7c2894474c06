"""
Which training rows made this prediction? Diabetes progression
==============================================================

scikit-learn's diabetes data (442 patients, disease progression after one
year). A Poisson regression in a pipeline predicts progression; for a test
patient we ask which training patients pushed the prediction toward (helpful)
or away from (harmful) their observed value, from influence functions (Koh &
Liang 2017): one solve with the Hessian, no retraining.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes
from sklearn.linear_model import PoissonRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skinfluence

X, y = load_diabetes(return_X_y=True, as_frame=True, scaled=False)
X_train, y_train, X_test, y_test = X[:400], y[:400], X[400:], y[400:]
pipe = make_pipeline(StandardScaler(), PoissonRegressor(alpha=1e-3)).fit(X_train, y_train)
inf = skinfluence.influence(pipe, X_train, y_train)

# %%
# The test patient the model fits worst, and the training rows behind it:
# ``explain`` returns a frame indexed like ``X`` with the training label, the
# predicted change of the test loss if the row were removed, and the raw
# (unscaled) features.
worst = int(abs(y_test - pipe.predict(X_test)).to_numpy().argmax())
print("test patient", X_test.index[worst], "observed", y_test.iloc[worst],
      "predicted", round(pipe.predict(X_test.iloc[[worst]])[0], 1))
explained = inf.explain(X_test.iloc[[worst]], y_test.iloc[[worst]], n=4, X=X_train)
print(explained[["role", "loss_change", "y", "age", "bmi", "bp", "s5"]].round(3))

# %%
# The same as a bar chart, labelled by the training rows' index.
inf.plot("loss_change", X_test=X_test, y_test=y_test, test_row=worst, n=8)
plt.tight_layout()
plt.show()

# %%
# The GLM diagnostics of the fit itself (Pearson residuals, Cook's contours).
inf.plot("residuals_leverage")
plt.show()
