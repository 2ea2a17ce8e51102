"""Streaming fits of Ridge and RidgeCV: one pass over batches, exact CV from the statistics.

Each batch is reduced to ``GramStats`` (one per fold for k-fold CV) and merged with ``+``;
nothing else of it is kept. Ridge, GCV and k-fold CV over every alpha are then exact
functions of those statistics (``RidgeSpectrum.from_stats``, ``RidgeSpectrum.test_sse``), so
``partial_fit`` after any number of batches gives the model ``fit`` would give on their
concatenation. Exact leave-one-out also needs each row's leverage, which depends on the
eigendecomposition of all the data: a second pass (``fit_stream``).
"""

from __future__ import annotations

import types
import warnings
from dataclasses import dataclass, replace
from itertools import pairwise
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.utils.validation import validate_data

from .._validation import (
    check_alpha,
    check_choice,
    check_penalty_factor,
    check_sample_weight,
    check_store_cv_results,
    check_X,
    check_y,
    column_names,
)
from ..exceptions import BatchError
from ..io import Block
from ..linalg.direct import solve_gram
from ..linalg.folds import fold_of
from ..linalg.gram import GramStats
from ..linalg.solve import is_finite
from ..linalg.spectral import RidgeSpectrum
from ..selection import (
    SELECTION_RULES,
    CVCurve,
    RidgeKFold,
    SearchSpec,
    check_alpha_grid,
    df_alpha_grid,
    ridge_cv_results,
    ridge_gcv_curve,
    search_alpha,
)
from ._base import store_solution

LOO_NEEDS_TWO_PASSES = (
    "RidgeCV(cv=None) selects alpha by exact leave-one-out, which needs every row's leverage "
    "under the eigendecomposition of all the data: a second pass over the rows, so it has no "
    "partial_fit. Use RidgeCV(cv=None).fit_stream(batches) (two passes over a re-iterable "
    "source), or a one-pass criterion: cv='gcv' or cv=k (k-fold)."
)


@dataclass(frozen=True)
class StreamState:
    """What a stream has contributed so far (immutable: a failing batch leaves it as it was).

    Attributes
    ----------
    n_folds : int or None
        k for k-fold CV (one ``GramStats`` per fold), None for one set of statistics.
    parts : tuple of GramStats or None
        The statistics per fold (a single entry without folds); None where no row came yet.
    n_rows, n_batches, n_positive : int
        Rows, batches (empty ones included) and rows with positive weight seen so far.
    n_features : int or None
        Columns of the first non-empty batch (None before it).
    feature_names : ndarray of str or None
        Its column names, if it was a data frame with string column names.
    dtype : numpy dtype or None
        Its floating dtype (the coefficients' dtype, as for ``fit``).
    y_shape : tuple
        ``()`` for a 1-D target, ``(t,)`` for a 2-D one.
    x_shift, y_shift : ndarray or None
        The column means of the first non-empty batch (``x_shift`` is zero for sparse X).
        The statistics are those of ``x - x_shift`` and ``y - y_shift``: subtracting a point
        near the data before a batch's means are taken keeps the merged co-moments accurate
        when the columns have large means (merging about the data's own large means would
        carry their rounding, ``eps * |mean|``, into every between-batch term).
    coef : ndarray or None
        The ``coef_`` this stream gave the estimator (if ``fit`` replaced it, a new stream
        starts).
    """

    n_folds: int | None
    parts: tuple
    n_rows: int = 0
    n_batches: int = 0
    n_positive: int = 0
    n_features: int | None = None
    feature_names: np.ndarray | None = None
    dtype: np.dtype | None = None
    y_shape: tuple = ()
    x_shift: np.ndarray | None = None
    y_shift: np.ndarray | None = None
    coef: np.ndarray | None = None

    @classmethod
    def start(cls, n_folds: int | None) -> StreamState:
        return cls(n_folds, (None,) * (n_folds or 1))

    @property
    def total(self) -> GramStats:
        """The statistics of every row (about the shift)."""
        total = None
        for part in self.parts:
            if part is not None:
                total = part if total is None else total + part
        return total

    def unshift(self, stats):
        """``stats`` (or a spectrum) about the origin: the means get the shift back."""
        return replace(stats, x_mean=stats.x_mean + self.x_shift,
                       y_mean=stats.y_mean + self.y_shift)

    def shifted(self, batch: _Batch, order: np.ndarray | None = None) -> _Batch:
        """The batch minus the shift, its rows in ``order`` if given; dense X as one new
        float64 array, sparse X only reordered (its x is not shifted, to stay sparse)."""
        X, y2 = batch.X, batch.y2
        if order is not None:
            X, y2 = X[order], y2[order]
        if sp.issparse(X):
            return replace(batch, X=X, y2=y2 - self.y_shift)
        if order is not None and X.dtype == np.float64:
            X = np.subtract(X, self.x_shift, out=X)  # X[order] is already a copy
        else:
            X = np.subtract(X, self.x_shift, dtype=np.float64)
        return replace(batch, X=X, y2=y2 - self.y_shift)


