"""Bias-variance by bootstrap refits, and what L2 buys against no penalty and against L1.

Bias-variance (squared loss). For each bootstrap resample ``b`` of the training rows and each
alpha, ridge is refitted and predicts the held-out points, giving ``f_b(x_i)``. With
``fbar_i = mean_b f_b(x_i)``:

* variance ``= mean_i var_b f_b(x_i)``;
* bias^2 ``= mean_i (f(x_i) - fbar_i)^2`` when the noiseless target ``f`` is known, else
  ``mean_i (y_i - fbar_i)^2``, which also holds the noise;
* test error ``= mean_b mean_i (y_i - f_b(x_i))^2``, the expected error of one refit.

With ``f`` known, ``bias^2 + variance + noise`` estimates the test error, ``noise`` being
``mean_i (y_i - f(x_i))^2``; without it ``bias^2 (with noise) + variance`` equals the test error
exactly. A bootstrap resample is a vector of multinomial counts used as sample weights, so one
eigendecomposition per resample (:class:`ridgeway.linalg.RidgeSpectrum`) answers every alpha.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.linear_model import LassoCV

from ..exceptions import ConvergenceWarning
from ..linalg import RidgeSpectrum
from ..linear_model import kinds
from ..linear_model.kinds import ModelKind
from ._l1 import l1_classifier_cv
from ._metrics import model_metrics

__all__ = ["BiasVariance", "ErrorReduction", "bias_variance", "error_reduction_l1",
           "error_reduction_unregularized"]


@dataclass(frozen=True)
class BiasVariance:
    """Result of :func:`bias_variance`; arrays have one value per alpha.

    Attributes
    ----------
    alphas, bias2, variance, test_error : ndarray
    noise : float or None
        Mean squared noise on the held-out points (only with a known noiseless target).
    bias_includes_noise : bool
        True when ``f_test`` was not given, so ``bias2`` holds the noise as well.
    n_bootstrap : int
    """

    alphas: np.ndarray
    bias2: np.ndarray
    variance: np.ndarray
    test_error: np.ndarray
    noise: float | None
    bias_includes_noise: bool
    n_bootstrap: int


def bias_variance(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray,
                  y_test: np.ndarray, alphas: Any, *, n_bootstrap: int = 30,
                  f_test: np.ndarray | None = None, fit_intercept: bool = True,
                  random_state: int | None = 0, callback: Any = None) -> BiasVariance:
    """Bias^2 and variance of ridge predictions on held-out points, by bootstrap refits.

    Parameters
    ----------
    X_train, y_train : arrays of shape (n, p) and (n,)
    X_test, y_test : arrays of shape (m, p) and (m,)
    alphas : array-like of float
    n_bootstrap : int
    f_test : ndarray of shape (m,), optional
        The noiseless target at the test points, when known (simulations).
    fit_intercept : bool
    random_state : int or None
    callback : callable, optional
        Called with no argument after each refit (progress).

    Returns
    -------
    BiasVariance
    """
    alphas = np.asarray(alphas, dtype=float)
    rng = np.random.default_rng(random_state)
    n = X_train.shape[0]
    preds = np.empty((n_bootstrap, len(alphas), X_test.shape[0]))
    for b in range(n_bootstrap):
        counts = rng.multinomial(n, np.full(n, 1.0 / n)).astype(float)
        spec = RidgeSpectrum.from_data(X_train, y_train, counts, fit_intercept=fit_intercept)
        preds[b] = spec.coef(alphas) @ X_test.T + spec.intercept(alphas)[:, None]
        if callback is not None:
            callback()
    mean_pred = preds.mean(axis=0)
    variance = preds.var(axis=0).mean(axis=1)
    test_error = ((preds - y_test) ** 2).mean(axis=(0, 2))
    reference = y_test if f_test is None else np.asarray(f_test, dtype=float)
    bias2 = ((mean_pred - reference) ** 2).mean(axis=1)
    noise = None if f_test is None else float(np.mean((y_test - reference) ** 2))
    return BiasVariance(alphas, bias2, variance, test_error, noise, f_test is None, n_bootstrap)


@dataclass(frozen=True)
class ErrorReduction:
    """Held-out error of L2 against a competitor, and the reduction in percent.

    ``reduction_pct = 100 * (competitor - l2) / competitor``: positive means L2 errs less.
    ``competitor`` is None (and ``note`` says why) when the competitor does not exist.
    """

    competitor_name: str
    metric: str
    l2: float
    competitor: float | None
    reduction_pct: float | None
    note: str = ""
    estimator: Any = field(default=None, repr=False, compare=False)


def _reduction(name: str, metric: str, l2: float, other: float | None, note: str = "",
               estimator: Any = None) -> ErrorReduction:
    if other is None or not np.isfinite(other) or other == 0:
        return ErrorReduction(name, metric, l2, other, None, note, estimator)
    return ErrorReduction(name, metric, l2, other, 100.0 * (other - l2) / other, note, estimator)


def _score(kind: ModelKind, est: Any, X: np.ndarray, y: np.ndarray, metric: str,
           positive: Any = None) -> float:
    return model_metrics(est, X, y, kind=kind, positive=positive)[metric]


def error_reduction_unregularized(kind: str | ModelKind, l2_error: float, metric: str,
                                  X_train, y_train, X_test, y_test, *, spectrum: Any = None,
                                  positive: Any = None) -> ErrorReduction:
    """Fit the same model with ``alpha=0`` and compare held-out errors.

    The unregularized logistic / SVM fit does not exist on separable data; this is detected
    (no convergence or a diverging coefficient norm) and reported in ``note``. For ridge, a
    :class:`~ridgeway.linalg.RidgeSpectrum` of the training data (e.g. the one ``RidgeCV``
    already computed) gives the minimum-norm least-squares fit without a second pass over X.

    Parameters
    ----------
    kind : str or ModelKind
        A model kind of :data:`ridgeway.linear_model.kinds.KINDS` (``"ridge"``, ...).
    l2_error : float
        Held-out error of the regularized model, in ``metric``.
    metric : str
        A key of :func:`model_metrics` where smaller is better (see :func:`primary_error`).
    X_train, y_train, X_test, y_test : arrays
    spectrum : RidgeSpectrum, optional
    positive : label, optional
        Positive class of a binary classifier (for the metrics that need one).

    Returns
    -------
    ErrorReduction
    """
    kind = kinds.get(kind)
    if kind.spectral and spectrum is not None:
        zero = np.zeros(1)
        coef = np.squeeze(np.asarray(spectrum.coef(zero))[0])
        intercept = np.squeeze(np.asarray(spectrum.intercept(zero))[0])
        if coef.shape == (X_test.shape[1],) and intercept.ndim == 0 and metric == "mse":
            err = float(np.mean((np.asarray(y_test) - (X_test @ coef + intercept)) ** 2))
            return _reduction("unregularized", metric, l2_error, err,
                              "least squares, alpha = 0 (minimum norm)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est = kind.estimator(alpha=0.0).fit(X_train, y_train)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
            return _reduction("unregularized", metric, l2_error, None, f"fit failed: {exc}")
    diverged = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    if not kind.spectral and (diverged or np.linalg.norm(est.coef_) > 1e6):
        return _reduction("unregularized", metric, l2_error, None,
                          "does not exist (separable classes or no convergence)")
    note = "minimum-norm least squares (p >= n)" if X_train.shape[1] >= X_train.shape[0] else ""
    return _reduction("unregularized", metric, l2_error,
                      _score(kind, est, X_test, y_test, metric, positive), note, est)


def error_reduction_l1(kind: str | ModelKind, l2_error: float, metric: str, X_train, y_train,
                       X_test, y_test, *, max_rows: int = 20_000, random_state: int = 0,
                       positive: Any = None) -> ErrorReduction:
    """Fit L1 at its own CV-best strength and compare held-out errors.

    Regression: scikit-learn ``LassoCV(cv=5, alphas=50)`` (Gram-based coordinate descent).
    Classification: ridgeway's own warm-started proximal-gradient L1 path
    (:func:`ridgeway.inspection._l1.l1_classifier_cv`: logistic / multinomial, or the squared
    hinge for a binary SVM), 10 strengths, 5-fold CV on the mean loss. Poisson and the
    multiclass SVM have no L1 counterpart here. Training rows beyond ``max_rows`` are
    subsampled.

    Parameters
    ----------
    kind, l2_error, metric, X_train, y_train, X_test, y_test, positive
        As in :func:`error_reduction_unregularized`.
    max_rows : int
    random_state : int

    Returns
    -------
    ErrorReduction
        With the fitted L1 estimator in ``estimator``.
    """
    kind = kinds.get(kind)
    if kind.l1 is None:
        return _reduction("L1 (CV)", metric, l2_error, None,
                          f"no L1 {kind.title} comparison")
    if kind.l1 == "squared_hinge" and len(np.unique(y_train)) > 2:
        return _reduction("L1 (CV)", metric, l2_error, None,
                          "no L1 comparison for a multiclass SVM")
    if X_train.shape[0] > max_rows:
        rows = np.random.default_rng(random_state).choice(X_train.shape[0], max_rows,
                                                          replace=False)
        X_train, y_train = X_train[rows], y_train[rows]
    if kind.l1 == "lasso":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SklearnConvergenceWarning)
            est = LassoCV(cv=5, alphas=50, precompute=True,
                          random_state=random_state).fit(X_train, y_train)
        note = f"LassoCV alpha={est.alpha_:.4g}"
    else:
        svm = kind.l1 == "squared_hinge"
        est = l1_classifier_cv(np.asarray(X_train), np.asarray(y_train), svm=svm,
                               random_state=random_state)
        note = f"L1 {kind.l1.replace('_', ' ')}, lambda={est.alpha_:.4g}"
    err = _score(kind, est, X_test, y_test, metric, positive)
    nnz = int(np.count_nonzero(np.any(np.atleast_2d(est.coef_) != 0, axis=0)))
    return _reduction("L1 (CV)", metric, l2_error, err, f"{note}, {nnz} non-zero features",
                      est)
