"""Shared plumbing of the linear estimators: validation of (X, y, sample_weight), prediction."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import check_finite, check_sample_weight, check_X, check_y


def validate_regression_data(estimator, X, y, sample_weight, *, min_samples: int = 2):
    """Validate ``(X, y, sample_weight)`` for a regressor and record the input feature names.

    Returns ``(X, y, y2, sample_weight)`` with ``y2`` always 2-D. Messages come from
    :mod:`ridgeway._validation` and name the row and column of a bad value.
    """
    names = column_names(X)
    X = check_X(X, feature_names=names, min_samples=min_samples)
    y = check_y(y, X.shape[0])
    validate_data(estimator, X, y, skip_check_array=True, reset=True)
    if names is not None:
        estimator.feature_names_in_ = np.asarray(names, dtype=object)
    sw = check_sample_weight(sample_weight, X.shape[0])
    y2 = y[:, None] if y.ndim == 1 else y
    return X, y, y2, sw


def column_names(X) -> list[str] | None:
    """Column names of a data frame (all strings), else None."""
    if hasattr(X, "columns") and hasattr(X, "dtypes"):
        names = list(X.columns)
        if all(isinstance(c, str) for c in names):
            return names
    return None


def validate_predict_data(estimator, X):
    """Validate X at predict time against the fitted feature count and names."""
    check_is_fitted(estimator)
    X = validate_data(
        estimator, X, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32],
        ensure_all_finite=False, reset=False,
    )
    check_finite(X, "X")
    return X


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
        X = validate_predict_data(self, X)
        out = X @ self.coef_.T if not sp.issparse(X) else np.asarray(X @ self.coef_.T)
        return out + self.intercept_
