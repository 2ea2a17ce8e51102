"""scikit-learn compatible estimators of ridgeway."""

from ._glm import LinearSVC, LogisticRegression, PoissonRegressor
from ._glm_cv import LinearSVCCV, LogisticRegressionCV, PoissonRegressorCV
from ._ridge import Ridge, RidgeCV

__all__ = [
    "LinearSVC",
    "LinearSVCCV",
    "LogisticRegression",
    "LogisticRegressionCV",
    "PoissonRegressor",
    "PoissonRegressorCV",
    "Ridge",
    "RidgeCV",
]
