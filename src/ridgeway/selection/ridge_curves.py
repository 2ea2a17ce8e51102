"""Ridge CV curves over a whole grid: exact leave-one-out and GCV from one eigendecomposition,
k-fold from one per fold (by ``GramStats`` downdating), never a refit per alpha."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ..linalg.gram import GramStats
from ..linalg.spectral import RidgeSpectrum
from .search import CVCurve, Evaluate
from .splits import is_partition


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


def _minus(rows: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``rows - shift`` in float64, in place of the copy ``rows`` already is when it can be."""
    if rows.dtype != np.float64:
        return np.subtract(rows, shift, dtype=np.float64)
    rows -= shift
    return rows


class RidgeKFold:
    """k-fold CV of ridge with one eigendecomposition per fold and no refit per alpha.

    Each fold is ``(spectrum of the training rows, GramStats of the held-out rows or None,
    held-out (projections, y, weights) or None)``. With the default squared-error loss, each
    fold's held-out error for every alpha comes from ``RidgeSpectrum.test_sse`` and the
    held-out statistics alone. Other scorers, and wide data (one kernel eigendecomposition per
    fold), project the held-out rows on the fold's eigenvectors once and predict every alpha
    from those projections. ``total``: the statistics of all rows, when the folds partition
    them (None otherwise).
    """

    def __init__(self, folds: list, total: GramStats | None = None, loss=None):
        self.folds = folds
        self.total = total
        self.loss = loss

    @classmethod
    def from_fold_stats(cls, fold_stats: Sequence[GramStats], *,
                        fit_intercept: bool = True) -> RidgeKFold:
        """Squared-error k-fold CV from the statistics of folds that partition the rows
        (each fold trains on the total minus itself): what a streamed fit accumulates."""
        total = sum(fold_stats[1:], fold_stats[0])
        folds = [(RidgeSpectrum.from_stats(total - part, fit_intercept=fit_intercept), part,
                  None) for part in fold_stats]
        return cls(folds, total)

    @classmethod
    def from_data(cls, X, y2, sample_weight, splits, *, fit_intercept=True,
                  loss=None) -> RidgeKFold:
        """The folds of ``splits``; X is read once when they partition the rows."""
        if X.shape[1] > min(len(train) for train, _ in splits):
            return cls(_dual_folds(X, y2, sample_weight, splits, fit_intercept), None, loss)
        partition = is_partition(splits, X.shape[0])
        if partition and loss is None and fit_intercept and not sp.issparse(X):
            return cls._shifted_partition(X, y2, sample_weight, splits)
        tests = [GramStats.from_arrays(X[te], y2[te], sample_weight[te]) for _, te in splits]
        if partition and loss is None:
            return cls.from_fold_stats(tests, fit_intercept=fit_intercept)
        total = sum(tests[1:], tests[0]) if partition else None
        folds = []
        for (train, test), test_stats in zip(splits, tests, strict=True):
            train_stats = (total - test_stats if partition else
                           GramStats.from_arrays(X[train], y2[train], sample_weight[train]))
            spec = RidgeSpectrum.from_stats(train_stats, fit_intercept=fit_intercept)
            held_out = None if loss is None else _held_out(spec, X, y2, sample_weight, test)
            folds.append((spec, test_stats, held_out))
        return cls(folds, total, loss)

    @classmethod
    def _shifted_partition(cls, X, y2, sample_weight, splits) -> RidgeKFold:
        """Fold statistics about one common shift (the first row), so that downdating the
        total by a fold never meets the columns' means: with means far above the spread the
        mean differences between folds would otherwise lose ``eps * |mean| / sd``. The
        criterion is shift-invariant with an intercept; ``total`` gets the means back."""
        x0 = np.asarray(X[0], dtype=np.float64)
        y0 = np.asarray(y2[0], dtype=np.float64)
        tests = [GramStats.from_arrays(_minus(X[te], x0), y2[te] - y0, sample_weight[te])
                 for _, te in splits]
        kfold = cls.from_fold_stats(tests, fit_intercept=True)
        kfold.total = replace(kfold.total, x_mean=kfold.total.x_mean + x0,
                              y_mean=kfold.total.y_mean + y0)
        return kfold

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


