"""The estimators of ridgeway on Dask arrays and data frames (``pip install 'ridgeway[dask]'``).

Same parameters, defaults, objective and ``cv_results_`` layout as the in-memory estimators;
the fitted attributes are numpy arrays and ``predict`` returns a dask array. Computations run
on the current Dask scheduler: a ``distributed.Client`` when one is active. See docs/scale.md.
"""

from ._glm import LogisticRegression, LogisticRegressionCV, PoissonRegressor
from ._ridge import Ridge, RidgeCV

__all__ = [
    "LogisticRegression",
    "LogisticRegressionCV",
    "PoissonRegressor",
    "Ridge",
    "RidgeCV",
]
