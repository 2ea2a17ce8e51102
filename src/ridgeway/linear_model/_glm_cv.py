"""Choosing alpha for the GLMs: one CV mechanism, k-fold or approximate leave-one-out.

For every alpha of a grid, each estimator minimizes::

    sum_i s_i * loss(y_i, x_i . w + b) + alpha / 2 * ||w||^2

* ``method="kfold"``: on each training fold, one warm-started path over the grid; the
  held-out linear predictors are scored.
* ``method="alo"``: one path on the full data; at each alpha the approximate leave-one-out
  linear predictors of Rahnama Rad & Maleki (2020) are scored, split by the same folds so that
  a standard error exists for ``selection="1se"``.

The paths are computed by :mod:`ridgeway.glm.cvpath`: in the eigenbasis of the design, all
folds in lock-step and stopped at a fraction of the held-out standard error
(:class:`~ridgeway.glm.cvpath.SpectralCV`, dense one-output problems with ``solver="auto"``),
or by :func:`ridgeway.glm.fit_path` per fold (:class:`~ridgeway.glm.cvpath.GeneralCV`). The
final fit at ``alpha_`` is solved to ``tol`` on all data, started from the CV solutions.

Scores come from a scikit-learn scorer applied to the responses of the single-alpha model to
the held-out (or leave-one-out) linear predictors (:class:`ridgeway.selection.KnownResponses`),
so any scorer works with both methods. The search over the grid (widening, the rule,
refinement) is :func:`ridgeway.selection.search_alpha`, as for ``RidgeCV``.

Default grid (``alphas=None``): ``n_alphas`` log-spaced values from ``sum_j d_j / 0.01`` down to
``0.01 * min_j d_j``, with ``d_j`` the eigenvalues of ``X_c' diag(c) X_c``, ``c_i`` the loss
curvature at the intercept-only model; this spans effective degrees of freedom from about 0 to
about ``rank(X)`` (see :func:`ridgeway.selection.df_alpha_grid`).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import check_scoring

from .._validation import check_choice, check_int, check_sample_weight
from ..glm import GLMData, resolve_solver
from ..glm.cvpath import GeneralCV, SpectralCV, refit_exact, use_spectral
from ..glm.path import null_model_curvature
from ..selection import (
    AlphaGrid,
    CVCurve,
    KnownResponses,
    SearchResult,
    SearchSpec,
    accepts_sample_weight,
    check_alpha_grid,
    check_cv,
    check_rule,
    df_alpha_grid,
    fold_stats,
    log_grid,
    search_alpha,
    with_labels,
)
from ._glm import (
    LinearSVC,
    LogisticRegression,
    PoissonRegressor,
    check_glm_params,
    fit_glm,
    max_iter_for,
    validate_Xy,
)

__all__ = ["LinearSVCCV", "LogisticRegressionCV", "PoissonRegressorCV"]

METHODS = ("kfold", "alo")
_MAX_DENSE = 2000
#: ``alphas="auto"``: grid points added per widening (3 decades), rounds at most.
_WIDEN_POINTS, _WIDEN_ROUNDS = 7, 6
#: A CV fit counts as "almost unpenalized" when its df is at least this share of the rank.
NEAR_RANK = 0.95


def default_alphas(data: GLMData, loss, n_alphas: int) -> tuple[np.ndarray, int]:
    """Data-driven grid spanning effective degrees of freedom from ~0 to ~rank (decreasing),
    and the rank of the (centered) design."""
    d = null_model_curvature(data, loss, max_dense=_MAX_DENSE)
    if data.is_sparse or data.n_features > _MAX_DENSE:
        top = float(np.sum(np.maximum(d, 0)))
        rank = int(min(data.X.shape[0] - int(data.fit_intercept), data.n_features))
        grid = (log_grid(top * 1e-6, top / 0.01, n_alphas) if top > 0
                else log_grid(1e-3, 1e3, n_alphas))
        return grid, rank
    rank = int(np.sum(d > 1e-10 * max(float(np.max(d)), 1e-300))) if d.size else 0
    return df_alpha_grid(d, n_alphas=n_alphas, tail=0.01), rank


def _sklearn_Cs(Cs) -> np.ndarray:
    """scikit-learn's ``Cs``: an int gives ``logspace(-4, 4, Cs)``; returns alphas = 1/C."""
    if isinstance(Cs, Integral) and not isinstance(Cs, bool):
        check_int(Cs, "Cs", minimum=1)
        C = np.logspace(-4, 4, int(Cs))
    else:
        C = np.asarray(Cs, dtype=np.float64).ravel()
        if C.size == 0 or not np.all(np.isfinite(C)) or np.any(C <= 0):
            raise ValueError(f"Cs must be positive finite numbers (alpha = 1 / C), got {Cs!r}.")
    return 1.0 / C


