"""Choosing alpha for the GLMs: one CV mechanism, k-fold or approximate leave-one-out.

For every alpha of a grid, each estimator minimizes::

    sum_i s_i * loss(y_i, x_i . w + b) + alpha / 2 * ||w||^2

* ``method="kfold"``: on each training fold, one warm-started path over the grid
  (:func:`ridgeway.glm.fit_path`); the held-out linear predictors are scored.
* ``method="alo"``: one path on the full data; at each alpha the approximate leave-one-out
  linear predictors of Rahnama Rad & Maleki (2020) (:func:`ridgeway.glm.alo_predictor`) are
  scored, split by the same folds so that a standard error exists for ``selection="1se"``.

Scores come from a scikit-learn scorer applied to a stand-in of the fitted estimator whose
linear predictor is the held-out (or leave-one-out) one, so any scorer works with both methods.

Default grid (``alphas=None``): ``n_alphas`` log-spaced values from ``sum_j d_j / 0.01`` down to
``0.01 * min_j d_j``, with ``d_j`` the eigenvalues of ``X_c' diag(c) X_c``, ``c_i`` the loss
curvature at the intercept-only model; this spans effective degrees of freedom from about 0 to
about ``rank(X)`` (see :func:`ridgeway.selection.df_alpha_grid`).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import check_scoring

from .._validation import check_alphas, check_choice, check_int, check_sample_weight
from ..exceptions import AlphaEdgeWarning
from ..glm import GLMData, L2Penalty, Objective, alo_predictor, fit_path, resolve_solver
from ..glm.path import null_model_curvature
from ..selection import check_cv, df_alpha_grid, edge_warning, log_grid, select_alpha
from ._glm import (
    LinearSVC,
    LogisticRegression,
    PoissonRegressor,
    check_glm_params,
    max_iter_for,
    validate_Xy,
)

__all__ = ["LinearSVCCV", "LogisticRegressionCV", "PoissonRegressorCV"]

METHODS = ("kfold", "alo")
_MAX_DENSE = 2000


def default_alphas(data: GLMData, loss, n_alphas: int) -> np.ndarray:
    """Data-driven grid spanning effective degrees of freedom from ~0 to ~rank (decreasing)."""
    d = null_model_curvature(data, loss, max_dense=_MAX_DENSE)
    if data.is_sparse or data.n_features > _MAX_DENSE:
        top = float(np.sum(np.maximum(d, 0)))
        return log_grid(top * 1e-6, top / 0.01, n_alphas) if top > 0 else log_grid(
            1e-3, 1e3, n_alphas)
    return df_alpha_grid(d, n_alphas=n_alphas, tail=0.01)


class GLMCVMixin:
    """``fit`` of every GLM ``...CV`` estimator (mixed in before the single-alpha estimator)."""

    def _base(self, alpha: float):
        """The single-alpha estimator with this estimator's shared hyperparameters."""
        names = self._base_class._get_param_names()
        params = {k: v for k, v in self.get_params(deep=False).items() if k in names}
        return self._base_class(**{**params, "alpha": alpha})

    def _check_cv_params(self) -> None:
        check_glm_params(self)
        check_choice(self.method, "method", METHODS)
        check_choice(self.selection, "selection", ("min", "1se"))
        check_int(self.n_alphas, "n_alphas", minimum=1)

    def fit(self, X, y, sample_weight=None):
        """Select alpha by cross-validation, then fit on all data. Returns ``self``."""
        self._check_cv_params()
        X, y = validate_Xy(self, X, y, y_numeric=self._y_numeric)
        problems, sw = self._encode(y, sample_weight)
        datas = [GLMData(X, Y, sw, bool(self.fit_intercept)) for Y, _ in problems]
        losses = [loss for _, loss in problems]
        self.solver_ = resolve_solver(
            self.solver, X.shape[0], datas[0].n_params, datas[0].n_outputs, datas[0].is_sparse
        )
        alphas = self._grid(datas[0], losses[0])
        folds = list(check_cv(self.cv, y, classifier=is_classifier(self)).split(X, y))
        weight = None if sample_weight is None else check_sample_weight(sample_weight, len(y))
        if self.scoring == self._native_scoring and len(problems) == 1:
            score_fn = self._loss_scorer(losses[0], datas[0].y, weight)
        else:
            score_fn = self._scorer_on(check_scoring(self._base(1.0), self.scoring), X, y, weight)
        if self.method == "alo":
            scores, paths = self._alo_scores(datas, losses, alphas, folds, score_fn)
        else:
            scores, paths = self._kfold_scores(datas, losses, alphas, folds, score_fn), None
        self._select(alphas, scores)
        self._refit(X, y, sample_weight, datas, losses, paths)
        return self

    def _grid(self, data: GLMData, loss) -> np.ndarray:
        if self.alphas is None:
            return default_alphas(data, loss, self.n_alphas)
        return np.sort(check_alphas(self.alphas))[::-1]

    def _paths(self, datas, losses, alphas):
        max_iter = max_iter_for(self.solver_, self.max_iter)
        return [
            fit_path(d, loss, L2Penalty(), alphas, solver=self.solver_, tol=self.tol,
                     max_iter=max_iter)
            for d, loss in zip(datas, losses, strict=True)
        ]

    def _kfold_scores(self, datas, losses, alphas, folds, score_fn) -> np.ndarray:
        scores = np.empty((len(folds), len(alphas)))
        for k, (train, test) in enumerate(folds):
            paths = self._paths([d.subset(train) for d in datas], losses, alphas)
            tests = [d.subset(test) for d in datas]
            for a in range(len(alphas)):
                etas = [t.predictor(p.theta(a)) for t, p in zip(tests, paths, strict=True)]
                eta = np.hstack(etas)
                scores[k, a] = score_fn(eta, test)
        return scores

    def _alo_scores(self, datas, losses, alphas, folds, score_fn):
        paths = self._paths(datas, losses, alphas)
        scores = np.empty((len(folds), len(alphas)))
        for a, alpha in enumerate(alphas):
            eta = np.hstack([
                alo_predictor(Objective(d, loss, L2Penalty(alpha)), p.theta(a))
                for d, loss, p in zip(datas, losses, paths, strict=True)
            ])
            for k, (_, test) in enumerate(folds):
                scores[k, a] = score_fn(eta[test], test)
        return scores, paths

    def _loss_scorer(self, loss, Y: np.ndarray, weight):
        """The model's own mean loss as a score: ``-scale * sum_i w_i loss_i / sum_i w_i``.

        Equals scikit-learn's ``neg_log_loss`` (logistic) or ``neg_mean_poisson_deviance``
        (Poisson, ``scale = 2``) without the per-call overhead of a scorer.
        """
        w = np.ones(len(Y)) if weight is None else weight

        def score(eta: np.ndarray, rows: np.ndarray) -> float:
            return -self._native_scale * loss.value(Y[rows], eta, w[rows]) / w[rows].sum()

        return score

    def _scorer_on(self, scorer, X, y, weight):
        """``(eta, rows) -> score`` of a stand-in estimator predicting from ``eta``."""
        names = ("classes_", "n_features_in_", "feature_names_in_")
        fitted = [n for n in names if hasattr(self, n)]

        def score(eta: np.ndarray, rows: np.ndarray) -> float:
            standin = self._base(1.0)
            for name in fitted:
                setattr(standin, name, getattr(self, name))
            standin._linear_predictor = lambda _X, eta=eta: eta
            kwargs = {} if weight is None else {"sample_weight": weight[rows]}
            return float(scorer(standin, X[rows], y[rows], **kwargs))

        return score

    def _select(self, alphas: np.ndarray, scores: np.ndarray) -> None:
        mean, std = scores.mean(axis=0), scores.std(axis=0)
        sem = std / np.sqrt(len(scores))
        choice = select_alpha(alphas, mean, sem, rule=self.selection, greater_is_better=True)
        results = {"alphas": alphas, "mean_test_score": mean, "std_test_score": std,
                   "sem_test_score": sem}
        for k, row in enumerate(scores):
            results[f"split{k}_test_score"] = row
        self.cv_results_ = results
        self.alphas_ = alphas
        self.alpha_ = float(alphas[choice.index])
        self.best_score_ = float(mean[choice.index])
        message = edge_warning(alphas, choice.index)
        if message is not None:
            warnings.warn(message, AlphaEdgeWarning, stacklevel=3)

    def _refit(self, X, y, sample_weight, datas, losses, paths) -> None:
        """Fit at ``alpha_`` on all data (reusing the full-data path of ``method="alo"``)."""
        if paths is None:
            fitted = self._base(self.alpha_).fit(X, y, sample_weight=sample_weight)
            self._store_fitted(fitted)
            return
        index = int(np.flatnonzero(self.alphas_ == self.alpha_)[0])
        fits = [_PathPoint(p, index) for p in paths]
        self._store(fits)

    def _store_fitted(self, fitted) -> None:
        for name in ("coef_", "intercept_", "n_iter_"):
            setattr(self, name, getattr(fitted, name))


