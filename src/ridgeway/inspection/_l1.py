"""L1-penalized linear classifiers on a short warm-started path, for the report's comparison.

For a binary logistic, multinomial or squared-hinge model this minimizes, over ``W`` (one
column per class, or one column for two classes) and an unpenalized intercept ``b``::

    1/n * sum_i loss(y_i, x_i W + b) + lam * ||W||_1

on a geometric grid of ``lam`` from ``lam_max`` (the smallest strength with ``W = 0``) down
to ``lam_max / 100``; ``lam`` is chosen by k-fold CV on the model's own mean loss.

* Two classes (logistic or squared hinge): liblinear's L1 coordinate-descent Newton solver
  through scikit-learn (``LogisticRegression(l1_ratio=1, solver="liblinear")`` /
  ``LinearSVC(penalty="l1", dual=False)`` with ``C = 1 / (n lam)``). liblinear penalizes the
  intercept too; ``intercept_scaling=100`` makes that penalty ``lam |b| / 100``, negligible.
* More classes (multinomial): accelerated proximal gradient (FISTA with adaptive restart,
  :func:`ridgeway.glm.l1.l1_path`), warm-started down the grid; the features are expected
  standardized (the command's design), so one step size ``1/L`` serves the whole path.

This replaces scikit-learn's saga ``LogisticRegressionCV(l1_ratios=(1,))`` in the report
(about 10x cheaper on Caravan-sized data; ``bench/bench_report.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, softmax

from ..glm.l1 import l1_loss_grad, l1_path

__all__ = ["L1Classifier", "L1LogisticClassifier", "l1_classifier_cv", "l1_path"]


def _design_targets(y: np.ndarray, classes: np.ndarray, loss: str) -> np.ndarray:
    if loss == "multinomial":
        return (y[:, None] == classes[None, :]).astype(float)
    return np.where(y == classes[-1], 1.0, -1.0)[:, None]


def _liblinear(X: np.ndarray, Y: np.ndarray, loss: str, lam: float
               ) -> tuple[np.ndarray, np.ndarray]:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    C = 1.0 / (X.shape[0] * lam)
    if loss == "logistic":
        model = LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", intercept_scaling=100,
                                   tol=1e-4)
    else:
        model = LinearSVC(C=C, penalty="l1", loss="squared_hinge", dual=False,
                          intercept_scaling=100, tol=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, Y[:, 0] > 0)
    return model.coef_.T.copy(), np.atleast_1d(model.intercept_).astype(float)


def _path(X: np.ndarray, Y: np.ndarray, loss: str, lams: np.ndarray
          ) -> list[tuple[np.ndarray, np.ndarray]]:
    if loss == "multinomial":
        return l1_path(X, Y, loss, lams)[1]
    return [_liblinear(X, Y, loss, float(lam)) for lam in lams]


@dataclass
class L1Classifier:
    """A fitted L1 classifier (the CV-best point of :func:`l1_classifier_cv`).

    ``alpha_`` is ``lam`` of the mean-loss objective above; ``coef_`` has scikit-learn's shape
    (``(1, p)`` binary, ``(k, p)`` multiclass).
    """

    classes_: np.ndarray
    coef_: np.ndarray
    intercept_: np.ndarray
    alpha_: float
    loss: str

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Linear scores (binary: one column, raveled)."""
        eta = X @ self.coef_.T + self.intercept_
        return eta[:, 0] if eta.shape[1] == 1 else eta

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted labels."""
        d = self.decision_function(X)
        idx = (d > 0).astype(int) if d.ndim == 1 else np.argmax(d, axis=1)
        return self.classes_[idx]


@dataclass
class L1LogisticClassifier(L1Classifier):
    """An :class:`L1Classifier` of a logistic loss, with probabilities."""

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities."""
        d = self.decision_function(X)
        if d.ndim == 1:
            p = expit(d)
            return np.column_stack([1 - p, p])
        return softmax(d, axis=1)


def l1_classifier_cv(X: np.ndarray, y: np.ndarray, *, svm: bool = False, n_folds: int = 5,
                     n_lams: int = 10, random_state: int = 0) -> L1Classifier:
    """Choose ``lam`` by stratified k-fold CV on the mean loss, then fit on all rows.

    Parameters
    ----------
    X : ndarray of shape (n, p), standardized
    y : ndarray of labels
    svm : bool
        Squared-hinge loss (binary only) instead of the logistic / multinomial loss.
    n_folds, n_lams, random_state : int

    Returns
    -------
    L1Classifier
    """
    from sklearn.model_selection import StratifiedKFold

    classes = np.unique(y)
    if svm and len(classes) > 2:
        raise ValueError("the L1 squared-hinge comparison is for two classes only")
    loss = "squared_hinge" if svm else ("logistic" if len(classes) == 2 else "multinomial")
    Y = _design_targets(np.asarray(y), classes, loss)
    lams, _ = l1_path(X, Y, loss, n_lams=1)
    lams = np.geomspace(lams[0], lams[0] * 1e-2, n_lams)
    _, counts = np.unique(y, return_counts=True)
    k = int(min(n_folds, counts.min()))
    cv_loss = np.zeros(len(lams))
    if k >= 2:
        folds = StratifiedKFold(k, shuffle=True, random_state=random_state).split(X, y)
        for train, test in folds:
            for a, (W, b) in enumerate(_path(X[train], Y[train], loss, lams)):
                cv_loss[a] += l1_loss_grad(loss, Y[test], X[test] @ W + b)[0]
    best = int(np.argmin(cv_loss))
    W, b = _path(X, Y, loss, lams[best:best + 1] if loss != "multinomial" else
                 lams[:best + 1])[-1]
    cls = L1Classifier if svm else L1LogisticClassifier
    return cls(classes, W.T.copy(), b.copy(), float(lams[best]), loss)