@dataclass(frozen=True)
class _Batch:
    X: np.ndarray | sp.spmatrix | None  # None for a Block: only its columns are read
    y2: np.ndarray
    sample_weight: np.ndarray
    folds: np.ndarray | None
    y_shape: tuple
    columns: list | None = None  # dense features, one 1-D array each
    block: Block | None = None  # where the batch came from, to name a bad value
    rows: np.ndarray | None = None  # the batch's rows of the columns (None: all)

    def column(self, j: int) -> np.ndarray:
        """Feature ``j`` of the batch's rows (a copy when ``rows`` picks them)."""
        col = self.columns[j]
        return col if self.rows is None else col[self.rows]

    @property
    def n_rows(self) -> int:
        return len(self.y2)

    @property
    def n_features(self) -> int:
        return self.X.shape[1] if self.columns is None else len(self.columns)


# ------------------------------------------------------------------------------ configuration
def one_pass_mode(est, where: str = "A streaming fit") -> tuple[str, int | None]:
    """``(mode, n_folds)`` of a fit from statistics (a stream, or Dask partitions: ``where``
    says which in the errors); errors for what statistics cannot do."""
    if not hasattr(est, "cv"):
        return "ridge", None
    check_choice(est.selection, "selection", SELECTION_RULES)
    if est.gcv_mode is not None:
        check_choice(est.gcv_mode, "gcv_mode", ("auto", "svd", "eigen"))
    check_store_cv_results(est.store_cv_results)
    mode = est._cv_mode()
    if mode == "gcv" and est.selection == "1se":
        raise ValueError('selection="1se" needs a CV spread; GCV has none. Use cv=None '
                         "(exact leave-one-out) or cv=k.")
    if est.scoring is not None:
        raise ValueError(
            f"{where} scores alphas by the weighted mean squared error only (from the "
            f"statistics of the held-out rows, which are not kept); got scoring="
            f"{est.scoring!r}. Pass scoring=None, or fit in memory with RidgeCV.fit.")
    if mode != "kfold":
        return mode, None
    if isinstance(est.cv, bool) or not isinstance(est.cv, Integral):
        raise ValueError(
            f"{where} takes cv as a number of folds k (an int), not {est.cv!r}: the "
            "rows go to folds by the fold= column or by ridgeway.linalg.fold_of of their "
            "position, since a splitter needs every row in memory. Pass cv=k (and fold=... "
            "to choose the folds yourself).")
    if est.cv < 2:
        raise ValueError(f"cv={est.cv} folds: k-fold CV needs cv >= 2.")
    return mode, int(est.cv)


def _state_of(est, n_folds: int | None) -> StreamState:
    """The estimator's stream, or a new one if there is none or ``fit`` replaced its model."""
    state = getattr(est, "_stream_state", None)
    if state is None or getattr(est, "coef_", None) is not state.coef:
        return StreamState.start(n_folds)
    if state.n_folds != n_folds:
        raise ValueError(
            f"cv changed between partial_fit calls (the stream has "
            f"{state.n_folds or 'no'} folds, cv now asks for {n_folds or 'none'}). Keep cv "
            "fixed during a stream, or start over with fit_stream or a new estimator.")
    return state


