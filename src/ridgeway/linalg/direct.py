"""One-alpha ridge solves: Cholesky (primal or dual), SVD, and refined QR for full accuracy.

All solve

    min_{w, b}  1/2 * sum_i s_i (y_i - x_i.w - b)^2  +  1/2 * sum_j lambda_j w_j^2 ,

with ``lambda_j = alpha * pf_j`` (``pf`` the per-feature penalty factors, default 1), the
intercept ``b`` unpenalized (or absent), for every column of ``y`` (one alpha per column
allowed). Centering replaces the intercept column everywhere except in :func:`solve_refined`,
which keeps the exact column of ones so that no rounding enters the design.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from . import _dd
from ._threads import small_dense
from .gram import GramStats

EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class RidgeSolution:
    """Result of a ridge solve.

    Attributes
    ----------
    coef : ndarray of shape (p, t)
    intercept : ndarray of shape (t,)
    solver : str
        The method that produced the solution.
    n_iter : int or None
        Iterations (refinement steps or Krylov iterations), None for direct solves.
    rcond : float or None
        Reciprocal condition number estimate of the scaled system, where one was computed.
    """

    coef: np.ndarray
    intercept: np.ndarray
    solver: str
    n_iter: int | None = None
    rcond: float | None = None


def _alpha_groups(alphas: np.ndarray, n_targets: int):
    """Yield ``(alpha, target_indices)`` for each distinct alpha."""
    alphas = np.broadcast_to(np.asarray(alphas, dtype=np.float64), (n_targets,))
    for value in np.unique(alphas):
        yield float(value), np.flatnonzero(alphas == value)


def moments(stats: GramStats, fit_intercept: bool):
    """``(xx, xy, x_mean, y_mean)``: centered moments, or raw ones without an intercept."""
    if fit_intercept:
        return stats.xx, stats.xy, stats.x_mean, stats.y_mean
    W = stats.weight_sum
    xx = stats.xx + W * np.outer(stats.x_mean, stats.x_mean)
    xy = stats.xy + W * np.outer(stats.x_mean, stats.y_mean)
    return xx, xy, np.zeros_like(stats.x_mean), np.zeros_like(stats.y_mean)


def _pinv_solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with small_dense(a.shape[0]):
        d, v = np.linalg.eigh(a)
    keep = d > 10 * a.shape[0] * EPS * max(d[-1], 0.0)
    return v[:, keep] @ ((v[:, keep].T @ b) / d[keep, None])


def solve_gram(
    stats: GramStats,
    alphas: np.ndarray,
    penalty_factor: np.ndarray | None = None,
    *,
    fit_intercept: bool = True,
    rhs: np.ndarray | None = None,
) -> RidgeSolution:
    """Primal solve ``(X_c'SX_c + alpha diag(pf)) w = X_c'Sy_c`` by a scaled Cholesky.

    ``rhs`` (p, t) replaces ``X_c'Sy_c`` (a correction step solves with the same matrix).

    The system is scaled to unit diagonal before factorizing (better pivots, and an rcond that
    measures the conditioning of the problem rather than of its units). If the matrix is not
    numerically positive definite (rcond below ``10 p eps``: alpha = 0 with rank-deficient X)
    the minimum-norm solution is returned through an eigendecomposition. ``rcond`` of the
    result is LAPACK's ``pocon`` estimate.
    """
    xx, xy, x_mean, y_mean = moments(stats, fit_intercept)
    if rhs is not None:
        xy = rhs
    p, t = xy.shape
    pf = np.ones(p) if penalty_factor is None else penalty_factor
    coef = np.empty((p, t))
    rconds = []
    for alpha, cols in _alpha_groups(alphas, t):
        a = xx + np.diag(alpha * pf)
        scale = np.sqrt(np.diag(a))
        scale[scale <= 0] = 1.0
        a_s = a / np.outer(scale, scale)
        b_s = xy[:, cols] / scale[:, None]
        try:
            with small_dense(p):
                c, lower = sla.cho_factor(a_s, lower=False, check_finite=False)
                rcond, _ = sla.lapack.dpocon(c, np.abs(a_s).sum(axis=0).max())
                if rcond < 10 * p * EPS:
                    raise np.linalg.LinAlgError
                solved = sla.cho_solve((c, lower), b_s, check_finite=False)
            coef[:, cols] = solved / scale[:, None]
        except np.linalg.LinAlgError:
            rcond = 0.0
            coef[:, cols] = _pinv_solve(a, xy[:, cols])  # unscaled: minimum norm of w itself
        rconds.append(float(rcond))
    intercept = y_mean - x_mean @ coef if rhs is None else np.zeros(t)
    return RidgeSolution(coef, intercept, "cholesky", None, min(rconds))


def weighted_means(X, y2: np.ndarray, s: np.ndarray, fit_intercept: bool):
    """``(x_mean, y_mean, W)``: weighted means (zeros without an intercept), ``W = sum s``."""
    W = float(np.sum(s))
    if not fit_intercept:
        return np.zeros(X.shape[1]), np.zeros(y2.shape[1]), W
    return np.asarray(s @ X).ravel() / W, s @ y2 / W, W


def centered_rows(X: np.ndarray, x_mean: np.ndarray, root: np.ndarray) -> np.ndarray:
    """``S^1/2 (X - 1 x_mean')`` as one new float64 array (no second temporary)."""
    Xc = np.subtract(X, x_mean, dtype=np.float64)
    if not np.all(root == 1.0):
        Xc *= root[:, None]
    return Xc


def weighted_kernel(X, x_mean: np.ndarray, root: np.ndarray) -> np.ndarray:
    """``K = S^1/2 X_c X_c' S^1/2`` (n x n, float64); sparse X is centered implicitly."""
    if not sp.issparse(X):
        Xc = centered_rows(X, x_mean, root)
        return Xc @ Xc.T
    X = X.astype(np.float64, copy=False)
    a = np.asarray(X @ x_mean).ravel()
    K = np.asarray((X @ X.T).toarray()) - a[:, None] - a[None, :] + x_mean @ x_mean
    return root[:, None] * K * root[None, :]


def solve_dual(X, y2: np.ndarray, s: np.ndarray, alphas, *, fit_intercept=True) -> RidgeSolution:
    """Dual (kernel) solve for n < p: ``w = X_c'S^1/2 (K + alpha I)^-1 S^1/2 y_c``.

    ``K = S^1/2 X_c X_c' S^1/2`` is n x n; a constant alpha per target group. Requires alpha > 0
    (alpha = 0 falls back to the pseudo-inverse, i.e. minimum-norm least squares).
    """
    x_mean, y_mean, _ = weighted_means(X, y2, s, fit_intercept)
    root = np.sqrt(s)
    K = weighted_kernel(X, x_mean, root)
    rhs = root[:, None] * (y2 - y_mean)
    coef = np.empty((X.shape[1], y2.shape[1]))
    for alpha, cols in _alpha_groups(alphas, y2.shape[1]):
        try:
            if alpha <= 0:
                raise np.linalg.LinAlgError
            with small_dense(K.shape[0]):
                c = sla.cho_factor(K + alpha * np.eye(K.shape[0]), check_finite=False)
                dual = sla.cho_solve(c, rhs[:, cols], check_finite=False)
        except np.linalg.LinAlgError:
            dual = _pinv_solve(K + alpha * np.eye(K.shape[0]), rhs[:, cols])
        u = root[:, None] * dual
        coef[:, cols] = np.asarray(X.T @ u) - np.outer(x_mean, u.sum(axis=0))
    return RidgeSolution(coef, y_mean - x_mean @ coef, "cholesky-dual")


def solve_svd(X, y2, s, alphas, penalty_factor=None, *, fit_intercept=True) -> RidgeSolution:
    """SVD of ``S^1/2 X_c D^-1/2`` (``D = diag(pf)``, which must then be positive).

    ``w = D^-1/2 V diag(sigma / (sigma^2 + alpha)) U' S^1/2 y_c``; singular values below
    ``max(n, p) * eps * sigma_max`` are treated as zero (minimum-norm at alpha = 0).
    """
    if penalty_factor is not None and np.any(penalty_factor <= 0):
        raise ValueError(
            "solver='svd' needs strictly positive penalty factors; use solver='cholesky' for "
            "unpenalized features."
        )
    x_mean, y_mean, _ = weighted_means(X, y2, s, fit_intercept)
    root = np.sqrt(s)
    scale = np.ones(X.shape[1]) if penalty_factor is None else np.sqrt(penalty_factor)
    A = ((X - x_mean) * root[:, None]) / scale
    u, sig, vt = np.linalg.svd(A, full_matrices=False)
    keep = sig > max(A.shape) * EPS * (sig[0] if sig.size else 0.0)
    u, sig, vt = u[:, keep], sig[keep], vt[keep]
    uty = u.T @ (root[:, None] * (y2 - y_mean))
    coef = np.empty((X.shape[1], y2.shape[1]))
    for alpha, cols in _alpha_groups(alphas, y2.shape[1]):
        coef[:, cols] = (vt.T @ ((sig / (sig**2 + alpha))[:, None] * uty[:, cols]))
    coef /= scale[:, None]
    return RidgeSolution(coef, y_mean - x_mean @ coef, "svd")


def _dd_residual(A, x, y, r, chunk):
    """``y - r - A x`` in double-double, rounded to float64, in row chunks."""
    out = np.empty_like(y)
    for i in range(0, A.shape[0], chunk):
        rows = slice(i, i + chunk)
        ph, pl = _dd.dd_matvec(A[rows], x)
        sh, sl = _dd.two_sum(y[rows], -r[rows])
        fh, fl = _dd.dd_add(sh, sl, -ph, -pl)
        out[rows] = fh + fl
    return out


def _dd_gradient(A, s, r, lam, x, chunk):
    """``lam * x - A' S r`` in double-double, rounded to float64."""
    gh, gl = _dd.two_prod(lam, x)
    for i in range(0, A.shape[0], chunk):
        rows = slice(i, i + chunk)
        uh, ul = _dd.two_prod(s[rows], r[rows])
        th, tl = _dd.dd_matvec(A[rows].T, uh, ul)
        gh, gl = _dd.dd_add(gh, gl, -th, -tl)
    return gh + gl


def solve_refined(
    X: np.ndarray,
    y2: np.ndarray,
    s: np.ndarray,
    alphas,
    penalty_factor: np.ndarray | None = None,
    *,
    fit_intercept: bool = True,
    max_iter: int = 30,
) -> RidgeSolution | None:
    """Least squares with iterative refinement of the augmented system (Björck, 1967).

    Solves ``r + A x = y``, ``A'S r - Lambda x = 0`` for ``A = [1, X]`` (the exact column of
    ones, no centering), ``Lambda = diag(0, alpha pf)``. Each step computes the residuals of
    both equations in double-double arithmetic from the original data, then a correction from
    the Householder QR of the column-scaled ``[S^1/2 A; Lambda^1/2]``:
    ``dx = R^-1 (Q_1' S^1/2 f - R^-T g)``, ``dr = f - A dx``. The error contracts by about
    ``cond(A) * eps`` per step even when the residual is large, so the result is as accurate
    as the float64 data allow. Returns ``None`` if the scaled problem is numerically rank
    deficient (refinement cannot converge; use the minimum-norm solvers then).
    """
    n, p = X.shape
    A = np.hstack([np.ones((n, 1)), X]) if fit_intercept else np.array(X, dtype=np.float64)
    k = A.shape[1]
    pf = np.ones(p) if penalty_factor is None else penalty_factor
    chunk = max(64, 2**20 // max(k, 1))
    root = np.sqrt(s)
    coef = np.empty((k, y2.shape[1]))
    n_iter = 0
    for alpha, cols in _alpha_groups(alphas, y2.shape[1]):
        lam = np.concatenate([[0.0] * (k - p), alpha * pf])
        scale = np.sqrt(np.einsum("ij,ij->j", A, A * s[:, None]) + lam)
        scale[scale <= 0] = 1.0
        At = np.vstack([A * root[:, None], np.diag(np.sqrt(lam))]) / scale
        Q, R = np.linalg.qr(At)
        diag = np.abs(np.diag(R))
        if diag.min() <= 1e3 * k * EPS * diag.max():
            return None
        q_top = Q[:n]
        for j in cols:
            x = np.zeros(k)
            r = np.zeros(n)
            previous = np.inf
            for it in range(1, max_iter + 1):
                f = _dd_residual(A, x, y2[:, j], r, chunk)
                g = _dd_gradient(A, s, r, lam, x, chunk) / scale
                gt = sla.solve_triangular(R, g, trans="T", check_finite=False)
                dx = sla.solve_triangular(R, q_top.T @ (root * f) - gt, check_finite=False)
                dx /= scale
                x += dx
                r += f - A @ dx
                size = np.max(np.abs(dx) / np.maximum(np.abs(x), np.finfo(float).tiny))
                if size <= 2 * EPS or (it > 3 and size >= 0.5 * previous):
                    break
                previous = size
            n_iter = max(n_iter, it)
            coef[:, j] = x
    if fit_intercept:
        return RidgeSolution(coef[1:], coef[0], "refine", n_iter)
    return RidgeSolution(coef, np.zeros(y2.shape[1]), "refine", n_iter)
