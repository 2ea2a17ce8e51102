"""ridgeway: L2-regularized learning with exact, fast selection of the regularization strength."""

from .exceptions import (
    AlphaEdgeWarning,
    ConvergenceWarning,
    DataError,
    ModelFileError,
    OutputError,
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

__version__ = "0.1.0"


def __getattr__(name: str):
    # The model file belongs to the command (ridgeway.cli.modelfile); it is imported on first
    # use so that importing the library does not import the command's layer.
    if name == "load_model":
        from .cli.modelfile import load_model

        return load_model
    raise AttributeError(f"module 'ridgeway' has no attribute {name!r}")

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
    "DataError",
    "GramStats",
    "LinearSVC",
    "LinearSVCCV",
    "LogisticRegression",
    "LogisticRegressionCV",
    "ModelFileError",
    "OutputError",
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