# --------------------------------------------------------------------------------- validation
def _probe(est, state: StreamState):
    """An unfitted copy of ``est`` carrying the stream's input schema (for validate_data)."""
    probe = clone(est)
    if state.n_features is not None:
        probe.n_features_in_ = state.n_features
        if state.feature_names is not None:
            probe.feature_names_in_ = state.feature_names
    return probe


def _n_rows(X) -> int:
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) else len(X)


def _weights(sample_weight, m: int) -> np.ndarray:
    """``check_sample_weight``, except that a batch of weights that are all 0 is allowed."""
    if sample_weight is not None and not isinstance(sample_weight, Real):
        arr = np.asarray(sample_weight)
        if arr.dtype.kind in "biuf" and arr.shape == (m,) and not np.any(arr):
            return np.zeros(m)
    return check_sample_weight(sample_weight, m)


def _fold_ids(fold, n_folds: int | None, start: int, m: int) -> np.ndarray | None:
    if n_folds is None:
        return None
    if fold is None:
        return fold_of(np.arange(start, start + m), n_folds)
    ids = np.asarray(fold)
    if ids.shape != (m,):
        raise ValueError(f"fold= has shape {ids.shape}; expected ({m},): one fold id per row.")
    if ids.dtype.kind == "f" and np.all(np.isfinite(ids)) and np.all(ids == np.round(ids)):
        ids = ids.astype(np.int64)
    if ids.dtype.kind not in "iu":
        raise ValueError(f"fold= must hold integer fold ids; got dtype {ids.dtype}.")
    bad = np.flatnonzero((ids < 0) | (ids >= n_folds))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"fold= has the value {ids[i]} at row {i} of the batch ({bad.size} row(s) out of "
            f"range); fold ids must be integers in [0, {n_folds}) for cv={n_folds}, i.e. 0 to "
            f"{n_folds - 1}.")
    return ids.astype(np.int64, copy=False)


def _targets(state: StreamState, y, sample_weight, fold, start: int, m: int) -> tuple:
    """``(y, y as 2-D, weights, fold ids)`` of a batch of ``m`` rows from stream row
    ``start``, checked against the first batch (``ValueError``)."""
    yv = check_y(y, m)
    if state.n_features is not None and yv.shape[1:] != state.y_shape:
        first = "(n,)" if not state.y_shape else f"(n, {state.y_shape[0]})"
        raise ValueError(
            f"y has shape {yv.shape} but the first batch's y had shape {first}; give "
            "every batch the same targets.")
    y2 = yv[:, None] if yv.ndim == 1 else yv
    return yv, y2, _weights(sample_weight, m), _fold_ids(fold, state.n_folds, start, m)


def _validate(probe, state: StreamState, X, y, sample_weight, fold) -> _Batch | None:
    """The batch checked against the stream's first batch; None for an empty batch.

    Errors are ``BatchError`` naming the batch (1-based) and its rows in the whole stream.
    """
    number, start = state.n_batches + 1, state.n_rows
    m = _n_rows(X)
    where = f"Batch {number} (stream rows {start} to {start + m - 1})"
    try:
        validate_data(probe, X, y, skip_check_array=True, reset=state.n_features is None)
        if m == 0:
            return None
        Xv = check_X(X, feature_names=column_names(X))
        if state.n_features is not None and Xv.dtype != state.dtype:
            raise ValueError(
                f"X has dtype {Xv.dtype} but the first batch had {state.dtype}; give "
                f"every batch one dtype (e.g. X.astype(np.{state.dtype})).")
        yv, y2, sw, folds = _targets(state, y, sample_weight, fold, start, m)
    except ValueError as exc:
        raise BatchError(f"{where}: {exc}", number, (start, start + m)) from None
    columns = None if sp.issparse(Xv) else [Xv[:, j] for j in range(Xv.shape[1])]
    return _Batch(Xv, y2, sw, folds, yv.shape[1:], columns)