class _PathPoint:
    """A FitResult-like view of one point of a path (coef, intercept, n_iter)."""

    def __init__(self, path, index: int):
        self.coef = path.coefs[index]
        self.intercept = path.intercepts[index]
        self.n_iter = int(path.n_iter[index])


_CV_PARAMS_DOC = """
    alphas : array-like or None, default=None
        Candidate penalties; ``None`` builds the data-driven grid of the module docstring.
    n_alphas : int, default=20
        Length of the default grid.
    cv : int, splitter or iterable, default=5
        Folds (stratified for classifiers). With ``method="alo"`` they only group the
        leave-one-out predictions into ``split{k}_test_score`` for a standard error.
    scoring : str or callable
        A scikit-learn scorer name or callable (greater is better).
    selection : {"min", "1se"}, default="min"
        Best mean score, or the largest alpha within one standard error of it.
    method : {"kfold", "alo"}, default="kfold"
        Warm-started paths per fold, or approximate leave-one-out from one full-data path.
    fit_intercept, solver, tol, max_iter
        As in the single-alpha estimator.

    Attributes
    ----------
    alpha_ : float
    best_score_ : float
        Mean CV score at ``alpha_``.
    cv_results_ : dict of ndarray
        ``"alphas"``, ``"mean_test_score"``, ``"std_test_score"``, ``"sem_test_score"``
        (standard error over the folds, used by ``selection="1se"``) and
        ``"split{k}_test_score"``, one value per alpha (decreasing alphas), as in ``RidgeCV``.
    alphas_ : ndarray
        The grid used, decreasing.
    coef_, intercept_, n_iter_, solver_, n_features_in_
        Of the fit on all data at ``alpha_``.
"""