def _dual_folds(X, y2, sample_weight, splits, fit_intercept) -> list:
    """Wide data (p > training rows): one n_train x n_train kernel eigendecomposition per
    fold; held-out rows are projected through the kernel, no p x p matrix is formed."""
    folds = []
    for train, test in splits:
        spec = RidgeSpectrum.from_data(X[train], y2[train], sample_weight[train],
                                       fit_intercept=fit_intercept, mode="dual")
        folds.append((spec, None, _held_out(spec, X, y2, sample_weight, test)))
    return folds


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


@dataclass(frozen=True)
class RidgeCriterion:
    """A ridge CV criterion ready to score any alphas: ``evaluate(alphas) -> CVCurve``, the
    ``spectrum`` of all the rows (the final fit reads it) and their ``stats`` (GramStats, or
    None where they were not formed: n < p, or k-fold folds that do not partition the rows)."""

    evaluate: Evaluate
    spectrum: RidgeSpectrum
    stats: GramStats | None


def ridge_criterion(mode: str, X, y2, sample_weight, *, splits=None, loss=None,
                    fit_intercept: bool = True, reuse_projections: bool = False
                    ) -> RidgeCriterion:
    """The criterion of ``mode`` ("loo", "gcv" or "kfold" over ``splits``) on ``(X, y2)``.

    ``reuse_projections``: LOO computes the rows' projections once for all later calls
    (worth it when the curve is evaluated many times, as ``alphas="auto"`` does).
    """
    sw = sample_weight
    if mode == "kfold":
        kfold = RidgeKFold.from_data(X, y2, sw, splits, fit_intercept=fit_intercept, loss=loss)
        stats = kfold.total
    else:
        stats = GramStats.from_arrays(X, y2, sw) if X.shape[0] >= X.shape[1] else None
    if stats is not None:
        spec = RidgeSpectrum.from_stats(stats, fit_intercept=fit_intercept)
    else:
        spec = RidgeSpectrum.from_data(X, y2, sw, fit_intercept=fit_intercept)
    if mode == "kfold":
        return RidgeCriterion(kfold.curve, spec, stats)
    if mode == "gcv":
        return RidgeCriterion(lambda a: ridge_gcv_curve(spec, a), spec, stats)
    proj = spec.projections(X) if reuse_projections else None
    return RidgeCriterion(lambda a: ridge_loo_curve(spec, X, y2, sw, a, loss, proj), spec, stats)


def ridge_cv_results(curve: CVCurve, spec, n_samples: int, per_target: bool, x_scale: float,
             score_scale: float) -> dict:
    """``cv_results_``: scores (greater is better, times ``score_scale``) and ``df`` per alpha
    (in the units of X times ``x_scale``), target-averaged unless ``per_target``."""
    agg = not per_target
    mean = curve.mean.mean(axis=1) if agg else curve.mean
    res = {"alphas": curve.alphas * x_scale * x_scale, "mean_test_score": -mean}
    if curve.splits is not None:
        splits = curve.splits.mean(axis=2) if agg else curve.splits
        res["std_test_score"] = splits.std(axis=0)
        for k, fold in enumerate(splits):
            res[f"split{k}_test_score"] = -fold
    elif curve.std_error is not None:
        sem = curve.std_error.mean(axis=1) if agg else curve.std_error
        res["std_test_score"] = sem * np.sqrt(n_samples)
    else:
        res["std_test_score"] = np.full_like(mean, np.nan)
    sem = curve.column(None)[1] if agg else curve.std_error
    res["sem_test_score"] = np.full_like(mean, np.nan) if sem is None else sem
    for key, value in res.items():
        if key.endswith("test_score"):
            res[key] = value * score_scale
    res["df"] = spec.df(curve.alphas)
    return res