def _validate_block(probe, state: StreamState, block: Block) -> _Batch | None:
    """:func:`_validate` for a :class:`ridgeway.io.Block`, whose columns are reduced without
    building its X (their finiteness is checked on the statistics, :func:`_add`)."""
    number, start = state.n_batches + 1, state.n_rows
    m, p = len(block.y), len(block.columns)
    where = f"Batch {number} (stream rows {start} to {start + m - 1})"
    try:
        if state.n_features is None:
            probe.n_features_in_ = p
        elif p != state.n_features:
            raise ValueError(f"X has {p} features, but the first batch had "
                             f"{state.n_features}; give every batch the same columns.")
        if m == 0:
            return None
        yv, y2, sw, folds = _targets(state, block.y, block.weight, block.fold, start, m)
    except ValueError as exc:
        raise BatchError(f"{where}: {exc}", number, (start, start + m)) from None
    return _Batch(None, y2, sw, folds, yv.shape[1:], block.columns, block, block.rows)


class _Workspace:
    """One float64 buffer reused by every batch of a stream (no allocation per batch)."""

    def __init__(self) -> None:
        self._buf = np.empty((0, 0))

    def rows(self, q: int, m: int) -> np.ndarray:
        """A (q, m) view of the buffer, grown when a batch is larger than any before."""
        if self._buf.shape[0] != q or self._buf.shape[1] < m:
            self._buf = np.empty((q, m))
        return self._buf[:, :m]


def _fold_bounds(folds: np.ndarray | None, n_folds: int | None, m: int):
    """The batch's rows grouped by fold: ``(order, bounds)``, ``order`` None without folds."""
    if folds is None:
        return None, (0, m)
    small = np.uint8 if n_folds <= 256 else np.uint16 if n_folds <= 65536 else folds.dtype
    order = np.argsort(folds.astype(small, copy=False), kind="stable")  # a radix sort
    return order, np.concatenate([[0], np.cumsum(np.bincount(folds, minlength=n_folds))])


def _fill(row: np.ndarray, col: np.ndarray, order, shift: float, root) -> None:
    """``row = root * (col[order] - shift)`` in place (one gather, then in-cache arithmetic)."""
    if order is None:
        np.subtract(col, shift, out=row, dtype=np.float64)
    else:
        if col.dtype == np.float64:
            np.take(col, order, out=row, mode="clip")  # "raise" would buffer the output
        else:
            row[:] = col[order]
        row -= shift
    if root is not None:
        row *= root


def _stats_of_rows(B: np.ndarray, n: int, p: int) -> GramStats:
    """``GramStats`` (about the shift) of rows held as the columns of ``B``.

    ``B`` is (1 + p + t, rows): first ``sqrt(s)``, then ``sqrt(s) (x - shift)`` and
    ``sqrt(s) (y - shift)``, so one ``B @ B.T`` (syrk) gives the weight sum, the weighted sums
    and the raw cross-products about the shift. Turning raw products into co-moments about
    the mean, ``C = R - W m m'``, loses ``log2(1 + m_j^2 / var_j)`` bits in column j, where
    ``m`` is the mean about the shift; the shift (the first batch's means) makes ``m`` small
    for data whose batches resemble each other, so that costs at most one bit. Where a column
    would lose more (a drifting or sorted stream), the rows are centered in place and
    multiplied again: the exact two-pass statistics. Batches then merge by Chan's update.
    """
    G = B @ B.T
    W = float(G[0, 0])
    t = B.shape[0] - 1 - p
    if W == 0:
        return GramStats.empty(n, p, t)
    mean = G[0, 1:] / W
    C = G[1:, 1:] - W * np.outer(mean, mean)
    if np.any(W * mean**2 > np.diag(C)):
        B[1:] -= mean[:, None] * B[0]
        G = B @ B.T
        d = G[0, 1:] / W  # what is left of the mean after centering (rounding only)
        mean = mean + d
        C = G[1:, 1:] - W * np.outer(d, d)
    C = 0.5 * (C + C.T)
    return GramStats(n, W, mean[:p], mean[p:], C[:p, :p], C[:p, p:], C[p:, p:])


