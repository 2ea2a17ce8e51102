"""scikit-learn compatible estimators of ridgeway."""

from ._ridge import Ridge, RidgeCV

__all__ = ["Ridge", "RidgeCV"]
