"""Shared plumbing of the linear estimators: validation of (X, y, sample_weight), prediction."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import RegressorMixin

from .._validation import (
    RIDGE_SOLVER_ALIASES,
    check_sample_weight,
    validate_fit_data,
    validate_predict_X,
)


def validate_regression_data(estimator, X, y, sample_weight, *, min_samples: int = 2):
    """Validate ``(X, y, sample_weight)`` for a regressor (:mod:`ridgeway._validation`).

    Returns ``(X, y, y2, sample_weight)`` with ``y2`` always 2-D.
    """
    X, y = validate_fit_data(estimator, X, y, min_samples=min_samples)
    sw = check_sample_weight(sample_weight, X.shape[0])
    y2 = y[:, None] if y.ndim == 1 else y
    return X, y, y2, sw


class LinearPredictorMixin(RegressorMixin):
    """``predict`` for fitted ``coef_`` (shape (p,) or (t, p)) and ``intercept_``."""

    def predict(self, X):
        """Predict ``X w + b``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        X = validate_predict_X(self, X)
        out = X @ self.coef_.T if not sp.issparse(X) else np.asarray(X @ self.coef_.T)
        return out + self.intercept_


def store_solution(est, sol, y, dtype) -> None:
    """Set a ridge estimator's ``coef_``, ``intercept_``, ``solver_``, ``n_iter_`` from ``sol``."""
    coef = sol.coef.T.astype(dtype, copy=False)
    intercept = np.asarray(sol.intercept, dtype=dtype)
    if y.ndim == 1:
        coef, intercept = coef[0], intercept[0]
    elif y.shape[1] == 1:
        coef = coef[0]  # scikit-learn: y of shape (n, 1) gives coef_ (p,), intercept_ (1,)
    est.coef_ = coef
    est.intercept_ = intercept if est.fit_intercept else np.zeros_like(intercept)
    # a solver asked for by name is reported by that name (scikit-learn's "sparse_cg" too,
    # "cholesky" when the Cholesky ran on the dual); "auto" reports what it chose
    asked = getattr(est, "solver", "auto")
    method = RIDGE_SOLVER_ALIASES.get(asked, asked)
    est.solver_ = asked if sol.solver.split("-")[0] == method else sol.solver
    if sol.solver in ("cg", "lsqr"):
        est.n_iter_ = sol.n_iter
    else:
        est.n_iter_ = 1 + (sol.n_iter or 0)
