"""ridgeway: L2-regularized learning with exact, fast selection of the regularization strength."""

from .linalg import GramStats, RidgeSpectrum
from .linear_model import Ridge, RidgeCV

__version__ = "0.1.0"

#: Names of the public scikit-learn compatible estimators.
ESTIMATORS = ("Ridge", "RidgeCV")

__all__ = [
    "ESTIMATORS","GramStats", "Ridge", "RidgeCV", "RidgeSpectrum", "__version__"]