def _dense_fold_stats(batch: _Batch, state: StreamState, work: _Workspace) -> tuple:
    y2, s = batch.y2, batch.sample_weight
    m, p = batch.n_rows, batch.n_features
    order, bounds = _fold_bounds(batch.folds, state.n_folds, m)
    root = None
    if np.any(s != 1.0):
        root = np.sqrt(s if order is None else s[order])
    x_order = order  # the batch's rows of the columns, by fold
    if batch.rows is not None:
        x_order = batch.rows if order is None else batch.rows[order]
    B = work.rows(1 + p + y2.shape[1], m)
    B[0] = 1.0 if root is None else root
    for j in range(p):
        _fill(B[1 + j], batch.columns[j], x_order, state.x_shift[j], root)
    for k in range(y2.shape[1]):
        _fill(B[1 + p + k], y2[:, k], order, state.y_shift[k], root)
    return tuple(_stats_of_rows(B[:, a:b], int(b - a), p) if b > a else None
                 for a, b in pairwise(bounds))


def _fold_stats(batch: _Batch, state: StreamState, work: _Workspace | None = None) -> tuple:
    """``GramStats`` of the batch about the shift, one per fold (None for a fold without
    rows)."""
    if batch.columns is not None:
        return _dense_fold_stats(batch, state, work or _Workspace())
    unit = not np.any(batch.sample_weight != 1.0)

    def stats(X, y2, sw):  # unshifted x: the co-moments do not depend on the shift
        part = GramStats.from_arrays(X, y2, None if unit else sw)
        return replace(part, x_mean=part.x_mean - state.x_shift)

    order, bounds = _fold_bounds(batch.folds, state.n_folds, batch.X.shape[0])
    rows = state.shifted(batch, order)
    sw = batch.sample_weight if order is None else batch.sample_weight[order]
    return tuple(stats(rows.X[a:b], rows.y2[a:b], sw[a:b]) if b > a else None
                 for a, b in pairwise(bounds))


def _add(probe, state: StreamState, X, y, sample_weight, fold,
         work: _Workspace | None = None) -> StreamState:
    """The stream with one more batch (``state`` itself is not changed); ``X`` may be a
    :class:`ridgeway.io.Block` (then ``y``, ``sample_weight`` and ``fold`` are its own)."""
    batch = (_validate_block(probe, state, X) if isinstance(X, Block)
             else _validate(probe, state, X, y, sample_weight, fold))
    if batch is None:
        return replace(state, n_batches=state.n_batches + 1)
    first = state.n_features is None
    with np.errstate(over="ignore", invalid="ignore"):
        if first:
            state = replace(
                state, y_shift=np.mean(batch.y2, axis=0),
                x_shift=np.zeros(batch.n_features) if batch.columns is None
                else np.array([np.mean(batch.column(j), dtype=np.float64)
                               for j in range(batch.n_features)]))
        new = _fold_stats(batch, state, work)
        parts = tuple(b if a is None else a if b is None else a + b
                      for a, b in zip(state.parts, new, strict=True))
    if not all(_finite(part) for part in parts if part is not None):
        if batch.block is not None:
            batch.block.check_finite()  # a missing or infinite value, named
        start, stop = state.n_rows, state.n_rows + batch.n_rows
        raise BatchError(
            f"Batch {state.n_batches + 1} (stream rows {start} to {stop - 1}): the statistics "
            "overflow float64 with this batch (squares of features or targets beyond about "
            "1e150). Rescale X and y in every batch (divide by a constant) and map the "
            "coefficients back.", state.n_batches + 1, (start, stop))
    return replace(
        state, parts=parts, n_rows=state.n_rows + batch.n_rows,
        n_batches=state.n_batches + 1,
        n_positive=state.n_positive + int(np.count_nonzero(batch.sample_weight > 0)),
        n_features=batch.n_features if first else state.n_features,
        feature_names=getattr(probe, "feature_names_in_", None) if first
        else state.feature_names,
        dtype=(np.dtype(np.float64) if batch.X is None else batch.X.dtype) if first
        else state.dtype,
        y_shape=batch.y_shape if first else state.y_shape,
    )