class GLMCVMixin:
    """``fit`` of every GLM ``...CV`` estimator (mixed in before the single-alpha estimator)."""

    def _check_cv_params(self) -> AlphaGrid:
        """Validate the CV hyperparameters; return the grid asked for (``alphas`` or ``Cs``)."""
        check_glm_params(self)
        check_choice(self.method, "method", METHODS)
        check_rule(self.selection)
        check_int(self.n_alphas, "n_alphas", minimum=1)
        if getattr(self, "Cs", None) is None:
            return check_alpha_grid(self.alphas)
        if self.alphas is not None:
            raise ValueError(
                "Pass either alphas or Cs, not both: Cs is scikit-learn's grid of inverse "
                "penalties, alphas = 1 / Cs."
            )
        return AlphaGrid(_sklearn_Cs(self.Cs))

    def fit(self, X, y, sample_weight=None):
        """Select alpha by cross-validation, then fit on all data. Returns ``self``."""
        grid = self._check_cv_params()
        X, y = validate_Xy(self, X, y, y_numeric=self._y_numeric)
        problems, sw = self._encode(y, sample_weight)
        datas = [GLMData(X, Y, sw, bool(self.fit_intercept)) for Y, _ in problems]
        losses = [loss for _, loss in problems]
        self.solver_ = resolve_cv_solver(self, datas[0])
        folds = list(check_cv(self.cv, y, classifier=is_classifier(self)).split(X, y))
        score_fn = self._score_function(X, y, datas, losses, sample_weight)
        engine, rank = self._engine(X, datas, losses, folds, grid)
        start, rank = self._grid(datas[0], losses[0], rank, grid)
        points = {}

        def evaluate(alphas: np.ndarray) -> CVCurve:
            fitted = engine.evaluate(alphas)
            points.update(zip(alphas.tolist(), fitted, strict=True))
            return _score_curve(alphas, self._scores(fitted, folds, score_fn))

        found = self._search(evaluate, start, grid)
        grid_points = [points[a] for a in found.curve.alphas.tolist()]
        self._store_search(found, grid_points)
        best = points[self.alpha_]
        outputs = (datas[0].n_outputs - 1) if datas[0].n_outputs > 1 else len(datas)
        self.rank_ = rank * outputs
        self.almost_unpenalized_ = bool(best.df >= NEAR_RANK * self.rank_)
        self._refit(X, datas, losses, best, engine)
        self._store_cv_attributes(-found.curve.splits[:, :, 0], grid_points)
        return self

    def _store_cv_attributes(self, scores, points) -> None:
        """Estimator-specific views of the CV results (scikit-learn's layouts)."""

    def _engine(self, X, datas, losses, folds, grid: AlphaGrid):
        """The CV paths' engine, and the design's rank when the engine knows it."""
        max_iter = max_iter_for(self.solver_, self.max_iter)
        # alpha 0 goes through fit_path, whose unpenalized fits detect separable data
        has_zero = grid.values is not None and bool(np.any(grid.values == 0))
        if use_spectral(datas, self.solver) and not has_zero:
            engine = SpectralCV(X, datas, losses, folds, self.method, max_iter)
            return engine, engine.design.rank()
        return GeneralCV(datas, losses, folds, self.method, self.solver_, max_iter,
                         self.tol), None

    def _grid(self, data: GLMData, loss, rank: int | None, grid: AlphaGrid
              ) -> tuple[np.ndarray, int]:
        """The starting grid (decreasing) and the design's rank (computed if not given)."""
        if grid.values is None or rank is None:
            default, rank = default_alphas(data, loss, self.n_alphas)
        if grid.values is None:
            return default, rank
        return np.sort(grid.values)[::-1], rank

    def _search(self, evaluate, start: np.ndarray, grid: AlphaGrid) -> SearchResult:
        spec = SearchSpec(rule=self.selection, auto=grid.auto, widen_points=_WIDEN_POINTS,
                          widen_rounds=_WIDEN_ROUNDS, refine_xatol=1e-2, refine_maxiter=12)
        return search_alpha(evaluate, start, spec)

    def _store_search(self, found: SearchResult, points) -> None:
        """``cv_results_``, ``alphas_``, ``alpha_`` and ``best_score_``."""
        scores = -found.curve.splits[:, :, 0]
        mean, std, sem = fold_stats(scores)
        alphas = found.curve.alphas
        results = {"alphas": alphas, "mean_test_score": mean, "std_test_score": std,
                   "sem_test_score": sem, "df": np.array([p.df for p in points])}
        for k, row in enumerate(scores):
            results[f"split{k}_test_score"] = row
        self.cv_results_ = results
        self.alphas_ = alphas
        self.alpha_ = float(found.alpha)
        self.best_score_ = -float(found.loss)

    def _scores(self, points, folds, score_fn) -> np.ndarray:
        """``(n_folds, n_alphas)`` scores of the held-out (or leave-one-out) predictors."""
        scores = np.empty((len(folds), len(points)))
        for a, point in enumerate(points):
            for k, (_, test) in enumerate(folds):
                eta = point.held[0][test] if self.method == "alo" else point.held[k]
                scores[k, a] = score_fn(eta, test)
        return scores

    def _score_function(self, X, y, datas, losses, sample_weight):
        """``(eta, rows) -> score`` of held-out linear predictors ``eta`` of ``rows``."""
        weight = None if sample_weight is None else check_sample_weight(sample_weight, len(y))
        if self.scoring == self._native_scoring and len(datas) == 1:
            return self._loss_scorer(losses[0], datas[0].y, weight)
        scorer = with_labels(check_scoring(self, self.scoring),
                             getattr(self, "classes_", None))
        return self._scorer_on(scorer, X, y, weight)

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
        """``(eta, rows) -> score``: ``scorer`` on the responses of the single-alpha model
        to ``eta`` (:class:`~ridgeway.selection.KnownResponses`); weights go only to a scorer
        that accepts them, as in ``RidgeCV``."""
        classes = getattr(self, "classes_", None)
        weight = weight if accepts_sample_weight(scorer) else None

        def score(eta: np.ndarray, rows: np.ndarray) -> float:
            known = KnownResponses({m: self._respond(eta, m) for m in self._RESPONSES},
                                   classes=classes, score_function=self._score_metric)
            kwargs = {} if weight is None else {"sample_weight": weight[rows]}
            return float(scorer(known, X[rows], y[rows], **kwargs))

        return score

    def _refit(self, X, datas, losses, point, engine) -> None:
        """Fit at ``alpha_`` on all data to ``tol``, started from the CV solutions there (with
        the spectral engine, first brought to ``tol / 10`` in its basis)."""
        if isinstance(engine, SpectralCV):
            starts = refit_exact(engine, X, datas, losses, self.alpha_, point, self.tol / 10,
                                 max_iter_for("lbfgs", self.max_iter))
        else:
            starts = [np.mean([row[j] for row in point.thetas], axis=0)
                      for j in range(len(datas))]
        fits = []
        for d, loss, start in zip(datas, losses, starts, strict=True):
            theta0 = start if d.fit_intercept else start[: d.n_features]
            fits.append(fit_glm(self, X, d.y, d.sample_weight, loss, self.alpha_, theta0))
        solver = self.solver_
        self._store_fits(fits)
        self.solver_ = solver
        if isinstance(self.n_iter_, int):  # one count: the CV fits at alpha_ and the final fit
            self.n_iter_ += int(np.sum(point.n_iter))


