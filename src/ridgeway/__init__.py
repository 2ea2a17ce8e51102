"""ridgeway: L2-regularized learning with exact, fast selection of the regularization strength."""

from .exceptions import (
    AlphaEdgeWarning,
    ConvergenceWarning,
    PredictionOverflowError,
    SeparableDataError,
)
from .linalg import GramStats, RidgeSpectrum
from .linear_model import (
    LinearSVC,
    LinearSVCCV,
    LogisticRegression,
    LogisticRegressionCV,
    PoissonRegressor,
    PoissonRegressorCV,
    Ridge,
    RidgeCV,
)
from .persistence import load_model

__version__ = "0.1.0"

#: Names of the public scikit-learn compatible estimators.
ESTIMATORS = (
    "Ridge",
    "RidgeCV",
    "LogisticRegression",
    "LogisticRegressionCV",
    "LinearSVC",
    "LinearSVCCV",
    "PoissonRegressor",
    "PoissonRegressorCV",
)

__all__ = [
    "ESTIMATORS",
    "AlphaEdgeWarning",
    "ConvergenceWarning",
    "GramStats",
    "LinearSVC",
    "LinearSVCCV",
    "LogisticRegression",
    "LogisticRegressionCV",
    "PoissonRegressor",
    "PoissonRegressorCV",
    "PredictionOverflowError",
    "Ridge",
    "RidgeCV",
    "RidgeSpectrum",
    "SeparableDataError",
    "__version__",
    "load_model",
]