# ------------------------------------------------------------------------------------ solving
def _not_ready(mode: str, state: StreamState) -> str | None:
    """Why the rows so far cannot give a model yet (None when they can)."""
    if mode == "ridge":
        return None if state.n_rows >= 2 and state.n_positive else (
            f"{state.n_positive} of {state.n_rows} row(s) have positive weight; a fit needs 2 "
            "rows, one of positive weight")
    if state.n_positive < 2:
        return f"{state.n_positive} row(s) with positive sample_weight (CV needs 2)"
    if mode != "kfold":
        return None
    empty = [j for j, part in enumerate(state.parts) if part is None or part.weight_sum == 0]
    if empty:
        return (f"fold(s) {', '.join(map(str, empty))} of {state.n_folds} have no row with "
                "positive weight")
    total = state.total
    small = [j for j, part in enumerate(state.parts) if total.n - part.n < 2
             or not total.weight_sum - part.weight_sum > 1e-12 * total.weight_sum]
    if small:
        return (f"fold(s) {', '.join(map(str, small))} leave fewer than 2 training rows with "
                "positive weight")
    return None


def _finite(stats: GramStats) -> bool:
    return all(np.all(np.isfinite(a)) for a in (stats.x_mean, stats.y_mean, stats.xx, stats.xy,
                                                 stats.yy))


def _y_template(state: StreamState) -> np.ndarray:
    return np.empty((0, *state.y_shape))


def _fit_ridge(probe, state: StreamState) -> None:
    total = state.unshift(state.total)
    t = total.n_targets
    alphas = check_alpha(probe.alpha, n_targets=t)
    pf = check_penalty_factor(probe.penalty_factor, total.n_features)
    sol = solve_gram(total, alphas, pf, fit_intercept=probe.fit_intercept)
    _finish(probe, sol, state)


def _finish(probe, sol, state: StreamState) -> None:
    if not is_finite(sol):
        raise ValueError(
            "The ridge solution is not representable in float64 for this data: the "
            "coefficients would overflow. Rescale X and y (e.g. divide each by a constant).")
    store_solution(probe, sol, _y_template(state), state.dtype)
    probe.n_samples_seen_ = state.n_rows


def _loo_curve(spec: RidgeSpectrum, state: StreamState, second_pass):
    """Exact LOO squared-error curve, each evaluation one more pass over the batches.

    ``spec`` is about the shift when it has an intercept: dense batches are shifted to it,
    sparse ones (kept sparse) meet the same spectrum about the origin.
    """
    about_origin = state.unshift(spec) if spec.fit_intercept else spec

    def curve(alphas) -> CVCurve:
        alphas = np.asarray(alphas, dtype=np.float64)
        total = total_sq = 0.0
        for raw in second_pass():
            s = raw.sample_weight
            if sp.issparse(raw.X) or not spec.fit_intercept:
                batch, factors = raw, about_origin
            else:
                batch, factors = state.shifted(raw), spec
            for start, stop, resid in factors.loo_blocks(batch.X, batch.y2, s, alphas):
                sq = np.square(resid, out=resid)
                total = total + np.tensordot(s[start:stop], sq, axes=1)
                total_sq = total_sq + np.tensordot(s[start:stop], np.square(sq, out=sq), axes=1)
        with np.errstate(invalid="ignore", over="ignore"):
            mean = total / spec.weight_sum
            var = np.maximum(total_sq / spec.weight_sum - mean**2, 0.0)
        mean = np.where(np.isfinite(mean), mean, np.inf)
        return CVCurve(alphas, mean, np.sqrt(var / spec.n_samples), None)

    return curve


def _fit_cv(probe, state: StreamState, mode: str, second_pass=None) -> None:
    """Select alpha on the statistics as ``RidgeCV.fit`` does on the data, then solve."""
    # about the shift with an intercept (every criterion is shift-invariant then); without
    # one the raw moments about the origin are the problem itself
    fit_intercept = probe.fit_intercept
    parts = state.parts if fit_intercept else tuple(
        None if part is None else state.unshift(part) for part in state.parts)
    total = state.total if fit_intercept else state.unshift(state.total)
    spec = RidgeSpectrum.from_stats(total, fit_intercept=fit_intercept)
    if mode == "gcv":
        def evaluate(alphas):
            return ridge_gcv_curve(spec, alphas)
    elif mode == "kfold":
        evaluate = RidgeKFold.from_fold_stats(parts, fit_intercept=fit_intercept).curve
    else:
        evaluate = _loo_curve(spec, state, second_pass)
    grid = check_alpha_grid(probe.alphas)
    start = df_alpha_grid(spec.eigenvalues) if grid.values is None else grid.values
    found = search_alpha(evaluate, start, SearchSpec(
        rule=probe.selection, per_target=probe.alpha_per_target, auto=grid.auto))
    if fit_intercept:
        spec = state.unshift(spec)  # b = y_mean - x_mean.w in the data's own coordinates
    _finish(probe, spec.solution(np.atleast_1d(found.alpha)), state)
    per_target = probe.alpha_per_target and len(state.y_shape) == 1
    probe.alpha_ = found.alpha if per_target else float(np.atleast_1d(found.alpha)[0])
    probe.best_score_ = -found.loss if np.ndim(found.loss) else -float(found.loss)
    probe.cv_mode_ = mode
    probe.spectrum_ = replace(spec, single_target=not state.y_shape)
    probe.cv_results_ = ridge_cv_results(found.curve, spec, total.n, probe.alpha_per_target,
                                         1.0, 1.0)


