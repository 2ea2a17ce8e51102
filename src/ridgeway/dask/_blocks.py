"""Row blocks of Dask inputs, per-block statistics and their tree reduction on the cluster.

Every Dask estimator turns ``X`` (a ``dask.array`` or ``dask.dataframe``), ``y``, the sample
weights and an optional fold column into aligned row blocks (one per partition, all columns
of ``X`` in one chunk) with known sizes, so that the global position of every row is known:
partition ``b`` holds rows ``starts[b] .. starts[b] + sizes[b] - 1``. A function of one block
runs on the workers; its results are merged pairwise in a tree (``split_every`` at a time) on
the workers, and only the root (a few p x p matrices) comes back to the client.

Empty partitions (common after filtering a data frame) are valid: they contribute nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from numbers import Integral

import numpy as np

from .._optional import import_optional
from ..linalg.folds import fold_of
from ..linalg.gram import GramStats

dask = import_optional("dask", extra="dask")
da = import_optional("dask.array", extra="dask")

_SPLIT_EVERY = 8


@dataclass
class RowBlocks:
    """Aligned row blocks of ``X``, ``y``, weights and folds (see the module docstring).

    Attributes
    ----------
    X : dask.array of shape (n, p), chunked along rows only
    y : dask.array of shape (n,) or (n, t), or None
    sample_weight, fold : dask.array of shape (n,) or None
    sizes, starts : ndarray of int
        Rows per partition and the global position of each partition's first row.
    feature_names : list of str or None
    """

    X: object
    y: object
    sample_weight: object
    fold: object
    sizes: np.ndarray
    starts: np.ndarray
    feature_names: list | None

    @property
    def n_samples(self) -> int:
        return int(self.sizes.sum())

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    def delayed(self) -> list[tuple]:
        """Per partition: ``(index, start, X, y, weight, fold)``, the blocks delayed."""
        cols = [self.X.to_delayed(optimize_graph=False).ravel()]
        for a in (self.y, self.sample_weight, self.fold):
            cols.append(None if a is None else a.to_delayed(optimize_graph=False).ravel())
        out = []
        for b in range(len(self.sizes)):
            out.append((b, int(self.starts[b]), *(None if c is None else c[b] for c in cols)))
        return out


def _is_frame(obj) -> bool:
    return hasattr(obj, "to_dask_array") and hasattr(obj, "npartitions")


def _frame_to_array(frame, name: str):
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    dtypes = getattr(frame, "dtypes", None)
    if hasattr(dtypes, "items"):
        bad = [str(c) for c, t in dtypes.items() if not (is_numeric_dtype(t) or is_bool_dtype(t))]
        if bad:
            raise ValueError(
                f"{name} has non-numeric column(s) {', '.join(map(repr, bad))}: encode them "
                "first (e.g. dask_ml.preprocessing.Categorizer + DummyEncoder) or drop them.")
    return frame.to_dask_array(lengths=True)


def _known(a):
    if any(np.isnan(c) for c in a.chunks[0]):
        a = a.compute_chunk_sizes()
    return a


def is_dask_collection(obj) -> bool:
    """Whether ``obj`` is a dask array or data frame (the inputs these estimators take)."""
    return isinstance(obj, da.Array) or _is_frame(obj)


def as_dask_X(X, *, name: str = "X"):
    """``X`` as a dask array with known row chunks and one column chunk, and its names."""
    names = None
    if _is_frame(X):
        cols = list(X.columns)
        names = cols if all(isinstance(c, str) for c in cols) else None
        X = _frame_to_array(X, name)
    elif not isinstance(X, da.Array):
        raise TypeError(
            f"{name} must be a dask.array or dask.dataframe, got {type(X).__name__}. For "
            "in-memory data use the estimators of ridgeway itself (ridgeway.RidgeCV, ...), or "
            "wrap it: dask.array.from_array(X, chunks=(100_000, -1)).")
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got {X.ndim} dimensions.")
    X = _known(X)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)
            or X.dtype == bool):
        raise ValueError(f"{name} must be numeric, got dtype {X.dtype}.")
    return X, names


def _aligned(v, X, name: str, *, allow_2d: bool):
    """``v`` (dask or in-memory) as a dask array chunked like the rows of ``X``."""
    if v is None:
        return None
    if _is_frame(v):
        v = _frame_to_array(v, name)
    elif hasattr(v, "to_dask_array"):  # dask Series
        v = v.to_dask_array(lengths=True)
    if not isinstance(v, da.Array):
        v = np.asarray(v)
        if v.ndim == 0:
            raise ValueError(f"{name} must be an array of one value per row of X, got a scalar.")
        _check_length(v, X, name)
        v = da.from_array(v, chunks=(X.chunks[0], *((s,) for s in v.shape[1:])))
    v = _known(v)
    if v.ndim == 2 and v.shape[1] == 1 and not allow_2d:
        v = v[:, 0]
    if v.ndim > (2 if allow_2d else 1):
        raise ValueError(f"{name} must be 1-D{' or 2-D' if allow_2d else ''}, got shape "
                         f"{v.shape}.")
    _check_length(v, X, name)
    if v.chunks[0] != X.chunks[0]:
        v = v.rechunk({0: X.chunks[0]})
    if v.ndim == 2 and len(v.chunks[1]) > 1:
        v = v.rechunk({1: -1})
    return v


def _check_length(v, X, name: str) -> None:
    if v.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name} has {v.shape[0]} rows but X has {X.shape[0]}: they must be aligned row by "
            "row (same length; data frames: same partitions).")


def row_blocks(X, y=None, sample_weight=None, fold=None) -> RowBlocks:
    """Validate the shapes of Dask inputs and align them as row blocks (values are checked in
    the blocks, where each error names the partition and its rows)."""
    Xd, names = as_dask_X(X)
    yd = _aligned(y, Xd, "y", allow_2d=True)
    sw = _aligned(sample_weight, Xd, "sample_weight", allow_2d=False)
    fd = _aligned(fold, Xd, "fold", allow_2d=False)
    sizes = np.array(Xd.chunks[0], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    if sizes.sum() < 2:
        raise ValueError(f"X has {int(sizes.sum())} row(s): at least 2 are needed to fit.")
    return RowBlocks(Xd, yd, sw, fd, sizes, starts, names)


# ---------------------------------------------------------------------------- block checks
def where(start: int, stop: int, partition: int | None = None) -> str:
    part = "" if partition is None else f"partition {partition}, "
    return f"{part}rows {start}-{stop - 1}"


def check_block(start: int, x, y, s, fold, n_folds: int | None, *, partition=None):
    """Float64 copies of one block, or an error naming the partition, row and column."""
    x = np.asarray(x, dtype=np.float64)
    stop = start + x.shape[0]
    loc = where(start, stop, partition)
    bad = ~np.isfinite(x)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValueError(
            f"X has a non-finite value ({float(x[r, c])!r}) in {loc}: at row {start + r}, column "
            f"{c}. Drop or impute those rows (e.g. X[da.isfinite(X).all(axis=1)]).")
    if y is not None:
        y = np.asarray(y, dtype=np.float64)
        if not np.all(np.isfinite(y)):
            r = int(np.flatnonzero(~np.isfinite(y.reshape(len(y), -1)).all(axis=1))[0])
            raise ValueError(f"y has a non-finite value in {loc}: at row {start + r}. Drop or "
                             "impute those rows.")
    if s is not None:
        s = np.asarray(s, dtype=np.float64)
        bad = ~(np.isfinite(s) & (s >= 0))
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"sample_weight must be finite and non-negative; {loc} has {float(s[r])!r} at row "
                f"{start + r}.")
    if fold is not None:
        fold = np.asarray(fold)
        if not np.issubdtype(fold.dtype, np.integer):
            raise ValueError(f"fold must hold integers, got dtype {fold.dtype} ({loc}).")
        bad = (fold < 0) | (fold >= n_folds)
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"fold ids must lie in 0..{n_folds - 1} (cv={n_folds}); {loc} has "
                f"{int(fold[r])} at row {start + r}. Pass cv equal to the number of folds.")
    return x, y, s, fold


def fold_ids(start: int, m: int, fold, n_folds: int) -> np.ndarray:
    """The fold column if given, else the position hash ``ridgeway.linalg.fold_of``."""
    if fold is not None:
        return np.asarray(fold, dtype=np.intp)
    return fold_of(np.arange(start, start + m), n_folds)


# ---------------------------------------------------------------------------- reductions
def tree_reduce(parts: list, merge, split_every: int = _SPLIT_EVERY):
    """Merge delayed ``parts`` pairwise-in-groups on the cluster; returns one delayed value."""
    delayed = dask.delayed
    if not parts:
        raise ValueError("X has no partitions.")
    while len(parts) > 1:
        parts = [delayed(_merge_group)(parts[i:i + split_every], merge)
                 for i in range(0, len(parts), split_every)]
    return parts[0]


def _merge_group(group, merge):
    out = group[0]
    for item in group[1:]:
        out = merge(out, item)
    return out


def compute(value):
    """``dask.compute`` on the current scheduler (the distributed client when one is active)."""
    (out,) = dask.compute(value)
    return out


def add_stats(a: GramStats | None, b: GramStats | None) -> GramStats | None:
    """``a + b`` for statistics that may be missing (empty block) or of zero weight."""
    if a is None or b is None:
        return b if a is None else a
    if b.weight_sum == 0:
        return replace(a, n=a.n + b.n)
    if a.weight_sum == 0:
        return replace(b, n=a.n + b.n)
    return a + b


def add_stats_lists(a: list, b: list) -> list:
    return [add_stats(u, v) for u, v in zip(a, b, strict=True)]


def block_stats(x, y2, s) -> GramStats | None:
    """``GramStats`` of one block (None if empty; zero matrices if its weight is 0)."""
    if x.shape[0] == 0:
        return None
    if s is not None and not np.sum(s) > 0:
        p, t = x.shape[1], y2.shape[1]
        return GramStats(x.shape[0], 0.0, np.zeros(p), np.zeros(t), np.zeros((p, p)),
                         np.zeros((p, t)), np.zeros((t, t)))
    return GramStats.from_arrays(x, y2, s)


def check_n_folds(cv) -> int:
    if isinstance(cv, bool) or not isinstance(cv, Integral) or cv < 2:
        raise ValueError(
            f"On Dask, cv must be None (leave-one-out), 'gcv' or an integer >= 2 (folds by a "
            f"hash of the row position, or given by fit(..., fold=...)); got {cv!r}. Splitter "
            "objects need the rows in memory: use ridgeway's in-memory estimators for them.")
    return int(cv)
