"""Numerical kernels of ridgeway: numpy/scipy only, no estimators, no I/O."""

from .direct import RidgeSolution, solve_dual, solve_gram, solve_refined, solve_svd
from .folds import fold_of
from .gram import GramStats
from .iterative import solve_iterative
from .spectral import RidgeSpectrum

__all__ = [
    "GramStats",
    "RidgeSolution",
    "RidgeSpectrum",
    "fold_of",
    "solve_dual",
    "solve_gram",
    "solve_iterative",
    "solve_refined",
    "solve_svd",
]