def _fit(probe, state: StreamState, mode: str, second_pass=None) -> None:
    if mode == "ridge":
        _fit_ridge(probe, state)
    else:
        _fit_cv(probe, state, mode, second_pass)


def _commit(est, probe, state: StreamState) -> None:
    """Copy the fitted attributes of ``probe`` onto ``est`` (all computed before any is set)."""
    params = est.get_params(deep=False)
    for key, value in vars(probe).items():
        if key not in params:
            setattr(est, key, value)
    est._stream_state = replace(state, coef=getattr(probe, "coef_", None))


class RowStats:
    """``GramStats`` of the rows of :class:`ridgeway.io.Block` objects, added one at a time
    (as a stream without a model: the same per-batch reduction, about the first block's
    means). A missing or infinite value is refused naming its file row."""

    def __init__(self) -> None:
        self._state = StreamState.start(None)
        self._probe = types.SimpleNamespace()
        self._work = _Workspace()

    def add(self, block: Block) -> None:
        self._state = _add(self._probe, self._state, block, None, None, None, self._work)

    @property
    def stats(self) -> GramStats | None:
        """The statistics of every row added, about their own means (None before any)."""
        total = self._state.total
        return None if total is None else self._state.unshift(total)


def stream_stats(est) -> GramStats:
    """``est.stats_``: the statistics of every row of the stream that gave its model, about
    the data's own means (``AttributeError`` when its model did not come from a stream)."""
    state = getattr(est, "_stream_state", None)
    if state is None or state.coef is None or getattr(est, "coef_", None) is not state.coef:
        raise AttributeError(
            f"{type(est).__name__}.stats_ exists after partial_fit or fit_stream only (the "
            "statistics the model was solved from); this model was not fitted from a stream.")
    return state.unshift(state.total)


# -------------------------------------------------------------------------------- entry points
def partial_fit(est, X, y, sample_weight=None, fold=None):
    """Add one batch to ``est``'s stream and refit from the statistics (see RidgeCV.partial_fit)."""
    mode, n_folds = one_pass_mode(est)
    if mode == "loo":
        raise AttributeError(LOO_NEEDS_TWO_PASSES)
    if fold is not None and n_folds is None:
        raise ValueError(
            "fold= assigns rows to the folds of k-fold CV; this estimator has none "
            f"({'cv=' + repr(est.cv) if hasattr(est, 'cv') else 'Ridge'}). Pass "
            "cv=k to RidgeCV to use a fold column, or drop fold=.")
    state = _state_of(est, n_folds)
    probe = _probe(est, state)
    state = _add(probe, state, X, y, sample_weight, fold)
    reason = _not_ready(mode, state)
    if reason is not None:
        if state.n_rows:
            warnings.warn(
                f"{type(est).__name__}.partial_fit: no model yet after batch "
                f"{state.n_batches} ({reason}); the statistics are kept and the model is "
                "fitted on the first call that completes them.", UserWarning, stacklevel=3)
        est._stream_state = state
        return est
    probe = _probe(est, state)
    _fit(probe, state, mode)
    _commit(est, probe, state)
    return est


