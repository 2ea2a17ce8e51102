"""Scorers on known predictions: a scikit-learn scorer applied to CV (or leave-one-out)
predictions without refitting, through one stand-in estimator, :class:`KnownResponses`."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import ClassifierTags, RegressorTags
from sklearn.utils.metaestimators import available_if


def _response(method: str):
    """The response method ``method`` of :class:`KnownResponses`: present only when given."""
    def respond(self, X):
        return self.responses[method]

    respond.__name__ = respond.__qualname__ = method
    respond.__doc__ = f"The known output of ``{method}`` on the scored rows (X is not read)."
    return available_if(lambda self: method in self.responses)(respond)


class KnownResponses(BaseEstimator):
    """What a scorer sees in place of a fitted estimator whose responses are already known.

    Parameters
    ----------
    responses : dict
        ``{method: array}`` for the response methods of the estimator stood in for (some of
        ``predict``, ``decision_function``, ``predict_proba``, ``predict_log_proba``), on the
        rows being scored; only those methods exist.
    classes : ndarray, optional
        The classes of a classifier (``classes_``); None for a regressor.
    score_function : callable, optional
        ``score_function(y, prediction, sample_weight=None)``: the estimator's ``score``
        (a scorer of ``scoring=None`` calls it).
    """

    def __init__(self, responses=None, classes=None, score_function=None):
        self.responses = responses
        self.classes = classes
        self.score_function = score_function

    def fit(self, X=None, y=None):
        """Nothing to fit: the responses are given (scorers ask for the method to exist)."""
        return self

    @property
    def classes_(self):
        if self.classes is None:
            raise AttributeError("a regressor has no classes_")
        return self.classes

    predict = _response("predict")
    decision_function = _response("decision_function")
    predict_proba = _response("predict_proba")
    predict_log_proba = _response("predict_log_proba")

    @available_if(lambda self: self.score_function is not None)
    def score(self, X, y, sample_weight=None):
        return self.score_function(y, self.responses["predict"], sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.classes is None:
            tags.estimator_type, tags.regressor_tags = "regressor", RegressorTags()
        else:
            tags.estimator_type, tags.classifier_tags = "classifier", ClassifierTags()
        return tags


def accepts_sample_weight(scorer) -> bool:
    """Whether a scorer (a scikit-learn scorer object or a plain callable) takes weights.

    A ``make_scorer(f)`` scorer takes them if ``f`` has a ``sample_weight`` parameter (or
    ``**kwargs``); a plain callable ``scorer(est, X, y)`` if it has one itself.
    """
    func = getattr(scorer, "_score_func", scorer)
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "sample_weight" or p.kind is p.VAR_KEYWORD for p in params)


def make_scorer_loss(scoring, *, per_target: bool = False, one_d: bool = False,
                     weighted: bool = False, y_scale: float = 1.0):
    """``None`` -> None (squared error, computed in closed form); else a loss function.

    The returned callable maps ``(y_true (m, t), prediction (m, t), sample_weight)`` to one
    loss per target (shape (t,)), ``-score`` of the scikit-learn scorer ``scoring`` (a name,
    a ``make_scorer`` object or a plain callable ``scoring(estimator, X, y)``). As in
    scikit-learn's ``RidgeCV``, multi-output y is scored as a whole (the one score repeated
    for every target) unless ``per_target``, and a 1-D y is passed as 1-D (``one_d``). The
    weights are passed only when ``weighted`` (the user gave ``sample_weight``) and the scorer
    accepts them (scikit-learn's metadata routing does the same). ``y_scale``: y and the
    predictions arrive divided by it (a rescaled fit) and are scored in their own units.
    """
    if scoring is None:
        return None
    from sklearn.metrics import check_scoring, r2_score

    scorer = check_scoring(KnownResponses({"predict": None}), scoring=scoring)
    pass_weights = weighted and accepts_sample_weight(scorer)

    def score(y_true, prediction, sample_weight):
        kwargs = {"sample_weight": sample_weight} if pass_weights else {}
        if y_scale != 1.0:
            y_true, prediction = y_true * y_scale, prediction * y_scale
        known = KnownResponses({"predict": prediction}, score_function=r2_score)
        return float(scorer(known, np.empty((y_true.shape[0], 0)), y_true, **kwargs))

    def loss(y_true, prediction, sample_weight=None):
        t = y_true.shape[1]
        if one_d:
            return np.array([-score(y_true[:, 0], prediction[:, 0], sample_weight)])
        if per_target:
            return np.array([-score(y_true[:, j], prediction[:, j], sample_weight)
                             for j in range(t)])
        return np.full(t, -score(y_true, prediction, sample_weight))

    return loss


def with_labels(scorer, classes):
    """A scorer whose metric takes ``labels`` gets all classes, so that a test fold lacking a
    class is still scored (scikit-learn's ``LogisticRegressionCV`` does the same)."""
    from sklearn.metrics import make_scorer

    func = getattr(scorer, "_score_func", None)
    if classes is None or func is None or "labels" not in inspect.signature(func).parameters:
        return scorer
    kwargs = dict(getattr(scorer, "_kwargs", {}))
    kwargs["labels"] = classes
    if len(classes) <= 2 and "pos_label" in inspect.signature(func).parameters:
        kwargs.setdefault("pos_label", classes[-1])
    return make_scorer(func, greater_is_better=scorer._sign == 1,
                       response_method=scorer._response_method, **kwargs)


def fold_stats(scores: np.ndarray, *, warn: bool = True):
    """Mean, sd and standard error over the folds (axis 0), skipping folds a scorer could not
    score (NaN, e.g. ROC AUC on a fold lacking a class), with a warning naming how many."""
    finite = np.isfinite(scores)
    if finite.all():
        return scores.mean(axis=0), scores.std(axis=0), scores.std(axis=0) / np.sqrt(len(scores))
    if warn:
        bad = int(np.sum(~finite.all(axis=1)))
        warnings.warn(
            f"The scorer returned a non-finite score on {bad} of {len(scores)} folds (for "
            "example a test fold lacking a class); the CV mean uses the other folds.",
            UserWarning, stacklevel=4,
        )
    count = np.maximum(finite.sum(axis=0), 1)
    masked = np.where(finite, scores, 0.0)
    mean = np.where(finite.any(axis=0), masked.sum(axis=0) / count, np.nan)
    var = np.where(finite, (scores - mean) ** 2, 0.0).sum(axis=0) / count
    return mean, np.sqrt(var), np.sqrt(var / count)
