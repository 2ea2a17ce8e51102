"""Weighted sufficient statistics of (X, y): the unit of streaming, k-fold CV and distributed fits.

For rows ``x_i`` with targets ``y_i`` and weights ``s_i`` the statistics are

    n        number of rows
    W        sum_i s_i
    x_mean   sum_i s_i x_i / W                    y_mean  sum_i s_i y_i / W
    xx       sum_i s_i (x_i - x_mean)(x_i - x_mean)'
    xy       sum_i s_i (x_i - x_mean)(y_i - y_mean)'
    yy       sum_i s_i (y_i - y_mean)(y_i - y_mean)'

Two sets merge with the pairwise update of Chan, Golub and LeVeque (1979): with
``d = mean_b - mean_a``, ``W = W_a + W_b``, ``mean = mean_a + (W_b / W) d`` and
``C = C_a + C_b + (W_a W_b / W) d d'``. Because every set stores co-moments about its own
mean, merging never subtracts two large uncentered sums, so the result stays accurate in
float64 even when the columns have large means. ``-`` inverts the merge (removes a fold).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

_CHUNK_BYTES = 32 * 2**20


def _as_2d(y: np.ndarray) -> np.ndarray:
    return y[:, None] if y.ndim == 1 else y


@dataclass(frozen=True, eq=False)
class GramStats:
    """Weighted, centered sufficient statistics of a data set (see the module docstring).

    Attributes
    ----------
    n : int
        Number of rows.
    weight_sum : float
        ``W = sum_i s_i``.
    x_mean : ndarray of shape (p,)
    y_mean : ndarray of shape (t,)
    xx : ndarray of shape (p, p)
        Centered weighted co-moment ``X_c' S X_c``.
    xy : ndarray of shape (p, t)
        ``X_c' S y_c``.
    yy : ndarray of shape (t, t)
        ``y_c' S y_c``.
    """

    n: int
    weight_sum: float
    x_mean: np.ndarray
    y_mean: np.ndarray
    xx: np.ndarray
    xy: np.ndarray
    yy: np.ndarray

    @classmethod
    def from_arrays(
        cls,
        X: np.ndarray | sp.spmatrix,
        y: np.ndarray,
        sample_weight: np.ndarray | None = None,
        *,
        chunk_rows: int | None = None,
    ) -> GramStats:
        """Statistics of ``(X, y)`` with weights ``sample_weight`` (default 1).

        Dense ``X`` is processed in row chunks (float32 chunks are promoted one at a time, so
        no float64 copy of the whole of ``X`` is made); sparse ``X`` is centered implicitly.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n, p)
        y : ndarray of shape (n,) or (n, t)
        sample_weight : ndarray of shape (n,), optional
        chunk_rows : int, optional
            Rows per chunk; by default chunks of about 32 MiB.
        """
        y2 = _as_2d(np.asarray(y, dtype=np.float64))
        s = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if sp.issparse(X):
            return cls._from_sparse(X, y2, s)
        n, p = X.shape
        if chunk_rows is None:
            chunk_rows = max(256, _CHUNK_BYTES // (8 * max(p, 1)))
        W = float(n) if s is None else float(np.sum(s))
        if W == 0:
            return cls.empty(n, p, y2.shape[1])
        x_mean = _weighted_mean(X, s, W, chunk_rows)
        y_mean = (y2.sum(axis=0) if s is None else s @ y2) / W
        if s is None and X.dtype == np.float64:
            fast = cls._from_uncentered(X, y2, x_mean, y_mean)
            if fast is not None:
                return fast
        xx = np.zeros((p, p))
        xy = np.zeros((p, y2.shape[1]))
        yy = np.zeros((y2.shape[1], y2.shape[1]))
        dx = np.zeros(p)
        dy = np.zeros(y2.shape[1])
        for start in range(0, n, chunk_rows):
            stop = min(start + chunk_rows, n)
            xc = np.asarray(X[start:stop], dtype=np.float64) - x_mean
            yc = y2[start:stop] - y_mean
            if s is None:
                dx += xc.sum(axis=0)
                dy += yc.sum(axis=0)
            else:
                root = np.sqrt(s[start:stop])
                xc *= root[:, None]
                yc = yc * root[:, None]
                dx += root @ xc
                dy += root @ yc
            xx += xc.T @ xc
            xy += xc.T @ yc
            yy += yc.T @ yc
        # second-pass correction: the first-pass mean is off by dx / W
        dx /= W
        dy /= W
        xx -= W * np.outer(dx, dx)
        xy -= W * np.outer(dx, dy)
        yy -= W * np.outer(dy, dy)
        return cls(n, W, x_mean + dx, y_mean + dy, _sym(xx), xy, _sym(yy))

    @classmethod
    def empty(cls, n: int, p: int, t: int) -> GramStats:
        """Statistics of ``n`` rows of total weight 0 (the neutral element of ``+``)."""
        return cls(n, 0.0, np.zeros(p), np.zeros(t), np.zeros((p, p)), np.zeros((p, t)),
                   np.zeros((t, t)))

    @classmethod
    def _from_uncentered(cls, X, y2, x_mean, y_mean) -> GramStats | None:
        """``X'X - n m m'`` without a centered copy, when that cancels at most one bit.

        The subtraction loses about ``log2(1 + m_j^2 / var_j)`` bits in column j. If a column
        has ``m_j^2 > var_j`` this returns None and the caller centers chunk by chunk instead.
        """
        n = X.shape[0]
        xx = X.T @ X
        var = np.diag(xx) / n - x_mean**2
        if np.any(x_mean**2 > var):
            return None
        xx -= n * np.outer(x_mean, x_mean)
        yc = y2 - y_mean
        xy = X.T @ yc - np.outer(x_mean, yc.sum(axis=0))
        return cls(n, float(n), x_mean, y_mean, _sym(xx), xy, _sym(yc.T @ yc))

    @classmethod
    def _from_sparse(cls, X: sp.spmatrix, y2: np.ndarray, s: np.ndarray | None) -> GramStats:
        n = X.shape[0]
        s_vec = np.ones(n) if s is None else s
        W = float(np.sum(s_vec))
        if W == 0:
            return cls.empty(n, X.shape[1], y2.shape[1])
        Xs = sp.diags(s_vec) @ X
        x_mean = np.asarray(Xs.sum(axis=0)).ravel() / W
        y_mean = s_vec @ y2 / W
        xx = np.asarray((X.T @ Xs).toarray()) - W * np.outer(x_mean, x_mean)
        yc = y2 - y_mean
        xy = np.asarray(Xs.T @ yc) - np.outer(x_mean, s_vec @ yc)
        yy = (yc * s_vec[:, None]).T @ yc
        return cls(n, W, x_mean, y_mean, _sym(xx), xy, _sym(yy))

    @classmethod
    def from_batches(cls, batches) -> GramStats:
        """Merge the statistics of an iterable of ``(X, y)`` or ``(X, y, sample_weight)``."""
        total = None
        for batch in batches:
            part = cls.from_arrays(*batch)
            total = part if total is None else total + part
        if total is None:
            raise ValueError("No batches were given: cannot build GramStats from nothing.")
        return total

    @property
    def n_features(self) -> int:
        return self.x_mean.shape[0]

    @property
    def n_targets(self) -> int:
        return self.y_mean.shape[0]

    def columns(self, cols: np.ndarray) -> GramStats:
        """The statistics of the targets ``cols`` only."""
        return GramStats(self.n, self.weight_sum, self.x_mean, self.y_mean[cols], self.xx,
                         self.xy[:, cols], self.yy[np.ix_(cols, cols)])

    def __add__(self, other: GramStats) -> GramStats:
        if not isinstance(other, GramStats):
            return NotImplemented
        _check_compatible(self, other)
        if other.weight_sum == 0 or self.weight_sum == 0:  # rows of weight 0 only count
            kept = self if other.weight_sum == 0 else other
            return replace(kept, n=self.n + other.n)
        W = self.weight_sum + other.weight_sum
        f = self.weight_sum * other.weight_sum / W
        dx = other.x_mean - self.x_mean
        dy = other.y_mean - self.y_mean
        return GramStats(
            self.n + other.n,
            W,
            self.x_mean + (other.weight_sum / W) * dx,
            self.y_mean + (other.weight_sum / W) * dy,
            self.xx + other.xx + f * np.outer(dx, dx),
            self.xy + other.xy + f * np.outer(dx, dy),
            self.yy + other.yy + f * np.outer(dy, dy),
        )

    def __sub__(self, other: GramStats) -> GramStats:
        """Statistics of the rows of ``self`` that are not in ``other`` (``other`` a subset)."""
        if not isinstance(other, GramStats):
            return NotImplemented
        _check_compatible(self, other)
        W = self.weight_sum - other.weight_sum
        if not W > 1e-12 * self.weight_sum or other.n >= self.n:
            raise ValueError(
                "Cannot remove these statistics: nothing (or no positive weight) would remain."
            )
        x_mean = (self.weight_sum * self.x_mean - other.weight_sum * other.x_mean) / W
        y_mean = (self.weight_sum * self.y_mean - other.weight_sum * other.y_mean) / W
        f = W * other.weight_sum / self.weight_sum
        dx = other.x_mean - x_mean
        dy = other.y_mean - y_mean
        return GramStats(
            self.n - other.n,
            W,
            x_mean,
            y_mean,
            _sym(self.xx - other.xx - f * np.outer(dx, dx)),
            self.xy - other.xy - f * np.outer(dx, dy),
            _sym(self.yy - other.yy - f * np.outer(dy, dy)),
        )


def _weighted_mean(X: np.ndarray, s: np.ndarray | None, W: float, chunk_rows: int) -> np.ndarray:
    total = np.zeros(X.shape[1])
    for start in range(0, X.shape[0], chunk_rows):
        block = np.asarray(X[start : start + chunk_rows], dtype=np.float64)
        total += block.sum(axis=0) if s is None else s[start : start + chunk_rows] @ block
    return total / W


def _sym(a: np.ndarray) -> np.ndarray:
    return 0.5 * (a + a.T)


def _check_compatible(a: GramStats, b: GramStats) -> None:
    if a.n_features != b.n_features or a.n_targets != b.n_targets:
        raise ValueError(
            f"GramStats shapes differ: {a.n_features} features/{a.n_targets} targets vs "
            f"{b.n_features} features/{b.n_targets} targets."
        )
