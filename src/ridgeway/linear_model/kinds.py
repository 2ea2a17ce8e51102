"""The registry of model kinds: one entry per kind of model the command fits and saves.

A *model kind* (``ridge``, ``logistic``, ``poisson``, ``svm``) is what ``ridgeway fit --model``
names and what ``model.json`` records under ``"kind"``. Its :class:`ModelKind` entry in
:data:`KINDS` holds everything the layers above need to know about it, so that none of them
tests a kind's name:

* ``estimator``, ``cv_estimator``: the single-alpha estimator and the one that selects alpha by
  cross-validation (``cv_scoring`` is the score the command asks of the latter, ``None`` for
  its own default);
* ``score_label``: the loss behind the CV score (the CV estimators maximize its negative),
  ``primary_metric``: the key of :func:`ridgeway.inspection.model_metrics` on which L2 is
  compared with no penalty and with L1 (``l1``: the L1 counterpart, or ``None``);
* ``classifier``: predicts classes (stratified splits, class weights, a positive class);
  ``rates``: the target is a count or rate >= 0 and an exposure may weigh each row;
  ``spectral``: squared loss, so one eigendecomposition (:class:`ridgeway.linalg.RidgeSpectrum`)
  answers every alpha (exact leave-one-out and GCV, the closed-form path, the shrinkage and
  bias-variance plots, the minimum-norm fit at alpha 0);
* ``link``: how the linear predictor ``eta = X w + b`` becomes a prediction (``identity``,
  ``log``: ``exp(eta)``, ``logit``: probabilities, ``margin``: the class of the largest score);
* ``convention_loss``, ``conventions``: the rows of the "same strength in other tools"
  table (names of :mod:`ridgeway.conventions`), with ``convention_notes`` added to some rows;
* the model file: the estimator is saved under its class name (:attr:`ModelKind.saved_as`)
  with its hyperparameters and :attr:`ModelKind.fitted_attributes`, and rebuilt by
  :meth:`ModelKind.from_fitted` from those numbers alone.

Adding a model kind means writing its estimator and CV estimator and adding one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit, softmax

from ._glm import LinearSVC, LogisticRegression, PoissonRegressor
from ._glm_cv import LinearSVCCV, LogisticRegressionCV, PoissonRegressorCV
from ._ridge import Ridge, RidgeCV

__all__ = ["DEFAULT_CLASSIFIER", "DEFAULT_REGRESSOR", "KINDS", "ModelKind", "get", "kind_of",
           "neg_mean_squared_hinge", "squared_hinge"]


def squared_hinge(y: np.ndarray, scores: np.ndarray, classes: Any,
                  sample_weight: np.ndarray | None = None) -> float:
    """Mean squared hinge loss ``max(0, 1 - m)^2`` of class scores ``(n, n_classes)``.

    ``m = +-score`` (``+`` for the true class); one-vs-rest summed over the classes, and for
    two classes the loss of the second column alone (the binary SVM's one margin).
    """
    classes = np.asarray(classes)
    margin = np.where(np.asarray(y)[:, None] == classes[None, :], 1.0, -1.0) * scores
    hinge = np.maximum(0.0, 1.0 - margin) ** 2
    loss = hinge[:, 1] if len(classes) == 2 else hinge.sum(axis=1)
    return float(np.average(loss, weights=sample_weight))


def neg_mean_squared_hinge(est: Any, X: np.ndarray, y: np.ndarray,
                           sample_weight: np.ndarray | None = None) -> float:
    """A scorer (``scoring=`` of a CV estimator): minus :func:`squared_hinge` of ``est``."""
    d = est.decision_function(X)
    scores = np.column_stack([-d, d]) if d.ndim == 1 else d
    return -squared_hinge(y, scores, est.classes_, sample_weight)


@dataclass(frozen=True)
class ModelKind:
    """One model kind (see the module docstring for each field)."""

    name: str
    title: str
    estimator: type
    cv_estimator: type
    classifier: bool
    score_label: str
    primary_metric: str
    link: str
    convention_loss: str
    conventions: tuple[str, ...]
    cv_scoring: str | Callable | None = None
    rates: bool = False
    spectral: bool = False
    l1: str | None = None
    convention_notes: dict[str, str] = field(default_factory=dict)

    @property
    def saved_as(self) -> str:
        """The estimator's class name in the model file."""
        return self.estimator.__name__

    @property
    def fitted_attributes(self) -> tuple[str, ...]:
        """The fitted attributes that make a prediction (saved in the model file)."""
        return ("coef_", "intercept_", "n_features_in_") + (
            ("classes_",) if self.classifier else ())

    def from_fitted(self, params: dict[str, Any], fitted: dict[str, Any]) -> Any:
        """A fitted ``estimator`` from its hyperparameters and :attr:`fitted_attributes`.

        Lists become float64 arrays (labels: arrays of their own type); the coefficients must
        have ``n_features_in_`` columns.
        """
        est = self.estimator(**params)
        for name in self.fitted_attributes:
            value = fitted[name]
            if name == "n_features_in_":
                value = int(value)
            elif name == "classes_":
                value = np.asarray(value)
            elif isinstance(value, (list, np.ndarray)):
                value = np.asarray(value, dtype=np.float64)
            else:
                value = float(value)
            setattr(est, name, value)
        if np.shape(est.coef_)[-1] != est.n_features_in_:
            raise ValueError("the coefficients do not match the number of features")
        return est

    def final_estimator(self, cv_estimator: Any) -> Any:
        """The single-alpha estimator of a fitted ``cv_estimator``: its final fit at
        ``alpha_``, with the hyperparameters the two classes share."""
        names = set(self.estimator._get_param_names()) - {"alpha"}
        params = {k: v for k, v in cv_estimator.get_params(deep=False).items() if k in names}
        params["alpha"] = float(cv_estimator.alpha_)
        return self.from_fitted(params, {k: getattr(cv_estimator, k)
                                         for k in self.fitted_attributes})

    def linear_predictor(self, est: Any, X: np.ndarray) -> np.ndarray:
        """``eta = X w + b`` of a fitted ``est``, shape ``(n, n_outputs)``."""
        eta = np.asarray(X @ np.asarray(est.coef_).T) + est.intercept_
        return eta[:, None] if eta.ndim == 1 else eta

    def predict_columns(self, est: Any, eta: np.ndarray) -> dict[str, np.ndarray]:
        """``prediction`` (and ``proba_<class>`` for ``logit``) from :meth:`linear_predictor`,
        as ``est.predict`` and ``est.predict_proba`` compute them."""
        if self.link in ("identity", "log"):
            return {"prediction": np.exp(eta[:, 0]) if self.link == "log" else eta[:, 0]}
        scores = eta[:, 0] if eta.shape[1] == 1 else eta
        idx = (scores > 0).astype(int) if scores.ndim == 1 else np.argmax(scores, axis=1)
        out = {"prediction": est.classes_[idx]}
        if self.link == "logit":
            p = expit(scores) if scores.ndim == 1 else softmax(scores, axis=1)
            proba = np.column_stack([1 - p, p]) if scores.ndim == 1 else p
            out.update({f"proba_{c}": proba[:, k] for k, c in enumerate(est.classes_)})
        return out


#: every model kind, by name (the order of ``--model``'s choices)
KINDS: dict[str, ModelKind] = {k.name: k for k in (
    ModelKind("ridge", "Ridge", Ridge, RidgeCV, classifier=False, score_label="MSE",
              primary_metric="mse", link="identity", convention_loss="squared",
              conventions=("sklearn", "glmnet", "glum", "torch_sgd", "keras", "seed_sum"),
              spectral=True, l1="lasso"),
    ModelKind("logistic", "Logistic", LogisticRegression, LogisticRegressionCV,
              classifier=True, score_label="log-loss", primary_metric="log_loss", link="logit",
              convention_loss="log",
              conventions=("sklearn_C", "glmnet", "glum", "torch_sgd", "keras", "seed_sum"),
              cv_scoring="neg_log_loss", l1="logistic"),
    ModelKind("poisson", "Poisson", PoissonRegressor, PoissonRegressorCV, classifier=False,
              score_label="Poisson deviance", primary_metric="mean_poisson_deviance",
              link="log", convention_loss="poisson",
              conventions=("sklearn_glm", "glmnet", "glum", "torch_sgd", "keras"),
              cv_scoring="neg_mean_poisson_deviance", rates=True),
    ModelKind("svm", "Linear SVM", LinearSVC, LinearSVCCV, classifier=True,
              score_label="squared hinge loss", primary_metric="squared_hinge", link="margin",
              convention_loss="squared_hinge", conventions=("sklearn_C",),
              cv_scoring=neg_mean_squared_hinge, l1="squared_hinge",
              convention_notes={"sklearn_C": "liblinear also penalizes the intercept"}),
)}

#: the kinds ``ridgeway fit`` chooses when ``--model`` is not given
DEFAULT_REGRESSOR, DEFAULT_CLASSIFIER = "ridge", "logistic"


def get(kind: str | ModelKind) -> ModelKind:
    """The entry of a kind given by name (or the entry itself).

    Raises
    ------
    ValueError
        An unknown name (the message lists the known ones).
    """
    if isinstance(kind, ModelKind):
        return kind
    try:
        return KINDS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"unknown model kind {kind!r}; the kinds are "
                         f"{', '.join(KINDS)}.") from None


def kind_of(estimator: Any) -> ModelKind | None:
    """The kind whose estimator or CV estimator ``estimator`` is (None for another class)."""
    for kind in KINDS.values():
        if type(estimator) in (kind.estimator, kind.cv_estimator):
            return kind
    return None