def _blocks(batches, passes: int):
    """A zero-argument callable yielding ``(X, y, sample_weight, fold)`` per batch; for a
    :class:`ridgeway.io.Block`, ``(block, None, None, block.fold)`` (see :func:`_add`)."""
    if callable(batches):
        open_ = batches
    else:
        if passes > 1 and iter(batches) is batches:
            raise TypeError(
                "Exact leave-one-out reads the batches twice, but an iterator can be read "
                "only once. Pass a zero-argument callable that returns a fresh iterator of "
                "batches each time (e.g. lambda: ridgeway.io.iter_batches(path, ...)), or a "
                "list of batches.")
        def open_():
            return iter(batches)

    def blocks():
        for block in open_():
            if isinstance(block, Block):
                yield block, None, None, block.fold
                continue
            if not isinstance(block, tuple) or not 2 <= len(block) <= 4:
                raise TypeError(
                    "Each batch must be a tuple (X, y), (X, y, sample_weight) or (X, y, "
                    f"sample_weight, fold); got {type(block).__name__}"
                    f"{' of length ' + str(len(block)) if isinstance(block, tuple) else ''}.")
            yield block + (None,) * (4 - len(block))

    return blocks


def standardized(stats: GramStats, mean: np.ndarray, scale: np.ndarray) -> GramStats:
    """The statistics of the columns ``z = (x - mean) / scale`` (an exact linear map: the
    means move and scale, the co-moments scale)."""
    return replace(stats, x_mean=(stats.x_mean - mean) / scale,
                   xx=stats.xx / np.outer(scale, scale), xy=stats.xy / scale[:, None])


def fit_stream(est, batches, *, standardize=None):
    """Fit ``est`` on a whole stream of batches (see RidgeCV.fit_stream).

    ``standardize(stats) -> (mean, scale)``, given the statistics of every row, fits the
    model on the columns ``(x - mean) / scale`` instead (a one-pass standardization: the
    statistics are mapped, the rows are not read again; GCV and k-fold only).
    """
    mode, n_folds = one_pass_mode(est)
    if standardize is not None and mode == "loo":
        raise ValueError("exact leave-one-out reads the rows again: standardize them first.")
    blocks = _blocks(batches, 2 if mode == "loo" else 1)
    state = StreamState.start(n_folds)
    probe = _probe(est, state)
    work = _Workspace()
    for X, y, sample_weight, fold in blocks():
        if fold is not None and n_folds is None:
            raise ValueError(
                "A batch carries a fold column but this estimator has no folds; pass cv=k "
                "to RidgeCV to use it, or yield (X, y, sample_weight) only.")
        state = _add(probe, state, X, y, sample_weight, fold, work)  # probe learns the schema
    reason = _not_ready(mode, state)
    if reason is not None:
        raise ValueError(
            f"Cannot fit {type(est).__name__} on this stream: after {state.n_batches} "
            f"batch(es) and {state.n_rows} row(s), {reason}. Give it more rows"
            f"{', fewer folds, or a fold column that uses every fold' if n_folds else ''}.")
    if standardize is not None:  # parts about the shift: their means only scale
        mean, scale = (np.asarray(v, dtype=np.float64)
                       for v in standardize(state.unshift(state.total)))
        state = replace(state, x_shift=(state.x_shift - mean) / scale, parts=tuple(
            None if part is None else standardized(part, 0.0, scale) for part in state.parts))

    def second_pass():
        again = StreamState.start(n_folds)
        again = replace(again, n_features=state.n_features, feature_names=state.feature_names,
                        dtype=state.dtype, y_shape=state.y_shape)
        for X, y, sample_weight, fold in blocks():
            if isinstance(X, Block):
                X, y, sample_weight, fold = X
            batch = _validate(probe, again, X, y, sample_weight, fold)
            m = 0 if batch is None else batch.X.shape[0]
            again = replace(again, n_rows=again.n_rows + m, n_batches=again.n_batches + 1)
            if batch is not None:
                yield batch
        if again.n_rows != state.n_rows:
            raise ValueError(
                f"The batches changed between passes: the first pass read {state.n_rows} "
                f"rows, the second {again.n_rows}. fit_stream with cv=None reads them twice; "
                "the callable must return the same batches each time.")

    fitted = _probe(est, state)
    _fit(fitted, state, mode, second_pass)
    _commit(est, fitted, state)
    return est