def _score_curve(alphas: np.ndarray, scores: np.ndarray) -> CVCurve:
    """``(n_folds, n_alphas)`` scores (greater is better) as a loss curve of one target."""
    mean, _std, sem = fold_stats(scores, warn=False)
    return CVCurve(alphas, -mean[:, None], sem[:, None], -scores[:, :, None])


def resolve_cv_solver(est, data: GLMData) -> str:
    """The solver of the final fit (``solver_``), as the single-alpha estimator resolves it."""
    return resolve_solver(est.solver, data.X.shape[0], data.n_params, data.n_outputs,
                          data.is_sparse)


_CV_PARAMS_DOC = """
    alphas : array-like, None or "auto", default=None
        Candidate penalties; ``None`` builds the data-driven grid of the module docstring.
        ``"auto"``: that grid, widened by three decades at a time while the best mean score
        sits on its edge, then (``selection="min"``) refined by a bounded search on
        ``log(alpha)`` between the best grid point's neighbours, as ``RidgeCV``.
    n_alphas : int, default=20
        Length of the default grid.
    cv : int, splitter or iterable, default=5
        Folds (stratified for classifiers). With ``method="alo"`` they only group the
        leave-one-out predictions into ``split{k}_test_score`` for a standard error.
    scoring : str or callable
        A scikit-learn scorer name or callable (greater is better); also used by ``score``.
    selection : {"min", "1se"}, default="min"
        Best mean score (the largest alpha among exact ties), or the largest alpha within one
        standard error of it.
    method : {"kfold", "alo"}, default="kfold"
        Warm-started paths per fold, or approximate leave-one-out from one full-data path.
    fit_intercept, solver, tol, max_iter
        As in the single-alpha estimator; ``tol`` applies to the final fit at ``alpha_``. The
        fold paths stop at the accuracy the CV curve needs (docs/glm.md, "Accuracy of the CV
        paths"). With ``solver="auto"`` the paths of one-output problems (binary logistic,
        each one-vs-rest SVM, Poisson) run in the eigenbasis of the design
        (:mod:`ridgeway.glm.cvpath`).
    n_jobs, random_state, verbose
        Accepted for scikit-learn compatibility (BLAS threads; deterministic fits).

    Attributes
    ----------
    alpha_ : float
    best_score_ : float
        Mean CV score at ``alpha_``.
    cv_results_ : dict of ndarray
        ``"alphas"``, ``"mean_test_score"``, ``"std_test_score"``, ``"sem_test_score"``
        (standard error over the folds, used by ``selection="1se"``), ``"df"`` (effective
        degrees of freedom: of the full-data fit for ``method="alo"``, the mean over the
        training folds for k-fold) and ``"split{k}_test_score"``, one value per alpha
        (decreasing alphas), as in ``RidgeCV``.
    alphas_ : ndarray
        The grid used, decreasing.
    rank_ : int
        Identified parameters of the model (rank of the centered design, plus the intercept,
        times the outputs): the largest value ``df`` can reach.
    almost_unpenalized_ : bool
        Whether the df at ``alpha_`` is at least 95% of ``rank_``: CV prefers almost no
        penalty.
    coef_, intercept_, n_iter_, df_, solver_, n_features_in_
        Of the fit on all data at ``alpha_`` (to ``tol``).
"""


