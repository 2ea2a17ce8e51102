"""Choosing the regularization strength: alpha grids, CV splitting and selection rules.

Shared by every ``...CV`` estimator of ridgeway (ridge and the GLMs), so that "min" and "1se"
mean the same thing everywhere and a grid is built one way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from ._validation import check_choice
from .linalg.gram import GramStats
from .linalg.spectral import RidgeSpectrum

SELECTION_RULES = ("min", "1se")


def log_grid(alpha_min: float, alpha_max: float, n_alphas: int = 100) -> np.ndarray:
    """``n_alphas`` log-spaced values from ``alpha_max`` down to ``alpha_min`` (descending)."""
    return np.geomspace(alpha_max, alpha_min, n_alphas)


def df_alpha_grid(eigenvalues: np.ndarray, n_alphas: int = 100, tail: float = 0.01) -> np.ndarray:
    """A data-driven ridge grid that spans effective degrees of freedom from ~rank to ~0.

    With ``d_j`` the eigenvalues of the (weighted, centered) gram ``X'SX``, the effective degrees
    of freedom are ``df(alpha) = sum_j d_j / (d_j + alpha)``. The grid runs log-spaced from

    * ``alpha_max = sum_j d_j / tail``, where ``df <= tail`` (all coefficients shrunk ~to 0),
    * ``alpha_min = tail * min_j d_j`` over the non-zero eigenvalues, where every direction keeps
      at least ``1 / (1 + tail)`` of its least-squares size, so ``df >= rank / (1 + tail)``.

    ``alpha_min`` is floored at ``1e-12 * max_j d_j`` so the grid stays in the range float64 can
    resolve. Returned in decreasing order, as a path is walked.

    Parameters
    ----------
    eigenvalues : ndarray
        Eigenvalues of the centered gram (or squared singular values of centered X).
    n_alphas : int
        Length of the grid.
    tail : float
        How close to the ends (df = rank and df = 0) the grid reaches.
    """
    d = np.asarray(eigenvalues, dtype=np.float64)
    d_max = float(np.max(d)) if d.size else 0.0
    if d_max <= 0:
        return log_grid(1e-3, 1e3, n_alphas)
    positive = d[d > d_max * 1e-12]
    alpha_max = float(np.sum(positive)) / tail
    alpha_min = max(tail * float(np.min(positive)), 1e-12 * d_max)
    return log_grid(alpha_min, alpha_max, n_alphas)


@dataclass(frozen=True)
class Selection:
    """Result of applying a selection rule to a CV curve.

    Attributes
    ----------
    index : int
        Position of the chosen alpha in the grid.
    best_index : int
        Position of the best mean score (equals ``index`` for ``rule="min"``).
    threshold : float
        For ``"1se"``: the best mean score minus (or plus) one standard error.
    """

    index: int
    best_index: int
    threshold: float


def select_alpha(
    alphas: np.ndarray,
    mean_score: np.ndarray,
    std_error: np.ndarray | None = None,
    *,
    rule: str = "min",
    greater_is_better: bool = False,
) -> Selection:
    """Pick an alpha from a CV curve by the minimum rule or glmnet's one-standard-error rule.

    ``"min"`` takes the best mean score; among exact ties the *largest* alpha (the simplest
    model, as scikit-learn's ``LogisticRegressionCV`` does by taking the smallest C; ties are
    common with discrete scores such as accuracy). ``"1se"`` takes the
    *largest* alpha whose mean score is within one standard error of the best one, where the
    standard error is that of the best alpha (glmnet's ``lambda.1se``: ``cvsd = sd / sqrt(K)``).

    Parameters
    ----------
    alphas : ndarray of shape (n_alphas,)
    mean_score : ndarray of shape (n_alphas,)
        Mean CV score per alpha (a loss if ``greater_is_better`` is False).
    std_error : ndarray of shape (n_alphas,), optional
        Standard error of the mean score per alpha; required for ``"1se"``.
    rule : {"min", "1se"}
    greater_is_better : bool
        Whether larger scores are better (scikit-learn scorers) or smaller (losses).
    """
    check_choice(rule, "selection", SELECTION_RULES)
    alphas = np.asarray(alphas, dtype=np.float64)
    loss = -np.asarray(mean_score, dtype=np.float64) if greater_is_better else np.asarray(
        mean_score, dtype=np.float64
    )
    if not np.any(np.isfinite(loss)):
        if alphas.size == 1:  # nothing to choose: the one candidate, its score as it is
            return Selection(0, 0, float(loss[0]))
        raise ValueError("Every CV score is non-finite; cannot select alpha.")
    loss = np.where(np.isfinite(loss), loss, np.inf)
    best_value = np.min(loss)
    ties = np.flatnonzero(loss == best_value)
    best = int(ties[np.argmax(alphas[ties])])
    if rule == "min":
        return Selection(best, best, float(best_value))
    if std_error is None:
        raise ValueError('selection="1se" needs the standard error of the CV score.')
    threshold = best_value + float(np.asarray(std_error)[best])
    within = np.flatnonzero(loss <= threshold)
    chosen = int(within[np.argmax(alphas[within])])
    sign = -1.0 if greater_is_better else 1.0
    return Selection(chosen, best, sign * threshold)


def edge_warning(alphas: np.ndarray, index: int) -> str | None:
    """A message if ``index`` is the smallest or largest alpha of the grid, else ``None``."""
    alphas = np.asarray(alphas)
    if alphas.size < 3:
        return None
    if alphas[index] == np.max(alphas):
        return (
            f"The chosen alpha ({alphas[index]:.4g}) is the largest of the grid: the optimum may "
            "lie above it. Widen the grid upward, or pass alphas='auto'."
        )
    if alphas[index] == np.min(alphas):
        return (
            f"The chosen alpha ({alphas[index]:.4g}) is the smallest of the grid: the optimum may "
            "lie below it. Widen the grid downward, or pass alphas='auto'."
        )
    return None


def check_cv(cv, y=None, *, classifier: bool = False):
    """Turn ``cv`` (int, splitter or iterable of splits) into a scikit-learn splitter.

    An integer ``k`` gives ``KFold(k)`` (``StratifiedKFold(k)`` for classifiers), unshuffled, as in
    scikit-learn.
    """
    from sklearn.model_selection import check_cv as _sk_check_cv

    return _sk_check_cv(cv, y, classifier=classifier)


# ---------------------------------------------------------------------------- ridge CV curves
@dataclass(frozen=True)
class CVCurve:
    """Cross-validated loss of ridge over a grid of alphas (lower is better).

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
    mean : ndarray of shape (n_alphas, t)
        Mean loss per alpha and target.
    std_error : ndarray of shape (n_alphas, t) or None
        Standard error of the mean loss (``std / sqrt(K)`` over folds, or over samples for LOO);
        None for GCV, which has no sampling spread.
    splits : ndarray of shape (K, n_alphas, t) or None
        Per-fold losses for k-fold modes.
    """

    alphas: np.ndarray
    mean: np.ndarray
    std_error: np.ndarray | None
    splits: np.ndarray | None


class _FixedPrediction(RegressorMixin, BaseEstimator):
    """Stands in for a fitted regressor whose predictions are already known (for scorers)."""

    def __init__(self, prediction=None):
        self.prediction = prediction

    def fit(self, X, y):  # pragma: no cover - scorers never fit
        return self

    def predict(self, X):
        return self.prediction


def accepts_sample_weight(scorer) -> bool:
    """Whether a scorer (a scikit-learn scorer object or a plain callable) takes weights.

    A ``make_scorer(f)`` scorer takes them if ``f`` has a ``sample_weight`` parameter (or
    ``**kwargs``); a plain callable ``scorer(est, X, y)`` if it has one itself.
    """
    import inspect

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
    from sklearn.metrics import check_scoring

    scorer = check_scoring(_FixedPrediction(), scoring=scoring)
    pass_weights = weighted and accepts_sample_weight(scorer)

    def score(y_true, prediction, sample_weight):
        kwargs = {"sample_weight": sample_weight} if pass_weights else {}
        if y_scale != 1.0:
            y_true, prediction = y_true * y_scale, prediction * y_scale
        return float(scorer(_FixedPrediction(prediction), np.empty((y_true.shape[0], 0)),
                            y_true, **kwargs))

    def loss(y_true, prediction, sample_weight=None):
        t = y_true.shape[1]
        if one_d:
            return np.array([-score(y_true[:, 0], prediction[:, 0], sample_weight)])
        if per_target:
            return np.array([-score(y_true[:, j], prediction[:, j], sample_weight)
                             for j in range(t)])
        return np.full(t, -score(y_true, prediction, sample_weight))

    return loss


def ridge_loo_curve(
    spectrum, X, y2, sample_weight, alphas, loss=None, projections=None
) -> CVCurve:
    """Exact leave-one-out curve from one ridge spectrum (see ``RidgeSpectrum.loo_blocks``).

    With ``loss=None`` the loss is the weighted mean squared LOO residual and its standard
    error is the weighted standard deviation of the squared residuals over ``sqrt(n)``.
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    s = sample_weight
    if projections is None:
        projections = spectrum.train_projections
    if loss is None:
        total = 0.0
        total_sq = 0.0
        for start, stop, resid in spectrum.loo_blocks(X, y2, s, alphas, projections=projections):
            sq = np.square(resid, out=resid)
            w = s[start:stop]
            total = total + np.tensordot(w, sq, axes=1)
            total_sq = total_sq + np.tensordot(w, np.square(sq, out=sq), axes=1)
        W = spectrum.weight_sum
        with np.errstate(invalid="ignore", over="ignore"):
            mean = total / W
            var = np.maximum(total_sq / W - mean**2, 0.0)
        mean = np.where(np.isfinite(mean), mean, np.inf)
        return CVCurve(alphas, mean, np.sqrt(var / X.shape[0]), None)
    pred = np.empty((X.shape[0], alphas.size, y2.shape[1]))
    for start, stop, resid in spectrum.loo_blocks(X, y2, s, alphas, projections=projections):
        pred[start:stop] = y2[start:stop, None, :] - resid
    mean = np.array([loss(y2, pred[:, a, :], s) for a in range(alphas.size)])
    return CVCurve(alphas, mean, None, None)


def ridge_gcv_curve(spectrum, alphas) -> CVCurve:
    """Generalized cross-validation curve (see ``RidgeSpectrum.gcv``)."""
    alphas = np.asarray(alphas, dtype=np.float64)
    return CVCurve(alphas, spectrum.gcv(alphas), None, None)


class RidgeKFold:
    """k-fold CV of ridge with one eigendecomposition per fold and no refit per alpha.

    The statistics of each held-out fold are computed once; when the folds partition the rows,
    the training statistics are the total minus the fold (``GramStats`` downdating), so X is
    read once in all. With the default squared-error loss, each fold's held-out error for
    every alpha comes from ``RidgeSpectrum.test_sse`` without touching the rows again. Other
    scorers, and wide data (one kernel eigendecomposition per fold), project the held-out rows
    on the fold's eigenvectors once and predict every alpha from those projections.
    """

    def __init__(self, X, y2, sample_weight, splits, *, fit_intercept=True, loss=None):
        self.loss = loss
        self.folds = []
        if X.shape[1] > min(len(train) for train, _ in splits):
            self._init_dual(X, y2, sample_weight, splits, fit_intercept)
            return
        tests = [GramStats.from_arrays(X[te], y2[te], sample_weight[te]) for _, te in splits]
        partition = _is_partition(splits, X.shape[0])
        total = None
        if partition:
            for part in tests:
                total = part if total is None else total + part
        self.total = total
        for (train, test), test_stats in zip(splits, tests, strict=False):
            if partition:
                train_stats = total - test_stats
            else:
                train_stats = GramStats.from_arrays(X[train], y2[train], sample_weight[train])
            spec = RidgeSpectrum.from_stats(train_stats, fit_intercept=fit_intercept)
            held_out = None if loss is None else _held_out(spec, X, y2, sample_weight, test)
            self.folds.append((spec, test_stats, held_out))

    def _init_dual(self, X, y2, sample_weight, splits, fit_intercept) -> None:
        """Wide data (p > training rows): one n_train x n_train kernel eigendecomposition per
        fold; held-out rows are projected through the kernel, no p x p matrix is formed."""
        self.total = None
        for train, test in splits:
            spec = RidgeSpectrum.from_data(X[train], y2[train], sample_weight[train],
                                           fit_intercept=fit_intercept, mode="dual")
            self.folds.append((spec, None, _held_out(spec, X, y2, sample_weight, test)))

    def curve(self, alphas) -> CVCurve:
        alphas = np.asarray(alphas, dtype=np.float64)
        per_fold = []
        for spec, test_stats, held_out in self.folds:
            if held_out is None:  # squared error from the held-out fold's statistics alone
                per_fold.append(spec.test_sse(test_stats, alphas) / test_stats.weight_sum)
            else:
                per_fold.append(_held_out_loss(spec, *held_out, alphas, self.loss))
        splits = np.stack(per_fold)
        k = splits.shape[0]
        std = splits.std(axis=0)
        return CVCurve(alphas, splits.mean(axis=0), std / np.sqrt(k), splits)


def _held_out(spec, X, y2, sample_weight, test) -> tuple:
    """``(projections, y, weights)`` of the held-out rows, scored for every alpha later."""
    return spec.projections(X[test]), y2[test], sample_weight[test]


def _held_out_loss(spec, proj, yt, st, alphas, loss) -> np.ndarray:
    """Loss of every alpha on held-out rows with projections ``proj``, shape (n_alphas, t)."""
    g = spec._g(alphas)  # (r, a)
    out = np.empty((alphas.size, yt.shape[1]))
    for a in range(alphas.size):
        pred = proj @ (g[:, a, None] * spec.q) + spec.y_mean
        if loss is None:
            out[a] = st @ (yt - pred) ** 2 / st.sum()
        else:
            out[a] = loss(yt, pred, st)
    return out


def _is_partition(splits, n: int) -> bool:
    sizes = sum(len(test) for _, test in splits)
    if sizes != n:
        return False
    seen = np.zeros(n, dtype=bool)
    for train, test in splits:
        if len(train) + len(test) != n:
            return False
        seen[test] = True
    return bool(seen.all())
