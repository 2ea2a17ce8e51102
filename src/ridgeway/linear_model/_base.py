"""Shared plumbing of the linear estimators: validation of (X, y, sample_weight), prediction."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import RegressorMixin

from .._validation import check_sample_weight, validate_fit_data, validate_predict_X


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