_LOGISTIC_CV_ATTRIBUTES = """    Cs_ : ndarray
        ``1 / alphas_`` (increasing, as scikit-learn's).
    C_ : ndarray of shape (1,)
        ``1 / alpha_`` (``inf`` for alpha 0).
    scores_ : dict
        scikit-learn's layout: for each class label (the positive class only for two
        classes), the ``(n_folds, n_alphas)`` scores (the same array for every key).
    coefs_paths_ : dict
        scikit-learn's layout: for each class label (the positive class for two classes),
        ``(n_folds, n_alphas, n_features + fit_intercept)``, the fold paths' coefficients
        (intercept last); k-fold only (``method="alo"`` has one full-data path: one "fold").
    n_iter_ : ndarray of shape (1, n_folds, n_alphas)
        Iterations of each CV fit (scikit-learn's layout).
"""


class LogisticRegressionCV(GLMCVMixin, LogisticRegression):
    """Logistic regression with alpha chosen by k-fold CV or approximate leave-one-out.

    For each candidate alpha the model minimizes ``sum_i s_i loss_i + alpha/2 ||W||_F^2``
    (logistic or multinomial loss, unpenalized intercept; ``alpha = 1/C``).

    Parameters
    ----------
    class_weight : dict, "balanced" or None, default=None
    Cs : int, array-like or None, default=None
        scikit-learn's grid of inverse penalties (``alphas = 1 / Cs``; an int ``k`` means
        ``logspace(-4, 4, k)`` as in scikit-learn). Give ``alphas`` or ``Cs``, not both.
    penalty : {"l2"}, default="l2"
    dual, intercept_scaling
        scikit-learn's keywords, accepted at their defaults (``False, 1``).
    """

    __doc__ += _CV_PARAMS_DOC + _LOGISTIC_CV_ATTRIBUTES
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
        Cs=None,
        penalty: str = "l2",
        n_jobs: int | None = None,
        random_state=None,
        dual: bool = False,
        intercept_scaling: float = 1,
        verbose: int = 0,
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
        self.Cs = Cs
        self.penalty = penalty
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.dual = dual
        self.intercept_scaling = intercept_scaling
        self.verbose = verbose

    def _store_cv_attributes(self, scores, points) -> None:
        with np.errstate(divide="ignore"):  # alpha 0 (no penalty) is C = inf
            self.Cs_ = 1.0 / np.asarray(self.alphas_, dtype=np.float64)
            self.C_ = 1.0 / np.array([self.alpha_], dtype=np.float64)
        keys = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        self.scores_ = {label: scores for label in keys}
        thetas = np.stack([[p.thetas[k][0] for p in points] for k in range(len(points[0].thetas))])
        # thetas: (n_folds, n_alphas, n_params, n_outputs)
        self.coefs_paths_ = {label: thetas[:, :, :, min(c, thetas.shape[3] - 1)]
                             for c, label in enumerate(keys)}
        self.n_iter_ = np.stack([p.n_iter for p in points], axis=1)[None]

    def score(self, X, y, sample_weight=None) -> float:
        """``scoring`` on ``(X, y)``, as scikit-learn's ``LogisticRegressionCV.score`` (accuracy
        if ``scoring`` is None)."""
        if self.scoring is None:
            return super().score(X, y, sample_weight=sample_weight)
        scorer = check_scoring(self, self.scoring)
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        return float(scorer(self, X, y, **kwargs))


class LinearSVCCV(GLMCVMixin, LinearSVC):
    """Squared-hinge linear SVM with alpha chosen by k-fold CV or approximate leave-one-out.

    For each candidate alpha, each one-vs-rest problem minimizes
    ``sum_i s_i max(0, 1 - y_i eta_i)^2 + alpha/2 ||w||^2`` (unpenalized intercept).

    Parameters
    ----------
    class_weight : dict, "balanced" or None, default=None
    """

    __doc__ += _CV_PARAMS_DOC
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
        n_jobs: int | None = None,
        random_state=None,
        verbose: int = 0,
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
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose


class PoissonRegressorCV(GLMCVMixin, PoissonRegressor):
    """Poisson regression with alpha chosen by k-fold CV or approximate leave-one-out.

    For each candidate alpha the model minimizes
    ``sum_i s_i (y_i log(y_i/mu_i) - y_i + mu_i) + alpha/2 ||w||^2``, ``mu_i = exp(eta_i)``.

    Parameters
    ----------
    """

    __doc__ += _CV_PARAMS_DOC
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
        n_jobs: int | None = None,
        random_state=None,
        verbose: int = 0,
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
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
