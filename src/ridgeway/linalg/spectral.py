"""One eigendecomposition answers every alpha: ridge coefficients, LOO, GCV, df, shrinkage.

Ridge with an unpenalized intercept minimizes

    1/2 * sum_i s_i (y_i - x_i.w - b)^2 + alpha/2 * ||w||^2 .

With weighted means ``x_mean, y_mean``, centered rows ``x_ci = x_i - x_mean`` and the eigen-
decomposition of the centered weighted gram ``X_c' S X_c = V diag(d) V'`` (rank r), the solution
for any alpha is

    w(alpha) = V diag(1 / (d + alpha)) q,    q = V' X_c' S y_c,    b = y_mean - x_mean.w .

From the same factors, for a whole vector of alphas at once:

* effective degrees of freedom ``df = sum_j d_j / (d_j + alpha)`` (intercept not counted);
* shrinkage factors ``d_j / (d_j + alpha)`` of each principal direction;
* leverages ``h_i = s_i / W + s_i * sum_j t_ij^2 / (d_j + alpha)`` with ``t_i = V' x_ci``, and
  exact leave-one-out residuals ``e_i / (1 - h_i)`` (the usual hat-matrix identity, valid for
  ridge because it is a linear smoother whose fit on n-1 points is the same formula);
* GCV ``(RSS / n) / (1 - (df + 1) / n)^2`` (Golub, Heath and Wahba, 1979), a rotation-invariant
  *approximation* of LOO; it is a different criterion (scikit-learn's ``RidgeCV`` calls its
  exact LOO "gcv").

When n < p the n x n centered kernel ``S^1/2 X_c X_c' S^1/2 = U diag(d) U'`` is decomposed instead
and ``V = X_c' S^1/2 U diag(d)^-1/2`` is recovered, so the rest is shared. Directions with
``d_j <= rtol * max(d)`` are dropped: as alpha -> 0 the coefficients tend to the minimum-norm
least-squares solution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._threads import small_dense
from .direct import RidgeSolution, weighted_kernel, weighted_means
from .gram import GramStats, _as_2d

_CHUNK_ELEMENTS = 2**20


def _eig_desc(a: np.ndarray, rtol: float | None) -> tuple[np.ndarray, np.ndarray]:
    with small_dense(a.shape[0]):
        d, v = np.linalg.eigh(a)
    d, v = d[::-1], v[:, ::-1]
    if rtol is None:
        rtol = 10 * max(a.shape) * np.finfo(np.float64).eps
    keep = d > rtol * max(d[0], 0.0) if d.size else d > 0
    return d[keep], np.ascontiguousarray(v[:, keep])


@dataclass(frozen=True, eq=False)
class RidgeSpectrum:
    """Eigen-factors of a ridge problem, from which any alpha is answered cheaply.

    Attributes
    ----------
    eigenvalues : ndarray of shape (r,)
        Non-zero eigenvalues ``d`` of the centered weighted gram, descending.
    basis : ndarray of shape (p, r) or None
        The matching eigenvectors ``V`` (see ``eigenvectors``); None in the dual until needed.
    q : ndarray of shape (r, t)
        ``V' X_c' S y_c``.
    x_mean, y_mean : ndarray
        Weighted means (zeros without an intercept).
    yy : ndarray of shape (t,)
        ``sum_i s_i y_ci^2`` per target.
    weight_sum : float
    n_samples : int
    fit_intercept : bool
    single_target : bool
        Whether ``y`` was 1-D (outputs then drop the target axis).
    train_projections : ndarray of shape (n, r) or None
        ``V'x_ci`` of the training rows when they come for free (the dual with positive
        weights: ``U diag(d)^1/2 / sqrt(s_i)``); used by leave-one-out.
    dual_basis : tuple (X, B) or None
        In the dual, ``V = X_c' B`` with ``B = S^1/2 U diag(d)^-1/2`` (n x r). Products
        ``V z`` for a few columns ``z`` are then two matrix-vector passes over X; the p x r
        matrix ``V`` (a p n r product) is formed only when a method needs all of it.
    """

    eigenvalues: np.ndarray
    basis: np.ndarray | None
    q: np.ndarray
    x_mean: np.ndarray
    y_mean: np.ndarray
    yy: np.ndarray
    weight_sum: float
    n_samples: int
    fit_intercept: bool = True
    single_target: bool = False
    train_projections: np.ndarray | None = None
    dual_basis: tuple | None = None

    @property
    def eigenvectors(self) -> np.ndarray:
        """``V`` of shape (p, r), formed from ``dual_basis`` on first use in the dual."""
        if self.basis is None:
            object.__setattr__(self, "basis", self._v_times(None))
        return self.basis

    def _v_times(self, z: np.ndarray | None) -> np.ndarray:
        """``V z`` (``V`` itself for ``z=None``) without forming ``V`` when it is not there."""
        if self.basis is not None:
            return self.basis if z is None else self.basis @ z
        X, B = self.dual_basis
        Bz = B if z is None else B @ z
        return np.asarray(X.T @ Bz) - np.outer(self.x_mean, Bz.sum(axis=0))

    def _vt_times(self, x: np.ndarray) -> np.ndarray:
        """``V' x`` for one vector ``x`` of length p."""
        if self.basis is not None:
            return x @ self.basis
        X, B = self.dual_basis
        return (np.asarray(X @ x).ravel() - self.x_mean @ x) @ B

    @classmethod
    def from_stats(
        cls,
        stats: GramStats,
        *,
        fit_intercept: bool = True,
        single_target: bool = False,
        rtol: float | None = None,
    ) -> RidgeSpectrum:
        """Primal factors from ``GramStats`` (one p x p eigendecomposition)."""
        xx, xy, yy = stats.xx, stats.xy, np.diag(stats.yy).copy()
        x_mean, y_mean = stats.x_mean, stats.y_mean
        if not fit_intercept:
            W = stats.weight_sum
            xx = xx + W * np.outer(x_mean, x_mean)
            xy = xy + W * np.outer(x_mean, y_mean)
            yy = yy + W * y_mean**2
            x_mean, y_mean = np.zeros_like(x_mean), np.zeros_like(y_mean)
        d, v = _eig_desc(xx, rtol)
        return cls(
            d, v, v.T @ xy, x_mean, y_mean, yy, stats.weight_sum, stats.n, fit_intercept,
            single_target,
        )

    @classmethod
    def from_data(
        cls,
        X: np.ndarray | sp.spmatrix,
        y: np.ndarray,
        sample_weight: np.ndarray | None = None,
        *,
        fit_intercept: bool = True,
        mode: str = "auto",
        rtol: float | None = None,
    ) -> RidgeSpectrum:
        """Factors of ``(X, y)``: primal (``mode="primal"``, p x p), dual (n x n) or by shape.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n, p)
        y : ndarray of shape (n,) or (n, t)
        sample_weight : ndarray of shape (n,), optional
        fit_intercept : bool
        mode : {"auto", "primal", "dual"}
            ``"auto"`` is primal when n >= p.
        rtol : float, optional
            Relative threshold below which eigenvalues count as zero.
        """
        single = np.ndim(y) == 1
        n, p = X.shape
        if mode == "primal" or (mode == "auto" and n >= p):
            stats = GramStats.from_arrays(X, y, sample_weight)
            return cls.from_stats(stats, fit_intercept=fit_intercept, single_target=single,
                                  rtol=rtol)
        return cls._dual(X, _as_2d(np.asarray(y, dtype=np.float64)), sample_weight,
                         fit_intercept, single, rtol)

    @classmethod
    def _dual(cls, X, y2, sample_weight, fit_intercept, single, rtol) -> RidgeSpectrum:
        n = X.shape[0]
        s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
        x_mean, y_mean, W = weighted_means(X, y2, s, fit_intercept)
        root = np.sqrt(s)
        if sp.issparse(X):
            X = X.astype(np.float64, copy=False)
        K = weighted_kernel(X, x_mean, root)
        d, u = _eig_desc(0.5 * (K + K.T), rtol)
        basis = u * (root[:, None] / np.sqrt(d))
        yc = y2 - y_mean
        q = np.sqrt(d)[:, None] * (u.T @ (root[:, None] * yc))
        yy = s @ yc**2
        proj = u * np.sqrt(d) / root[:, None] if np.all(s > 0) else None
        return cls(d, None, q, x_mean, y_mean, yy, W, n, fit_intercept, single, proj, (X, basis))

    # ----------------------------------------------------------------- per-alpha answers
    @property
    def rank(self) -> int:
        return self.eigenvalues.shape[0]

    def _g(self, alphas) -> np.ndarray:
        alphas = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
        with np.errstate(divide="ignore"):
            return 1.0 / (self.eigenvalues[:, None] + alphas[None, :])

    def _squeeze(self, a: np.ndarray) -> np.ndarray:
        return a[..., 0] if self.single_target else a

    def coef(self, alphas) -> np.ndarray:
        """Coefficients, shape (n_alphas, p) for 1-D y, else (n_alphas, p, t)."""
        g = self._g(alphas)  # (r, a)
        z = g[:, :, None] * self.q[:, None, :]  # (r, a, t)
        r, a, t = z.shape
        w = self._v_times(z.reshape(r, a * t)).reshape(self.x_mean.shape[0], a, t)  # (p, a, t)
        return self._squeeze(np.moveaxis(w, 1, 0))

    def intercept(self, alphas) -> np.ndarray:
        """Intercepts ``y_mean - x_mean.w``, shape (n_alphas,) or (n_alphas, t)."""
        xv = self._vt_times(self.x_mean)  # (r,)
        g = self._g(alphas)
        b = self.y_mean[None, :] - (g.T * xv[None, :]) @ self.q
        return self._squeeze(b)

    def solution(self, alphas) -> RidgeSolution:
        """Coefficients (p, t) and intercepts (t,) at one alpha per target (or one for all)."""
        z = self._g_columns(alphas, self.q.shape[1]) * self.q
        coef = self._v_times(z)
        intercept = self.y_mean - self._vt_times(self.x_mean) @ z
        return RidgeSolution(coef, intercept,
                             "eigen-dual" if self.dual_basis is not None else "eigen-primal")

    def _g_columns(self, alphas, t: int) -> np.ndarray:
        """``1 / (d_j + alpha_k)`` for one alpha per column, shape (r, t)."""
        alphas = np.broadcast_to(np.asarray(alphas, dtype=np.float64), (t,))
        with np.errstate(divide="ignore"):
            return 1.0 / (self.eigenvalues[:, None] + alphas[None, :])

    def inverse(self, alphas, rhs: np.ndarray) -> np.ndarray:
        """``(X_c'SX_c + alpha_k I)^+ rhs_k`` for each column k of ``rhs``, shape (p, t)."""
        g = self._g_columns(alphas, rhs.shape[1])
        return self._v_times(g * np.asarray(self.eigenvectors.T @ rhs))

    def df(self, alphas) -> np.ndarray:
        """Effective degrees of freedom ``sum_j d_j / (d_j + alpha)``, shape (n_alphas,)."""
        return self.shrinkage(alphas).sum(axis=1)

    def shrinkage(self, alphas) -> np.ndarray:
        """Shrinkage factors ``d_j / (d_j + alpha)``, shape (n_alphas, r)."""
        return (self.eigenvalues[:, None] * self._g(alphas)).T

    def rss(self, alphas) -> np.ndarray:
        """Weighted training residual sum of squares, shape (n_alphas, t).

        ``RSS = y_c'Sy_c - sum_j q_j^2 (d_j + 2 alpha) / (d_j + alpha)^2``.
        """
        alphas = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
        g = self._g(alphas)
        factor = g * (1.0 + alphas[None, :] * g)  # (d + 2 alpha) / (d + alpha)^2, (r, a)
        rss = self.yy[None, :] - factor.T @ self.q**2
        return np.maximum(rss, 0.0)

    def gcv(self, alphas) -> np.ndarray:
        """Generalized cross-validation ``(RSS/n) / (1 - tr(H)/n)^2``, shape (n_alphas, t).

        ``tr(H) = df + 1`` with an intercept. Infinite where ``tr(H) >= n``.
        """
        n = self.n_samples
        trace = self.df(alphas) + (1.0 if self.fit_intercept else 0.0)
        denom = (1.0 - trace / n) ** 2
        with np.errstate(divide="ignore"):
            out = (self.rss(alphas) / n) / denom[:, None]
        out[trace >= n - 1e-9 * n] = np.inf
        return out

    def projections(self, X_rows) -> np.ndarray:
        """``t_i = V'(x_i - x_mean)`` for a block of rows (dense or sparse)."""
        if self.basis is None:
            # dual: (rows - x_mean) X_c' B through the m x n kernel block, V never formed
            X, B = self.dual_basis
            rows = X_rows if sp.issparse(X_rows) else np.asarray(X_rows, dtype=np.float64)
            a = np.asarray(X @ self.x_mean).ravel()  # (n,)
            kr = np.asarray(rows @ X.T)
            if sp.issparse(kr):
                kr = kr.toarray()
            kr = np.asarray(kr, dtype=np.float64)
            kr -= a[None, :]
            kr -= (np.asarray(rows @ self.x_mean).ravel() - self.x_mean @ self.x_mean)[:, None]
            return kr @ B
        V = self.eigenvectors
        out = np.asarray(X_rows @ V) if sp.issparse(X_rows) else np.asarray(
            X_rows, dtype=np.float64) @ V
        out -= self.x_mean @ V
        return out

    def alpha_basis(self, alphas, max_rel_error: float = 1e-13
                    ) -> tuple[np.ndarray, np.ndarray] | None:
        """``1 / (d_j + alpha_k) = (A B)_jk`` of low rank k, or None.

        The matrix of inverse shifted eigenvalues (r x n_alphas) is numerically of low rank
        when the eigenvalues and the alphas are separated (often 10-15 for 100 alphas). Its
        truncated SVD, after scaling rows and columns to a unit maximum, is accepted only if
        every entry is reproduced to ``max_rel_error`` relative (checked, not assumed). Since
        the leverages ``sum_j t_ij^2 / (d_j + alpha)`` have non-negative terms, they inherit
        that relative accuracy, which is that of the matrix products themselves. The rank must
        also be low enough that ``(T**2 A) B`` costs less than ``T**2 G``.

        Parameters
        ----------
        alphas : array-like of shape (n_alphas,)
        max_rel_error : float
            Largest accepted relative error of any entry.

        Returns
        -------
        (A, B) : ndarrays of shape (r, k) and (k, n_alphas), or None
        """
        g = self._g(alphas)
        r, a = g.shape
        limit = int(0.6 * r * a / (r + a))  # rank below which the two products are cheaper
        if limit < 8 or not np.all(np.isfinite(g)):
            return None
        row = 1.0 / g.max(axis=1)
        col = 1.0 / (g * row[:, None]).max(axis=0)
        with small_dense(a):
            u, sv, vt = np.linalg.svd(g * row[:, None] * col[None, :], full_matrices=False)
        for k in range(8, min(limit, sv.size) + 1, 4):
            left, right = (u[:, :k] * sv[:k]) / row[:, None], vt[:k] / col[None, :]
            if np.max(np.abs(left @ right - g) / g) <= max_rel_error:
                return left, right
        return None

    def loo_blocks(self, X, y, sample_weight=None, alphas=None, chunk_rows=None,
                   projections=None):
        """Exact leave-one-out residuals, yielded in row blocks ``(start, stop, e_loo)``.

        ``e_loo`` has shape (rows, n_alphas, t): ``(y_i - yhat_i) / (1 - h_i)``. Rows with full
        leverage (``h_i = 1``, possible only at alpha = 0) give infinite residuals.
        ``projections`` may hold ``self.projections(X)`` computed once, to skip that cost when
        the same data are scored for many alpha batches. The blocks are fresh arrays that the
        caller may overwrite.
        """
        alphas = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
        y2 = _as_2d(np.asarray(y, dtype=np.float64))
        n, t = y2.shape
        if sample_weight is not None and np.all(sample_weight == 1.0):
            sample_weight = None
        basis = self.alpha_basis(alphas)
        g, right = (self._g(alphas), None) if basis is None else basis  # g: (r, k)
        k = g.shape[1]
        zq = (g[:, :, None] * self.q[:, None, :]).reshape(self.rank, k * t)  # (r, k*t)
        if chunk_rows is None:
            chunk_rows = max(64, _CHUNK_ELEMENTS // max(alphas.size * t, self.rank, 1))
        for start in range(0, n, chunk_rows):
            stop = min(start + chunk_rows, n)
            tc = (self.projections(X[start:stop]) if projections is None
                  else projections[start:stop])
            h = np.square(tc) @ g
            pred = (tc @ zq).reshape(stop - start, k, t)
            if right is not None:
                h = h @ right
                pred = np.matmul(right.T, pred)  # (rows, a, t)
            if sample_weight is None:
                if self.fit_intercept:
                    h += 1.0 / self.weight_sum
            else:
                s = sample_weight[start:stop, None]
                h *= s
                if self.fit_intercept:
                    h += s / self.weight_sum
            resid = np.subtract((y2[start:stop] - self.y_mean)[:, None, :], pred, out=pred)
            with np.errstate(divide="ignore", invalid="ignore"):
                resid /= np.subtract(1.0, h, out=h)[:, :, None]
            yield start, stop, resid

    def test_sse(self, test: GramStats, alphas, out: np.ndarray | None = None) -> np.ndarray:
        """Weighted squared error on held-out rows given only their ``GramStats``.

        With held-out means ``m_x, m_y``, co-moments ``C`` and ``delta = m - mean_train``:
        ``SSE = C_yy - 2 w'C_xy + w'C_xx w + W_test (delta_y - delta_x'w)^2``, evaluated in the
        eigenbasis, so the cost is O(r^2 * n_alphas * t) and independent of the held-out size.
        Returns shape (n_alphas, t).
        """
        alphas = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
        V = self.eigenvectors
        m = V.T @ test.xx @ V  # (r, r)
        bvec = V.T @ test.xy  # (r, t)
        dx = V.T @ (test.x_mean - self.x_mean)  # (r,)
        dy = test.y_mean - self.y_mean  # (t,)
        g = self._g(alphas)  # (r, a)
        r, t = self.q.shape
        sse = np.empty((alphas.size, t)) if out is None else out
        step = max(1, _CHUNK_ELEMENTS // max(r * alphas.size, 1))
        for j0 in range(0, t, step):
            cols = slice(j0, min(j0 + step, t))
            z = g[:, :, None] * self.q[:, None, cols]  # (r, a, tc)
            mz = (m @ z.reshape(r, z.shape[1] * z.shape[2])).reshape(z.shape)
            quad = np.einsum("rat,rat->at", z, mz)
            lin = np.einsum("rat,rt->at", z, bvec[:, cols])
            shift = dy[cols][None, :] - np.einsum("rat,r->at", z, dx)
            yy = np.diag(test.yy)[cols]
            sse[:, cols] = yy[None, :] - 2 * lin + quad + test.weight_sum * shift**2
        return np.maximum(sse, 0.0)
