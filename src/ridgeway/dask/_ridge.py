"""Ridge and RidgeCV on Dask: ``GramStats`` per partition, tree-reduced, solved on the client."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._validation import (
    check_alpha,
    check_not_positive,
    check_penalty_factor,
    check_ridge_solver,
)
from ..linalg.direct import solve_gram
from ..linalg.gram import GramStats
from ..linalg.solve import SOLVERS
from ..linalg.spectral import RidgeSpectrum
from ..linear_model import Ridge as _Ridge
from ..linear_model import RidgeCV as _RidgeCV
from ..linear_model._base import store_solution
from ..linear_model._stream import one_pass_mode
from ..selection import (
    CVCurve,
    RidgeKFold,
    SearchSpec,
    check_alpha_grid,
    df_alpha_grid,
    ridge_cv_results,
    ridge_gcv_curve,
    search_alpha,
)
from ._blocks import (
    add_stats,
    add_stats_lists,
    as_dask_X,
    block_stats,
    check_block,
    compute,
    dask,
    fold_ids,
    row_blocks,
    tree_reduce,
)

_DASK_SOLVERS = ("auto", "cholesky", "eigen")


def _y2(y: np.ndarray) -> np.ndarray:
    return y[:, None] if y.ndim == 1 else y


def _stats_block(part, start, x, y, s, fold, n_folds):
    x, y, s, fold = check_block(start, x, y, s, fold, n_folds, partition=part)
    y2 = _y2(y)
    if n_folds is None:
        return block_stats(x, y2, s)
    ids = fold_ids(start, x.shape[0], fold, n_folds)
    return [block_stats(x[ids == k], y2[ids == k], None if s is None else s[ids == k])
            for k in range(n_folds)]


def distributed_stats(blocks, n_folds: int | None = None):
    """One pass: the ``GramStats`` of all rows, or a list of one per fold (``n_folds``)."""
    delayed = dask.delayed
    parts = [delayed(_stats_block)(b, start, x, y, s, f, n_folds)
             for b, start, x, y, s, f in blocks.delayed()]
    merge = add_stats if n_folds is None else add_stats_lists
    return compute(tree_reduce(parts, merge))


def _loo_block(start, x, y, s, spectrum, alphas):
    """Weighted sums of the squared LOO residuals and of their squares, (n_alphas, t) each."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] == 0:
        return None
    y2 = _y2(np.asarray(y, dtype=np.float64))
    s = None if s is None else np.asarray(s, dtype=np.float64)
    total = total_sq = 0.0
    for lo, hi, resid in spectrum.loo_blocks(x, y2, s, alphas):
        sq = np.square(resid, out=resid)
        w = np.ones(hi - lo) if s is None else s[lo:hi]
        total = total + np.tensordot(w, sq, axes=1)
        total_sq = total_sq + np.tensordot(w, np.square(sq, out=sq), axes=1)
    return total, total_sq


def _add_pairs(a, b):
    if a is None or b is None:
        return b if a is None else a
    return a[0] + b[0], a[1] + b[1]


def distributed_loo_curve(blocks, spectrum: RidgeSpectrum, alphas) -> CVCurve:
    """Exact leave-one-out curve: a second pass in which every partition scores its own rows
    with the client's spectrum (leverages ``h_i`` and residuals need only ``V``, ``d``, ``q``
    and the means), as ``ridgeway.selection.ridge_loo_curve`` does in memory."""
    alphas = np.asarray(alphas, dtype=np.float64)
    delayed = dask.delayed
    spec = delayed(spectrum, pure=True)
    parts = [delayed(_loo_block)(start, x, y, s, spec, alphas)
             for _, start, x, y, s, _ in blocks.delayed()]
    total, total_sq = compute(tree_reduce(parts, _add_pairs))
    W = spectrum.weight_sum
    with np.errstate(invalid="ignore", over="ignore"):
        mean = total / W
        var = np.maximum(total_sq / W - mean**2, 0.0)
    mean = np.where(np.isfinite(mean), mean, np.inf)
    return CVCurve(alphas, mean, np.sqrt(var / blocks.n_samples), None)