class LogisticRegressionCV(GLMCVMixin, LogisticRegression):
    """Logistic regression with alpha chosen by k-fold CV or approximate leave-one-out.

    For each candidate alpha the model minimizes ``sum_i s_i loss_i + alpha/2 ||W||_F^2``
    (logistic or multinomial loss, unpenalized intercept; ``alpha = 1/C``).

    Parameters
    ----------
    class_weight : dict, "balanced" or None, default=None
    """

    __doc__ += _CV_PARAMS_DOC
    _base_class = LogisticRegression
    _native_scoring, _native_scale = "neg_log_loss", 1.0

    def __init__(
        self,
        alphas=None,
        *,
        n_alphas: int = 20,
        cv=5,
        scoring="neg_log_loss",
        selection: str = "min",
        method: str = "kfold",
        fit_intercept: bool = True,
        class_weight=None,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int | None = None,
    ):
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.cv = cv
        self.scoring = scoring
        self.selection = selection
        self.method = method
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter


class LinearSVCCV(GLMCVMixin, LinearSVC):
    """Squared-hinge linear SVM with alpha chosen by k-fold CV or approximate leave-one-out.

    For each candidate alpha, each one-vs-rest problem minimizes
    ``sum_i s_i max(0, 1 - y_i eta_i)^2 + alpha/2 ||w||^2`` (unpenalized intercept).

    Parameters
    ----------
    class_weight : dict, "balanced" or None, default=None
    """

    __doc__ += _CV_PARAMS_DOC
    _base_class = LinearSVC
    _native_scoring, _native_scale = None, 1.0

    def __init__(
        self,
        alphas=None,
        *,
        n_alphas: int = 20,
        cv=5,
        scoring="accuracy",
        selection: str = "min",
        method: str = "kfold",
        fit_intercept: bool = True,
        class_weight=None,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int | None = None,
    ):
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.cv = cv
        self.scoring = scoring
        self.selection = selection
        self.method = method
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter


class PoissonRegressorCV(GLMCVMixin, PoissonRegressor):
    """Poisson regression with alpha chosen by k-fold CV or approximate leave-one-out.

    For each candidate alpha the model minimizes
    ``sum_i s_i (y_i log(y_i/mu_i) - y_i + mu_i) + alpha/2 ||w||^2``, ``mu_i = exp(eta_i)``.

    Parameters
    ----------
    """

    __doc__ += _CV_PARAMS_DOC
    _base_class = PoissonRegressor
    _native_scoring, _native_scale = "neg_mean_poisson_deviance", 2.0

    def __init__(
        self,
        alphas=None,
        *,
        n_alphas: int = 20,
        cv=5,
        scoring="neg_mean_poisson_deviance",
        selection: str = "min",
        method: str = "kfold",
        fit_intercept: bool = True,
        solver: str = "auto",
        tol: float = 1e-8,
        max_iter: int | None = None,
    ):
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.cv = cv
        self.scoring = scoring
        self.selection = selection
        self.method = method
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
