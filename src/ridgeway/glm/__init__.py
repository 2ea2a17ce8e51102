"""Penalized generalized linear models: losses, the L2 penalty, solvers and paths.

The objective of every model is::

    sum_i s_i * loss(y_i, x_i W + b) + alpha / 2 * ||Gamma (W - w0)||^2

with the intercept ``b`` never penalized (``alpha = 1 / C`` of scikit-learn). Nothing here
imports scikit-learn; the estimators in :mod:`ridgeway.linear_model` are thin wrappers.
"""

from ._objective import GLMData, Objective
from .losses import LogisticLoss, MultinomialLoss, PoissonLoss, SquaredHingeLoss
from .path import PathResult, alo_predictor, effective_df, fit_path
from .penalties import L2Penalty
from .solvers import (
    LBFGS,
    SOLVERS,
    FitResult,
    NewtonCG,
    NewtonCholesky,
    check_compatible,
    resolve_solver,
    solve,
)

__all__ = [
    "LBFGS",
    "SOLVERS",
    "FitResult",
    "GLMData",
    "L2Penalty",
    "LogisticLoss",
    "MultinomialLoss",
    "NewtonCG",
    "NewtonCholesky",
    "Objective",
    "PathResult",
    "PoissonLoss",
    "SquaredHingeLoss",
    "alo_predictor",
    "check_compatible",
    "effective_df",
    "fit_path",
    "resolve_solver",
    "solve",
]