def kfold_curve(fold_stats: list[GramStats], fit_intercept: bool):
    """``(evaluate(alphas), total statistics)`` of k-fold CV from the folds' statistics alone:
    training statistics are the total minus the fold, as for a stream
    (``ridgeway.linear_model._stream``) and ``ridgeway.selection.RidgeKFold`` in memory."""
    total = None
    for part in fold_stats:
        total = add_stats(total, part)
    for k, test in enumerate(fold_stats):
        train_w = total.weight_sum - (0.0 if test is None else test.weight_sum)
        if test is None or not test.weight_sum > 0 or not train_w > 0 or total.n - test.n < 2:
            part = "held-out" if test is None or not test.weight_sum > 0 else "training"
            raise ValueError(
                f"Fold {k} has no {part} row with positive sample_weight (or fewer than 2 "
                "training rows). Use fewer folds (cv=...), or give more rows a positive weight.")
    kfold = RidgeKFold.from_fold_stats(fold_stats, fit_intercept=fit_intercept)
    return kfold.curve, kfold.total


class _DaskLinearPredict:
    """``predict`` of the Dask regressors: a lazy dask array ``X w + b``."""

    def _set_features(self, blocks) -> None:
        self.n_features_in_ = blocks.n_features
        if blocks.feature_names is not None:
            self.feature_names_in_ = np.asarray(blocks.feature_names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    def _dask_X(self, X):
        check_is_fitted(self)
        Xd, names = as_dask_X(X)
        if Xd.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {Xd.shape[1]} features, but {type(self).__name__} was "
                             f"fitted with {self.n_features_in_}.")
        fitted = getattr(self, "feature_names_in_", None)
        if fitted is not None and names is not None and list(fitted) != list(names):
            raise ValueError(f"The columns of X {names} differ from those seen in fit "
                             f"{list(fitted)}: select and order them the same way.")
        return Xd

    def predict(self, X):
        """Predict ``X w + b`` lazily.

        Parameters
        ----------
        X : dask.array or dask.dataframe of shape (n_samples, n_features)

        Returns
        -------
        dask.array of shape (n_samples,) or (n_samples, n_targets)
        """
        Xd = self._dask_X(X)
        return Xd.astype(np.float64) @ np.asarray(self.coef_, dtype=np.float64).T + self.intercept_


def _y_like(blocks) -> np.ndarray:
    """A zero-row stand-in with ``y``'s dimensions (what the result-storing helpers read)."""
    return np.empty((0, *tuple(blocks.y.shape[1:])))


def _dtype(blocks):
    return np.float32 if blocks.X.dtype == np.float32 else np.float64


class Ridge(_DaskLinearPredict, _Ridge):
    """:class:`ridgeway.Ridge` on Dask arrays and data frames (same parameters and objective).

    Minimizes, for each target column,

    .. math::

        \\frac{1}{2} \\sum_i s_i (y_i - x_i^\\top w - b)^2
        + \\frac{\\alpha}{2} \\sum_j \\mathrm{pf}_j w_j^2 .

    Each partition computes its centered ``GramStats``; they are merged in a tree on the
    workers (Chan-Golub-LeVeque, never raw sums) and the p x p system is solved on the client
    by Cholesky (``solver="auto"``/``"cholesky"``) or an eigendecomposition (``"eigen"``).
    Other solvers need the rows in memory and raise. ``predict`` returns a dask array.

    Parameters
    ----------
    As :class:`ridgeway.Ridge`.
    """

    def fit(self, X, y, sample_weight=None) -> Ridge:
        """Fit on Dask data.

        Parameters
        ----------
        X : dask.array or dask.dataframe of shape (n_samples, n_features)
            Any chunking along the rows.
        y : dask.array, dask Series/DataFrame or ndarray of shape (n_samples,) or (n, t)
        sample_weight : dask.array or ndarray of shape (n_samples,), optional

        Returns
        -------
        self : Ridge
        """
        solver = check_ridge_solver(self.solver, SOLVERS)
        if solver not in _DASK_SOLVERS:
            raise ValueError(f"solver={self.solver!r} needs the rows in memory; on Dask use "
                             f"one of {_DASK_SOLVERS}.")
        check_not_positive(self.positive)
        blocks = row_blocks(X, y, sample_weight)
        self._set_features(blocks)
        stats = distributed_stats(blocks)
        alphas = check_alpha(self.alpha, n_targets=stats.n_targets)
        pf = check_penalty_factor(self.penalty_factor, blocks.n_features)
        if solver == "eigen" and pf is None:
            sol = RidgeSpectrum.from_stats(stats, fit_intercept=self.fit_intercept).solution(
                alphas)
        else:
            sol = solve_gram(stats, alphas, pf, fit_intercept=self.fit_intercept)
        store_solution(self, sol, _y_like(blocks), _dtype(blocks))
        return self


