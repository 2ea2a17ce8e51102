"""Metrics of a fitted model, the generalization gap, and coefficient tables.

Everything here evaluates fitted estimators with :mod:`sklearn.metrics`; nothing is fitted.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn import metrics as skm

from ..linear_model import kinds
from ..linear_model.kinds import ModelKind, squared_hinge

__all__ = [
    "CoefficientRow",
    "GapRow",
    "baseline_metrics",
    "coefficient_table",
    "generalization_gap",
    "model_metrics",
    "ovr_auc",
    "positive_class",
    "primary_error",
]

#: metric name -> True when greater is better
GREATER_IS_BETTER = {"mse": False, "r2": True, "mean_poisson_deviance": False,
                     "log_loss": False, "squared_hinge": False, "accuracy": True,
                     "balanced_accuracy": True, "precision": True, "recall": True, "f1": True,
                     "roc_auc": True, "pr_auc": True, "error_rate": False}

#: labels taken as the positive class of a binary target (compared case-insensitively)
POSITIVE_LABELS = ("1", "1.0", "yes", "y", "true", "bad", "default", "defaulted", "positive",
                   "pos", "fraud", "churn", "event")


def positive_class(classes: Any, y: Any = None, requested: Any = None) -> Any:
    """The positive class of a binary target.

    ``requested`` (``--positive``) when given; else the one label of ``classes`` that reads as
    an event (:data:`POSITIVE_LABELS`: 1, Yes, True, Bad, default, ...); else the minority
    class of ``y`` (the later sorted label on a tie, or without ``y``).

    Parameters
    ----------
    classes : array-like of two labels
    y : array-like, optional
        The training labels (for the minority rule).
    requested : label or str, optional

    Returns
    -------
    label
        An element of ``classes``.
    """
    classes = list(np.asarray(classes).tolist())
    if requested is not None:
        for c in classes:
            if str(c) == str(requested) or (isinstance(c, (int, float)) and not isinstance(
                    c, bool) and _number(requested) == c):
                return c
        raise ValueError(f"--positive {requested!r} is not a class of the target; the classes "
                         f"are {', '.join(map(repr, map(str, classes)))}.")
    named = [c for c in classes if str(c).strip().lower() in POSITIVE_LABELS]
    if len(named) == 1:
        return named[0]
    if y is not None:
        counts = [int(np.sum(np.asarray(y) == c)) for c in classes]
        if counts[0] < counts[1]:
            return classes[0]
    return classes[-1]


def _number(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _regression(y: np.ndarray, pred: np.ndarray, weight=None) -> dict[str, float]:
    return {"mse": float(skm.mean_squared_error(y, pred, sample_weight=weight)),
            "r2": float(skm.r2_score(y, pred, sample_weight=weight))}


def _poisson(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    out = _regression(y, pred)
    out["mean_poisson_deviance"] = float(skm.mean_poisson_deviance(y, np.maximum(pred, 1e-300)))
    return out


def ovr_auc(y: np.ndarray, scores: np.ndarray, classes: Any) -> float:
    """Macro one-vs-rest ROC AUC: the mean over classes of the AUC of ``scores[:, k]``.

    With probabilities this is scikit-learn's ``roc_auc_score(multi_class="ovr")``; unlike it,
    any scores (e.g. SVM decision values) are accepted, each class ranked by its own column.
    """
    return float(np.mean([skm.roc_auc_score(y == c, scores[:, k])
                          for k, c in enumerate(classes)]))


def scores_of(est: Any, X: np.ndarray) -> tuple[np.ndarray, bool]:
    """Class scores ``(n, n_classes)`` (binary: ``(n, 2)``) and whether they are probabilities."""
    if hasattr(est, "predict_proba"):
        return est.predict_proba(X), True
    d = est.decision_function(X)
    return (np.column_stack([-d, d]) if d.ndim == 1 else d), False


def _classification(est: Any, X: np.ndarray, y: np.ndarray, positive: Any) -> dict[str, float]:
    classes = est.classes_
    pred = est.predict(X)
    binary = len(classes) == 2
    out: dict[str, float] = {}
    scores, proba = scores_of(est, X)
    if proba:
        out["log_loss"] = float(skm.log_loss(y, scores, labels=classes))
    else:
        out["squared_hinge"] = squared_hinge(y, scores, classes)
    out["accuracy"] = float(skm.accuracy_score(y, pred))
    out["error_rate"] = 1.0 - out["accuracy"]
    with np.errstate(all="ignore"):
        out["balanced_accuracy"] = float(skm.balanced_accuracy_score(y, pred))
    if binary:
        pos = positive_class(classes, requested=positive) if positive is not None else \
            positive_class(classes)
        k = list(classes).index(pos)
        kw = {"pos_label": pos, "average": "binary", "zero_division": 0.0}
    else:
        kw = {"average": "macro", "labels": classes, "zero_division": 0.0}
    out["precision"] = float(skm.precision_score(y, pred, **kw))
    out["recall"] = float(skm.recall_score(y, pred, **kw))
    out["f1"] = float(skm.f1_score(y, pred, **kw))
    if len(np.unique(y)) == len(classes):
        if binary:
            out["roc_auc"] = float(skm.roc_auc_score(y == pos, scores[:, k]))
            out["pr_auc"] = float(skm.average_precision_score(y == pos, scores[:, k]))
        else:
            out["roc_auc"] = ovr_auc(y, scores, classes)
    return out


def model_metrics(estimator: Any, X: np.ndarray, y: np.ndarray, *args: Any,
                  kind: str | ModelKind | None = None, positive: Any = None,
                  exposure: np.ndarray | None = None) -> dict[str, float]:
    """Metrics of a fitted estimator on (X, y).

    Parameters
    ----------
    estimator : fitted estimator
        A ridgeway estimator (its model kind is looked up in
        :data:`ridgeway.linear_model.kinds.KINDS`), or another library's with ``kind``.
    X, y : arrays
    kind : str or ModelKind, optional
        The model kind whose metrics to compute (``"ridge"``, ``"poisson"``, ``"logistic"``,
        ``"svm"``); needed only for an estimator that is not ridgeway's.
    positive : label, optional
        The positive class of a binary classifier (default: :func:`positive_class` of
        ``classes_``).
    exposure : ndarray, optional
        Poisson with exposure: ``y`` are counts, the model predicts rates; metrics are on the
        counts ``exposure * rate``.

    Returns
    -------
    dict
        Regression: ``mse``, ``r2`` (Poisson also ``mean_poisson_deviance``); classification:
        ``log_loss`` (probabilistic models) or ``squared_hinge`` (SVM: its mean training loss),
        ``accuracy``, ``error_rate``, ``balanced_accuracy``, ``precision``, ``recall``, ``f1``
        (binary: of the positive class; multiclass: macro averages), ``roc_auc`` (multiclass:
        macro one-vs-rest, see :func:`ovr_auc`) and, binary only, ``pr_auc`` (average
        precision of the positive class).

    Examples
    --------
    >>> import numpy as np
    >>> from ridgeway import Ridge
    >>> X, y = np.arange(8.0).reshape(4, 2), np.array([0.0, 1.0, 2.0, 3.0])
    >>> sorted(model_metrics(Ridge(alpha=1e-9).fit(X, y), X, y))
    ['mse', 'r2']
    """
    if isinstance(estimator, (str, ModelKind)):
        warnings.warn("model_metrics(kind, estimator, X, y) is deprecated: call "
                      "model_metrics(estimator, X, y) (kind=... for another library's "
                      "estimator).", DeprecationWarning, stacklevel=2)
        kind, estimator, X, y = estimator, X, y, args[0]
    spec = _kind(estimator, kind)
    if spec.classifier:
        return _classification(estimator, X, np.asarray(y), positive)
    pred = estimator.predict(X)
    if exposure is not None:
        pred = pred * exposure
    return _poisson(y, pred) if spec.rates else _regression(y, pred)


def _kind(estimator: Any, kind: str | ModelKind | None) -> ModelKind:
    if kind is not None:
        return kinds.get(kind)
    found = kinds.kind_of(estimator)
    if found is None:
        raise ValueError(f"model_metrics cannot tell the model kind of a "
                         f"{type(estimator).__name__}; pass kind= (one of "
                         f"{', '.join(kinds.KINDS)}).")
    return found


def baseline_metrics(kind: str, classes: Any, y_train: np.ndarray, y: np.ndarray, *,
                     positive: Any = None) -> dict[str, float]:
    """Metrics of the majority-class baseline on ``y``: it predicts the most frequent training
    class for every row, with the training class frequencies as probabilities.

    Returns the keys of :func:`model_metrics` that the baseline has (no ``squared_hinge``).
    """
    classes = np.asarray(classes)
    freq = np.array([np.mean(y_train == c) for c in classes])
    freq = np.clip(freq, 1e-15, None) / np.clip(freq, 1e-15, None).sum()

    class _Baseline:
        classes_ = classes

        def predict(self, X):
            return np.full(len(X), classes[int(np.argmax(freq))])

        def predict_proba(self, X):
            return np.tile(freq, (len(X), 1))

    dummy = np.zeros((len(y), 1))
    return _classification(_Baseline(), dummy, np.asarray(y), positive)


def primary_error(kind: str | ModelKind) -> str:
    """The loss used for error-reduction comparisons of a model kind (its
    ``primary_metric``)."""
    return kinds.get(kind).primary_metric


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
