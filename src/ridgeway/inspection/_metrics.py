"""Metrics of a fitted model, the generalization gap, and coefficient tables.

Everything here evaluates fitted estimators with :mod:`sklearn.metrics`; nothing is fitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn import metrics as skm

__all__ = [
    "CoefficientRow",
    "GapRow",
    "coefficient_table",
    "generalization_gap",
    "model_metrics",
    "primary_error",
]

#: metric name -> True when greater is better
GREATER_IS_BETTER = {"mse": False, "r2": True, "mean_poisson_deviance": False,
                     "log_loss": False, "accuracy": True, "f1": True, "roc_auc": True,
                     "error_rate": False}


def _regression(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    return {"mse": float(skm.mean_squared_error(y, pred)), "r2": float(skm.r2_score(y, pred))}


def _poisson(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    out = _regression(y, pred)
    out["mean_poisson_deviance"] = float(skm.mean_poisson_deviance(y, np.maximum(pred, 1e-300)))
    return out


def _classification(est: Any, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    classes = est.classes_
    pred = est.predict(X)
    binary = len(classes) == 2
    out: dict[str, float] = {}
    if hasattr(est, "predict_proba"):
        proba = est.predict_proba(X)
        out["log_loss"] = float(skm.log_loss(y, proba, labels=classes))
        score = proba[:, 1] if binary else proba
    else:
        score = est.decision_function(X)
    out["accuracy"] = float(skm.accuracy_score(y, pred))
    out["error_rate"] = 1.0 - out["accuracy"]
    out["f1"] = float(skm.f1_score(y, pred, average="binary" if binary else "macro",
                                   pos_label=classes[-1] if binary else 1, labels=classes))
    if len(np.unique(y)) == len(classes) and (binary or score.ndim == 2):
        out["roc_auc"] = float(skm.roc_auc_score(y, score, labels=None if binary else classes,
                                                 multi_class="raise" if binary else "ovr"))
    return out


def model_metrics(kind: str, est: Any, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Metrics of a fitted estimator on (X, y).

    Parameters
    ----------
    kind : {"ridge", "poisson", "logistic", "svm"}
    est : fitted estimator
    X, y : arrays

    Returns
    -------
    dict
        Regression: ``mse``, ``r2`` (Poisson also ``mean_poisson_deviance``); classification:
        ``log_loss`` (probabilistic models), ``accuracy``, ``error_rate``, ``f1`` (binary:
        positive class the last of ``classes_``; multiclass: macro), ``roc_auc`` (one-vs-rest
        for multiclass).
    """
    if kind in ("logistic", "svm"):
        return _classification(est, X, y)
    pred = est.predict(X)
    return _poisson(y, pred) if kind == "poisson" else _regression(y, pred)


def primary_error(kind: str) -> str:
    """The loss used for error-reduction comparisons of a model kind."""
    return {"ridge": "mse", "poisson": "mean_poisson_deviance", "logistic": "log_loss",
            "svm": "error_rate"}[kind]


@dataclass(frozen=True)
class GapRow:
    """One metric on the training and held-out data.

    ``gap`` is how much worse the held-out value is (positive = worse on new data).
    """

    metric: str
    train: float
    test: float
    gap: float


def generalization_gap(train: dict[str, float], test: dict[str, float]) -> list[GapRow]:
    """Train vs held-out metrics and their gap, signed so that positive means worse held out.

    Parameters
    ----------
    train, test : dict
        Outputs of :func:`model_metrics`.

    Returns
    -------
    list of GapRow
    """
    rows = []
    for name, tr in train.items():
        if name not in test:
            continue
        te = test[name]
        gap = tr - te if GREATER_IS_BETTER.get(name, False) else te - tr
        rows.append(GapRow(name, tr, te, gap))
    return rows


@dataclass(frozen=True)
class CoefficientRow:
    """A feature's coefficient on the standardized scale and on the original scale."""

    feature: str
    standardized: float
    original: float


def coefficient_table(coef: np.ndarray, feature_names: list[str],
                      scale: np.ndarray | None = None) -> list[CoefficientRow]:
    """Coefficients sorted by standardized magnitude, largest first.

    Parameters
    ----------
    coef : ndarray of shape (n_features,) or (n_classes, n_features)
        Coefficients of a model fitted on standardized features. A single row (binary
        classifiers) is used as is; for several rows (multiclass) each feature gets the
        Euclidean norm of its coefficients over the classes.
    feature_names : list of str
    scale : ndarray of shape (n_features,), optional
        Standard deviations used to standardize; the original-scale coefficient is
        ``coef / scale``. ``None``: the features were not standardized, and the standardized
        coefficient is unknown (the original one is shown in both columns).

    Returns
    -------
    list of CoefficientRow
    """
    coef = np.asarray(coef, dtype=float)
    if coef.ndim == 2:
        coef = coef[0] if coef.shape[0] == 1 else np.linalg.norm(coef, axis=0)
    scale = np.ones_like(coef) if scale is None else np.asarray(scale, dtype=float)
    rows = [CoefficientRow(n, float(c), float(c / s))
            for n, c, s in zip(feature_names, coef, scale, strict=False)]
    return sorted(rows, key=lambda r: -abs(r.standardized))