class RidgeCV(_DaskLinearPredict, _RidgeCV):
    """:class:`ridgeway.RidgeCV` on Dask arrays and data frames (same parameters and results).

    For each candidate alpha the objective is
    ``1/2 sum_i s_i (y_i - x_i.w - b)^2 + alpha/2 ||w||^2``.

    * ``cv=k`` (an integer): one pass computes one ``GramStats`` per fold in every partition
      (the fold of a row is :func:`ridgeway.linalg.fold_of` of its global position, or
      the ``fold`` column given to ``fit``); training statistics are the total minus the fold,
      so k-fold CV over every alpha costs one pass plus k eigendecompositions on the client.
    * ``cv="gcv"``: one pass (RSS and df come from the statistics).
    * ``cv=None`` (exact leave-one-out): a second pass in which each partition computes its
      rows' leverages and residuals from the client's eigendecomposition.

    ``alpha_per_target``, ``selection="1se"`` and ``alphas="auto"`` work as in memory (with
    LOO, every evaluation of new alphas is one more pass). ``scoring`` must be None (the
    squared error, computed from the statistics). ``cv_results_`` has the in-memory layout.
    """

    def fit(self, X, y, sample_weight=None, *, fold=None) -> RidgeCV:
        """Select alpha and fit on all the data with it.

        Parameters
        ----------
        X : dask.array or dask.dataframe of shape (n_samples, n_features)
        y : dask.array, dask Series/DataFrame or ndarray of shape (n_samples,) or (n, t)
        sample_weight : dask.array or ndarray of shape (n_samples,), optional
        fold : dask.array or ndarray of int of shape (n_samples,), optional
            The fold (0 .. cv - 1) of every row, for ``cv=k``; default: the position hash.

        Returns
        -------
        self : RidgeCV
        """
        mode, n_folds = one_pass_mode(self, "On Dask, RidgeCV")
        if fold is not None and n_folds is None:
            raise ValueError("fold= is a k-fold column: pass cv=<number of folds> with it.")
        blocks = row_blocks(X, y, sample_weight, fold)
        self._set_features(blocks)
        if n_folds is None:
            stats = distributed_stats(blocks)
            spec = RidgeSpectrum.from_stats(stats, fit_intercept=self.fit_intercept)
            if mode == "gcv":
                def evaluate(a):
                    return ridge_gcv_curve(spec, a)
            else:
                def evaluate(a):
                    return distributed_loo_curve(blocks, spec, a)
        else:
            evaluate, stats = kfold_curve(distributed_stats(blocks, n_folds), self.fit_intercept)
            spec = RidgeSpectrum.from_stats(stats, fit_intercept=self.fit_intercept)
        if not np.all(np.isfinite(spec.eigenvalues)):
            raise ValueError(
                "The statistics of X overflow float64 (entries too large for their squares): "
                "rescale X, e.g. divide it by a constant c and multiply the alphas by c^2.")
        grid = check_alpha_grid(self.alphas)
        start = df_alpha_grid(spec.eigenvalues) if grid.values is None else grid.values
        found = search_alpha(evaluate, start, SearchSpec(
            rule=self.selection, per_target=self.alpha_per_target, auto=grid.auto))
        y_like = _y_like(blocks)
        store_solution(self, spec.solution(np.atleast_1d(found.alpha)), y_like, _dtype(blocks))
        self.alpha_ = found.alpha if self.alpha_per_target and y_like.ndim == 2 else float(
            np.atleast_1d(found.alpha)[0])
        self.best_score_ = -found.loss if np.ndim(found.loss) else -float(found.loss)
        self.cv_mode_ = mode
        self.cv_results_ = ridge_cv_results(found.curve, spec, blocks.n_samples,
                                            self.alpha_per_target, 1.0, 1.0)
        self.spectrum_ = replace(spec, single_target=y_like.ndim == 1)
        return self
